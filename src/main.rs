//! The `slotd` binary: parse arguments and configuration, run the server, exit with its code.

/// jemalloc (or the allocator a cargo feature picks), counted for `used_memory`.
#[global_allocator]
static ALLOCATOR: slotd::api::Allocator = slotd::api::Allocator::new();

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(slotd::api::main_with_args(&args));
}
