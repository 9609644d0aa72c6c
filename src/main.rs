//! The `slotd` binary: parse arguments and configuration, run the server, exit with its code.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(slotd::api::main_with_args(&args));
}
