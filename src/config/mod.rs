//! Configuration: redis.conf-style files, standard input and `--directive value` command-line
//! overrides, validated with file:line errors in Redis' shape, and CONFIG GET/SET. What each
//! Redis 7.0 directive does in slotd (enforced, no effect, refused) is declared once in
//! `table`; values of directives without a typed field are kept in CONFIG GET's form.

use crate::log::LogLevel;
use crate::resp::ReplyError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub mod announce;
pub mod fdlimit;
pub mod keyspace_events;
pub mod obuf;
pub mod rewrite;
pub mod stream_nodes;
mod table;

#[cfg(test)]
use table::reference_table;
use table::Kind::{Bool, Enum, Int, Line, Mem, Special, Str, Typed};
pub(crate) use table::DEFAULT_SAVE;
use table::{Access, Directive, Status, DIRECTIVES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    Everysec,
    No,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The file given on the command line, if any (absolute path).
    pub config_file: Option<PathBuf>,
    pub bind: Vec<String>,
    pub port: u16,
    pub tcp_backlog: u32,
    /// Absolute after `load` (Redis changes into it at start; the server must do the same).
    pub dir: PathBuf,
    pub daemonize: bool,
    pub pidfile: Option<PathBuf>,
    /// Empty: log to standard output.
    pub logfile: String,
    pub loglevel: LogLevel,
    pub maxclients: u64,
    pub timeout_s: u64,
    pub tcp_keepalive_s: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub requirepass: Option<Vec<u8>>,
    pub databases: u32,
    /// Already clamped to 1..=500 as Redis does.
    pub hz: u32,
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout_ms: u64,
    /// 0: port + 10000.
    pub cluster_port: u16,
    pub cluster_announce_ip: String,
    pub cluster_announce_port: u16,
    pub cluster_announce_bus_port: u16,
    pub cluster_require_full_coverage: bool,
    pub cluster_allow_reads_when_down: bool,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    pub appenddirname: String,
    pub appendfilename: String,
    /// Shard executors. 0 means "auto": one per CPU in `server-cpus` (or 1 without pinning).
    pub server_threads: usize,
    /// Opt-in pinning: shard i runs on server_cpus[i % len].
    pub server_cpus: Option<Vec<usize>>,
    /// `rename-command` lines in order, lower case: (original name, new name or "" for
    /// removed). Applied to the command table once at start.
    pub renames: Vec<(String, String)>,
    /// Directives Redis knows but slotd ignores, by canonical name, once set (unset ones show
    /// Redis' default); CONFIG GET shows them so tools that read them keep working.
    pub unimplemented: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            config_file: None,
            bind: vec!["*".into(), "-::*".into()],
            port: 6379,
            tcp_backlog: 511,
            dir: PathBuf::from("."),
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            maxclients: 10000,
            timeout_s: 0,
            tcp_keepalive_s: 300,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            requirepass: None,
            databases: 16,
            hz: 10,
            cluster_enabled: false,
            cluster_config_file: "nodes.conf".into(),
            cluster_node_timeout_ms: 15000,
            cluster_port: 0,
            cluster_announce_ip: String::new(),
            cluster_announce_port: 0,
            cluster_announce_bus_port: 0,
            cluster_require_full_coverage: true,
            cluster_allow_reads_when_down: false,
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            server_threads: 1,
            server_cpus: None,
            renames: Vec::new(),
            unimplemented: BTreeMap::new(),
        }
    }
}

/// Result of loading: the config and the warnings to log once at start.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// `load` returns exactly this `Err` for `-v`/`--version` as the first argument: the caller
/// prints the version and exits 0. (An `Err`, so a caller that forgets cannot start serving.)
pub const VERSION_REQUESTED: &str = "slotd: version requested (-v/--version)";
/// `load` returns exactly this `Err` for `-h`/`--help` first: print `help_text()`, exit 0.
pub const HELP_REQUESTED: &str = "slotd: help requested (-h/--help)";

/// Usage text for `--help`.
pub fn help_text() -> &'static str {
    "Usage: slotd [/path/to/redis.conf] [options] [-]\n\
     \x20      slotd - (read the configuration from standard input)\n\
     \x20      slotd -v or --version\n\
     \x20      slotd -h or --help\n\
     \n\
     Any redis.conf directive can be given as an option: --name value [value ...].\n\
     Options are applied after the file (and standard input), so they win.\n\
     Directives slotd cannot honour yet are refused unless set to their defaults\n\
     (docs/config-reference.md lists each directive's status).\n\
     slotd's own: --server-threads N|auto   --server-cpus 0-3,6\n\
     \n\
     Examples:\n\
     \x20      slotd (run with the defaults)\n\
     \x20      slotd /etc/redis/7001.conf\n\
     \x20      slotd --port 7777\n\
     \x20      slotd --port 7001 --cluster-enabled yes --appendonly yes\n\
     \x20      slotd /etc/myredis.conf --loglevel verbose\n"
}

impl Config {
    /// A directive kept in the `unimplemented` store that slotd nevertheless reads (a few
    /// cluster and AOF settings), or `default` when unset.
    pub fn stored(&self, name: &str, default: &str) -> String {
        self.unimplemented
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }
    /// A stored yes/no directive.
    pub fn stored_bool(&self, name: &str, default: bool) -> bool {
        match self.unimplemented.get(name).map(String::as_str) {
            Some(v) => v.eq_ignore_ascii_case("yes"),
            None => default,
        }
    }
    /// A stored integer directive.
    pub fn stored_i64(&self, name: &str, default: i64) -> i64 {
        self.unimplemented
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// `busy-reply-threshold` (alias `lua-time-limit`) in milliseconds: how long a script or
/// function runs before its shard answers other commands with -BUSY (0: at once).
pub fn busy_reply_threshold_ms(c: &Config) -> u64 {
    c.stored_i64("busy-reply-threshold", 5000).max(0) as u64
}

/// `hll-sparse-max-bytes`: the size past which a sparse HyperLogLog turns dense.
pub fn hll_sparse_max_bytes(c: &Config) -> u64 {
    c.stored_i64("hll-sparse-max-bytes", 3000).max(0) as u64
}

/// Deepest chain of `include` lines followed (Redis has no limit and crashes on a cycle).
const MAX_INCLUDE_DEPTH: usize = 16;
/// Most addresses one `bind` line may list, as in Redis.
const MAX_BIND_ADDRS: usize = 16;
/// Highest CPU number `server-cpus` accepts; bounds the expansion of `a-b` ranges.
const MAX_CPU_ID: usize = 4095;
/// Most files one glob `include` may pull in.
const MAX_INCLUDE_MATCHES: usize = 1024;

/// Redis' reason texts, shared by the file loader and CONFIG SET.
const ERR_INT: &str = "argument couldn't be parsed into an integer";
const ERR_MEM: &str = "argument must be a memory value";
const ERR_BOOL: &str = "argument must be 'yes' or 'no'";
const ERR_NARGS: &str = "wrong number of arguments";
const ERR_BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";
const ERR_QUOTES: &str = "Unbalanced quotes in configuration line";
const ERR_SAVE: &str = "Invalid save parameters";

/// Where a configuration line came from, for the second line of the fatal error.
#[derive(Clone, Debug)]
enum Origin {
    File(String),
    Stdin,
    CommandLine,
}

impl Origin {
    fn describe(&self, line_no: usize) -> String {
        match self {
            Origin::File(path) => {
                format!("Reading the configuration file {path}, at line {line_no}")
            }
            Origin::Stdin => {
                format!("Reading the configuration from standard input, at line {line_no}")
            }
            Origin::CommandLine => {
                format!("Reading the configuration from the command line, at option {line_no}")
            }
        }
    }
}

/// The start-up error in the shape redis-server prints it.
fn fatal(origin: &Origin, line_no: usize, line: &str, reason: &str) -> String {
    format!(
        "*** FATAL CONFIG FILE ERROR (slotd) ***\n{}\n>>> '{line}'\n{reason}",
        origin.describe(line_no)
    )
}

/// A directive's failure: a reason to wrap with the line it came from, or an error that is
/// already complete (from an included file, or an unreadable one).
enum Failure {
    Reason(String),
    Complete(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Reason(reason)
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Self {
        Failure::Reason(reason.to_string())
    }
}

/// The command line taken apart: config file, whether to read standard input, and the
/// `--name value` options as configuration lines (values quoted so they re-split exactly).
#[derive(Debug, Default, PartialEq)]
struct Invocation {
    file: Option<String>,
    stdin: bool,
    lines: Vec<String>,
}

fn parse_invocation(args: &[String]) -> Result<Invocation, String> {
    match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => return Err(VERSION_REQUESTED.into()),
        Some("-h") | Some("--help") => return Err(HELP_REQUESTED.into()),
        _ => {}
    }
    let mut inv = Invocation::default();
    let mut rest = args;
    if let Some(first) = args.first().filter(|a| !a.starts_with('-')) {
        inv.file = Some(first.clone());
        rest = &args[1..];
    }
    // After a bare `--name`, the next argument is its value even if it starts with `--`.
    let mut awaiting_value = false;
    for (i, arg) in rest.iter().enumerate() {
        let first_overall = i == 0 && inv.file.is_none();
        if arg == "-" && (first_overall || i + 1 == rest.len()) {
            inv.stdin = true;
        } else if !awaiting_value && arg.starts_with("--") {
            inv.lines.push(format!("{} ", &arg[2..]));
            awaiting_value = split_args(arg).is_none_or(|v| v.len() < 2);
            let next_is_option = rest.get(i + 1).is_none_or(|n| n.starts_with("--"));
            // `--save` with nothing after it means "no snapshots", as in Redis 7.0.1+.
            if awaiting_value && next_is_option && arg.eq_ignore_ascii_case("--save") {
                push_value(&mut inv.lines, "\"\"");
                awaiting_value = false;
            }
        } else {
            push_value(&mut inv.lines, &repr(arg));
            awaiting_value = false;
        }
    }
    Ok(inv)
}

fn push_value(lines: &mut Vec<String>, quoted: &str) {
    if lines.is_empty() {
        lines.push(String::new());
    }
    if let Some(line) = lines.last_mut() {
        line.push_str(quoted);
        line.push(' ');
    }
}

/// Parses `slotd [config-file] [-] [--directive value ...]` and reads the files it names.
/// `Err` is the complete message to print before exiting 1, except the two sentinels
/// `VERSION_REQUESTED` and `HELP_REQUESTED`, which ask the caller to print and exit 0.
#[cfg(test)]
pub fn load(args: &[String]) -> Result<Loaded, String> {
    load_checked(args, None)
}

/// `load`, checking `rename-command` lines with `command_exists` (the server's command table).
pub fn load_checked(
    args: &[String],
    command_exists: Option<fn(&str) -> bool>,
) -> Result<Loaded, String> {
    let inv = parse_invocation(args)?;
    let mut loader = Loader::new()?;
    loader.command_exists = command_exists;
    if let Some(file) = &inv.file {
        let abs = loader.resolve(file);
        loader.cfg.config_file = Some(std::fs::canonicalize(&abs).unwrap_or(abs));
        loader.read_file(file).map_err(failure_text)?;
    }
    if inv.stdin {
        let mut text = Vec::new();
        std::io::stdin().read_to_end(&mut text).map_err(|e| {
            format!(
                "Fatal error, can't read config from stdin: {}",
                os_reason(&e)
            )
        })?;
        loader.run_text(&String::from_utf8_lossy(&text), &Origin::Stdin)?;
    }
    for (i, line) in inv.lines.iter().enumerate() {
        loader.run_line(line, &Origin::CommandLine, i + 1)?;
    }
    Ok(Loaded {
        config: loader.cfg,
        warnings: loader.warnings,
    })
}

fn failure_text(f: Failure) -> String {
    match f {
        Failure::Reason(s) | Failure::Complete(s) => s,
    }
}

/// An I/O error's text without Rust's " (os error N)" suffix: Redis prints strerror().
fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Applies lines in order, tracking what Redis tracks while it reads: the working directory
/// (`dir` changes it, and later relative paths follow), the include chain, and whether
/// `save` has replaced its defaults yet.
struct Loader {
    cfg: Config,
    warnings: Vec<String>,
    noted: Vec<&'static str>,
    /// Tells whether a command name exists (for rename-command); None accepts none.
    command_exists: Option<fn(&str) -> bool>,
    include_chain: Vec<PathBuf>,
    save_reset: bool,
}

impl Loader {
    fn new() -> Result<Loader, String> {
        let cwd = std::env::current_dir()
            .map_err(|e| format!("Can't read the working directory: {}", os_reason(&e)))?;
        let cfg = Config {
            dir: cwd,
            ..Config::default()
        };
        Ok(Loader {
            cfg,
            warnings: Vec::new(),
            noted: Vec::new(),
            command_exists: None,
            include_chain: Vec::new(),
            save_reset: false,
        })
    }

    fn resolve(&self, path: &str) -> PathBuf {
        resolve_in(&self.cfg.dir, path)
    }

    /// Reads and applies one file (the main one or an include) as its own origin.
    fn read_file(&mut self, path: &str) -> Result<(), Failure> {
        let full = self.resolve(path);
        let bytes = std::fs::read(&full).map_err(|e| {
            let reason = os_reason(&e);
            Failure::Complete(format!(
                "Fatal error, can't open config file '{path}': {reason}"
            ))
        })?;
        let identity = std::fs::canonicalize(&full).unwrap_or(full);
        if self.include_chain.contains(&identity) {
            return Err(format!("include cycle: '{path}' is already being read").into());
        }
        if self.include_chain.len() >= MAX_INCLUDE_DEPTH {
            return Err(format!("includes nested more than {MAX_INCLUDE_DEPTH} deep").into());
        }
        self.include_chain.push(identity);
        let text = String::from_utf8_lossy(&bytes);
        let result = self.run_text(&text, &Origin::File(path.to_string()));
        self.include_chain.pop();
        result.map_err(Failure::Complete)
    }

    fn run_text(&mut self, text: &str, origin: &Origin) -> Result<(), String> {
        for (i, line) in text.split('\n').enumerate() {
            self.run_line(line, origin, i + 1)?;
        }
        Ok(())
    }

    fn run_line(&mut self, raw: &str, origin: &Origin, line_no: usize) -> Result<(), String> {
        let line = raw.trim_matches([' ', '\t', '\r', '\n']);
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let argv = split_args(line).ok_or_else(|| fatal(origin, line_no, line, ERR_QUOTES))?;
        if argv.is_empty() {
            return Ok(());
        }
        match self.directive(&argv) {
            Ok(()) => Ok(()),
            Err(Failure::Reason(reason)) => Err(fatal(origin, line_no, line, &reason)),
            Err(Failure::Complete(text)) => Err(text),
        }
    }

    fn directive(&mut self, argv: &[String]) -> Result<(), Failure> {
        let name = argv[0].to_ascii_lowercase();
        let values = &argv[1..];
        if name == "include" {
            return self.include(values);
        }
        if name == "sentinel" {
            return Err("sentinel directive while not in sentinel mode".into());
        }
        let Some(entry) = table::find(&name) else {
            return Err(ERR_BAD_DIRECTIVE.into());
        };
        let canonical = entry.name;
        match entry.access {
            Access::Deprecated => return Ok(()),
            Access::FileOnly => return self.file_only(entry, values),
            _ => {}
        }
        if canonical == "save" && !self.save_reset {
            // The first `save` read replaces Redis' default schedule; later ones add to it.
            self.cfg.unimplemented.insert("save".into(), String::new());
            self.save_reset = true;
        }
        // A lone non-empty value of a multi-value directive is split on spaces, so
        // `--save "900 1"` works like `save 900 1`, as in Redis.
        let split;
        let values = match values {
            [one] if is_multi_value(canonical) && !one.is_empty() => {
                split = one.split(' ').map(str::to_string).collect::<Vec<_>>();
                &split[..]
            }
            _ => values,
        };
        apply(&mut self.cfg, canonical, values, Via::Load)?;
        if let Status::NoEffect(why) = entry.status {
            self.note_no_effect(entry, why);
        }
        Ok(())
    }

    /// rename-command, user, loadmodule: lines that only files and the command line carry.
    fn file_only(&mut self, entry: &Directive, values: &[String]) -> Result<(), Failure> {
        match (entry.name, values) {
            ("rename-command", [from, to]) => self.rename(from, to),
            ("rename-command", _) => Err(ERR_BAD_DIRECTIVE.into()),
            (_, []) => Err(ERR_BAD_DIRECTIVE.into()),
            (name, _) => Err(refusal(name, entry.note()).into()),
        }
    }

    /// `rename-command NAME NEWNAME` (or `""` to remove NAME), checked in order against the
    /// command table as it stands after the earlier renames, with Redis' reason texts.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), Failure> {
        let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
        let exists = |renames: &[(String, String)], name: &str| {
            if renames.iter().any(|(_, t)| t == name) {
                return true;
            }
            let builtin = self.command_exists.is_some_and(|known| known(name));
            builtin && !renames.iter().any(|(f, _)| f == name)
        };
        if !exists(&self.cfg.renames, &from) {
            return Err("No such command in rename-command".into());
        }
        if !to.is_empty() && exists(&self.cfg.renames, &to) {
            return Err("Target command name already exists".into());
        }
        match self.cfg.renames.iter_mut().find(|(_, t)| *t == from) {
            // Renaming a renamed command again: the original now answers to the newest name.
            Some(earlier) => earlier.1 = to,
            None => self.cfg.renames.push((from, to)),
        }
        Ok(())
    }

    /// A directive with no effect in slotd, set to something other than its default: said
    /// once at start, with the reason it cannot matter.
    fn note_no_effect(&mut self, entry: &'static Directive, why: &str) {
        let value = self.cfg.unimplemented.get(entry.name);
        if value.is_none_or(|v| v == entry.default) || self.noted.contains(&entry.name) {
            return;
        }
        self.noted.push(entry.name);
        self.warnings.push(format!(
            "directive '{}' has no effect in slotd: {why}",
            entry.name
        ));
    }

    fn include(&mut self, values: &[String]) -> Result<(), Failure> {
        let [pattern] = values else {
            return Err(ERR_BAD_DIRECTIVE.into());
        };
        for path in self.expand_include(pattern)? {
            self.read_file(&path)?;
        }
        Ok(())
    }

    /// A plain path, or the sorted files matching wildcards in its last component (Redis
    /// 7.0 globs includes; no match is not an error).
    fn expand_include(&self, pattern: &str) -> Result<Vec<String>, Failure> {
        let has_glob = |s: &str| s.contains(['*', '?', '[']);
        if !has_glob(pattern) {
            return Ok(vec![pattern.to_string()]);
        }
        let (dir_part, file_glob) = match pattern.rfind('/') {
            Some(at) => (&pattern[..=at], &pattern[at + 1..]),
            None => ("", pattern),
        };
        if has_glob(dir_part) {
            return Err("include wildcards are supported in the file name only".into());
        }
        let Ok(entries) =
            std::fs::read_dir(self.resolve(if dir_part.is_empty() { "." } else { dir_part }))
        else {
            return Ok(Vec::new());
        };
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') || file_glob.starts_with('.'))
            .filter(|n| crate::glob::matches(file_glob.as_bytes(), n.as_bytes(), false))
            .take(MAX_INCLUDE_MATCHES)
            .map(|n| format!("{dir_part}{n}"))
            .collect();
        found.sort();
        Ok(found)
    }
}

fn resolve_in(cwd: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// C's isspace(), which Redis' argument splitter uses.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits a configuration line into arguments the way Redis does: whitespace separates,
/// "double quotes" allow \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' allow \'.
/// A closing quote must be followed by whitespace or the end. None: unbalanced quotes.
fn split_args(line: &str) -> Option<Vec<String>> {
    let bytes = line.as_bytes();
    let mut at = 0;
    let mut args = Vec::new();
    loop {
        while at < bytes.len() && is_space(bytes[at]) {
            at += 1;
        }
        if at >= bytes.len() {
            return Some(args);
        }
        let (arg, next) = read_arg(bytes, at)?;
        args.push(String::from_utf8_lossy(&arg).into_owned());
        at = next;
    }
}

/// One argument starting at `at`; returns it and the index just after it.
fn read_arg(bytes: &[u8], mut at: usize) -> Option<(Vec<u8>, usize)> {
    let mut arg = Vec::new();
    let mut quote: Option<u8> = None;
    loop {
        let Some(&c) = bytes.get(at) else {
            return quote.is_none().then_some((arg, at));
        };
        match quote {
            None if is_space(c) => return Some((arg, at)),
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None => arg.push(c),
            Some(q) if c == q => {
                let next = at + 1;
                return match bytes.get(next) {
                    Some(&n) if !is_space(n) => None,
                    _ => Some((arg, next)),
                };
            }
            Some(b'"') if c == b'\\' && at + 1 < bytes.len() => {
                at += 1;
                match hex_escape(bytes, at) {
                    Some(byte) => {
                        arg.push(byte);
                        at += 2;
                    }
                    None => arg.push(unescape(bytes[at])),
                }
            }
            Some(_) if c == b'\\' && bytes.get(at + 1) == Some(&b'\'') => {
                at += 1;
                arg.push(b'\'');
            }
            Some(_) => arg.push(c),
        }
        at += 1;
    }
}

/// `xHH` at `at` (just after a backslash): the byte it encodes.
fn hex_escape(bytes: &[u8], at: usize) -> Option<u8> {
    if bytes.get(at) != Some(&b'x') {
        return None;
    }
    let hi = (*bytes.get(at + 1)? as char).to_digit(16)?;
    let lo = (*bytes.get(at + 2)? as char).to_digit(16)?;
    Some((hi * 16 + lo) as u8)
}

fn unescape(c: u8) -> u8 {
    match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

/// Quotes a command-line value so `split_args` gives it back unchanged (Redis does the
/// same when it turns `--name value` into a configuration line).
fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// A strict decimal integer as Redis reads numbers: no sign but '-', no leading zeros, no
/// spaces, no overflow.
fn parse_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let clean = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !clean || (digits.starts_with('0') && s != "0") {
        return None;
    }
    s.parse().ok()
}

/// The factor of a memory unit (b, k=1000, kb=1024, m, mb, g, gb, any case; none = bytes).
fn mem_unit_scale(unit: &str) -> Option<u64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return None,
    })
}

/// A memory amount: digits then an optional unit (b, k=1000, kb=1024, m, mb, g, gb, any
/// case). Like Redis, missing digits read as 0 and huge numbers saturate.
fn parse_mem(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let scale = mem_unit_scale(unit)?;
    let n = number.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(n.saturating_mul(scale))
}

fn range_error(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// The only value of a single-value directive.
fn one(values: &[String]) -> Result<&str, String> {
    match values {
        [v] => Ok(v),
        _ => Err(ERR_NARGS.into()),
    }
}

fn int_in(values: &[String], min: i64, max: i64) -> Result<i64, String> {
    let n = parse_i64(one(values)?).ok_or(ERR_INT)?;
    if n < min || n > max {
        return Err(range_error(min, max));
    }
    Ok(n)
}

fn mem_in(values: &[String], min: u64, max: u64) -> Result<u64, String> {
    let n = parse_mem(one(values)?).ok_or(ERR_MEM)?;
    if n < min || n > max {
        return Err(range_error(min, max));
    }
    Ok(n)
}

fn bool_of(values: &[String]) -> Result<bool, String> {
    let v = one(values)?;
    if v.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(ERR_BOOL.into())
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn enum_error(names: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

/// Index of the value in `names` (case-insensitive).
fn enum_of(values: &[String], names: &[&str]) -> Result<usize, String> {
    let v = one(values)?;
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(v))
        .ok_or_else(|| enum_error(names))
}

/// A file name that must not contain a path, as Redis checks for the AOF names.
fn plain_name(values: &[String], what: &str, kind: &str) -> Result<String, String> {
    let v = one(values)?;
    if v.contains('/') {
        return Err(format!("{what} can't be a path, just a {kind}"));
    }
    Ok(v.to_string())
}

const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
const FSYNC_MODES: &[&str] = &["everysec", "always", "no"];
const INT_MAX: i64 = i32::MAX as i64;

/// Whether a load or a CONFIG SET is applying the value: `save` adds up while loading but
/// replaces at run time, and CONFIG SET hands multi-value parameters over as one string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Load,
    Set,
}

/// Applies one directive (canonical lower-case name) to `cfg`; Err is Redis' reason text.
fn apply(cfg: &mut Config, name: &str, values: &[String], via: Via) -> Result<(), String> {
    match table::find(name) {
        Some(p) if matches!(p.kind, Typed) => {
            set_typed(cfg, name, values).unwrap_or_else(|| Err(ERR_BAD_DIRECTIVE.into()))
        }
        Some(p) => set_stored(cfg, p, values, via),
        None => Err(ERR_BAD_DIRECTIVE.into()),
    }
}

fn set_typed(cfg: &mut Config, name: &str, v: &[String]) -> Option<Result<(), String>> {
    let port = |v: &[String]| int_in(v, 0, 65535).map(|n| n as u16);
    let big_mem = |v: &[String]| mem_in(v, 1 << 20, i64::MAX as u64);
    let text = |v: &[String]| one(v).map(str::to_string);
    let done = match name {
        "bind" => set_bind(cfg, v),
        "port" => port(v).map(|n| cfg.port = n),
        "tcp-backlog" => int_in(v, 0, INT_MAX).map(|n| cfg.tcp_backlog = n as u32),
        "dir" => set_dir(cfg, v),
        "daemonize" => bool_of(v).map(|b| cfg.daemonize = b),
        "pidfile" => text(v).map(|s| cfg.pidfile = (!s.is_empty()).then(|| s.into())),
        "logfile" => text(v).map(|s| cfg.logfile = s),
        "loglevel" => enum_of(v, LOGLEVELS).map(|i| cfg.loglevel = loglevel_at(i)),
        "maxclients" => int_in(v, 1, u32::MAX.into()).map(|n| cfg.maxclients = n as u64),
        "timeout" => int_in(v, 0, INT_MAX).map(|n| cfg.timeout_s = n as u64),
        "tcp-keepalive" => int_in(v, 0, INT_MAX).map(|n| cfg.tcp_keepalive_s = n as u64),
        // Keys are stored with a 32-bit length (keyspace::entry), so bulks stop at 4 GiB - 1.
        "proto-max-bulk-len" => big_mem(v).and_then(|n| {
            if n > u32::MAX as u64 {
                return Err(
                    "slotd stores key lengths in 32 bits, so this is at most 4gb - 1 \
                            (4294967295)"
                        .to_string(),
                );
            }
            cfg.proto_max_bulk_len = n;
            Ok(())
        }),
        "client-query-buffer-limit" => big_mem(v).map(|n| cfg.client_query_buffer_limit = n),
        "requirepass" => text(v).map(|s| cfg.requirepass = (!s.is_empty()).then(|| s.into())),
        "databases" => int_in(v, 1, INT_MAX).map(|n| cfg.databases = n as u32),
        // Redis takes any non-negative hz and then keeps it within 1..=500.
        "hz" => int_in(v, 0, INT_MAX).map(|n| cfg.hz = n.clamp(1, 500) as u32),
        _ => return set_cluster_or_aof(cfg, name, v),
    };
    Some(done)
}

fn set_cluster_or_aof(cfg: &mut Config, name: &str, v: &[String]) -> Option<Result<(), String>> {
    let port = |v: &[String]| int_in(v, 0, 65535).map(|n| n as u16);
    let text = |v: &[String]| one(v).map(str::to_string);
    let done = match name {
        "cluster-enabled" => bool_of(v).map(|b| cfg.cluster_enabled = b),
        "cluster-config-file" => text(v).map(|s| cfg.cluster_config_file = s),
        "cluster-node-timeout" => {
            int_in(v, 0, i64::MAX).map(|n| cfg.cluster_node_timeout_ms = n as u64)
        }
        "cluster-port" => port(v).map(|n| cfg.cluster_port = n),
        "cluster-announce-ip" => text(v).map(|s| cfg.cluster_announce_ip = s),
        "cluster-announce-port" => port(v).map(|n| cfg.cluster_announce_port = n),
        "cluster-announce-bus-port" => port(v).map(|n| cfg.cluster_announce_bus_port = n),
        "cluster-require-full-coverage" => {
            bool_of(v).map(|b| cfg.cluster_require_full_coverage = b)
        }
        "cluster-allow-reads-when-down" => {
            bool_of(v).map(|b| cfg.cluster_allow_reads_when_down = b)
        }
        "appendonly" => bool_of(v).map(|b| cfg.appendonly = b),
        "appendfsync" => enum_of(v, FSYNC_MODES).map(|i| cfg.appendfsync = fsync_at(i)),
        "appenddirname" => plain_name(v, "appenddirname", "dirname").map(|s| cfg.appenddirname = s),
        "appendfilename" => {
            plain_name(v, "appendfilename", "filename").map(|s| cfg.appendfilename = s)
        }
        "server-threads" => parse_threads(v).map(|n| cfg.server_threads = n),
        "server-cpus" => parse_cpus(one(v)).map(|c| cfg.server_cpus = c),
        _ => return None,
    };
    Some(done)
}

fn loglevel_at(i: usize) -> LogLevel {
    [
        LogLevel::Debug,
        LogLevel::Verbose,
        LogLevel::Notice,
        LogLevel::Warning,
    ][i]
}

fn fsync_at(i: usize) -> AppendFsync {
    [AppendFsync::Everysec, AppendFsync::Always, AppendFsync::No][i]
}

fn set_bind(cfg: &mut Config, values: &[String]) -> Result<(), String> {
    if values.len() > MAX_BIND_ADDRS {
        return Err("Too many bind addresses specified.".into());
    }
    cfg.bind = values.to_vec();
    Ok(())
}

/// `dir` must name an existing directory; relative names follow the previous `dir`, since
/// Redis changes into each one as it reads it.
fn set_dir(cfg: &mut Config, values: &[String]) -> Result<(), String> {
    let wanted = one(values)?;
    let base = absolute(&cfg.dir);
    let path = std::fs::canonicalize(resolve_in(&base, wanted)).map_err(|e| os_reason(&e))?;
    if !path.is_dir() {
        return Err("Not a directory".into());
    }
    cfg.dir = path;
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) if path == Path::new(".") => cwd,
        Ok(cwd) => cwd.join(path),
        Err(_) => path.to_path_buf(),
    }
}

/// `server-threads N` (1..=256) or `auto` (stored as 0).
fn parse_threads(values: &[String]) -> Result<usize, String> {
    let v = one(values)?;
    if v.eq_ignore_ascii_case("auto") {
        return Ok(0);
    }
    match parse_i64(v) {
        Some(n @ 1..=256) => Ok(n as usize),
        _ => Err("argument must be 'auto' or an integer between 1 and 256 inclusive".into()),
    }
}

/// `server-cpus 0-3,6`: CPU numbers and inclusive ranges, each CPU once. Empty: no pinning.
fn parse_cpus(value: Result<&str, String>) -> Result<Option<Vec<usize>>, String> {
    let text = value?;
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("argument must be a list of CPUs like 0-3,6 (each 0..={MAX_CPU_ID})");
    let cpu = |s: &str| {
        parse_i64(s)
            .filter(|&n| (0..=MAX_CPU_ID as i64).contains(&n))
            .map(|n| n as usize)
    };
    let mut seen = vec![false; MAX_CPU_ID + 1];
    let mut cpus = Vec::new();
    for part in text.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let (lo, hi) = (cpu(lo).ok_or_else(bad)?, cpu(hi).ok_or_else(bad)?);
        if lo > hi {
            return Err(bad());
        }
        for (c, was_seen) in seen.iter_mut().enumerate().take(hi + 1).skip(lo) {
            if std::mem::replace(was_seen, true) {
                return Err(format!("CPU {c} is listed more than once"));
            }
            cpus.push(c);
        }
    }
    Ok(Some(cpus))
}

/// The list back in its shortest form: runs of consecutive CPUs become `a-b`.
fn format_cpus(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// CONFIG GET's text for an implemented directive.
fn get_typed(cfg: &Config, name: &str) -> Option<String> {
    let value = match name {
        "bind" => cfg.bind.join(" "),
        "port" => cfg.port.to_string(),
        "tcp-backlog" => cfg.tcp_backlog.to_string(),
        "dir" => absolute(&cfg.dir).display().to_string(),
        "daemonize" => yes_no(cfg.daemonize),
        "pidfile" => cfg
            .pidfile
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string()),
        "logfile" => cfg.logfile.clone(),
        "loglevel" => loglevel_name(cfg.loglevel).to_string(),
        "maxclients" => cfg.maxclients.to_string(),
        "timeout" => cfg.timeout_s.to_string(),
        "tcp-keepalive" => cfg.tcp_keepalive_s.to_string(),
        "proto-max-bulk-len" => cfg.proto_max_bulk_len.to_string(),
        "client-query-buffer-limit" => cfg.client_query_buffer_limit.to_string(),
        "requirepass" => {
            String::from_utf8_lossy(cfg.requirepass.as_deref().unwrap_or(b"")).into_owned()
        }
        "databases" => cfg.databases.to_string(),
        "hz" => cfg.hz.to_string(),
        _ => return get_cluster_or_aof(cfg, name),
    };
    Some(value)
}

fn get_cluster_or_aof(cfg: &Config, name: &str) -> Option<String> {
    let value = match name {
        "cluster-enabled" => yes_no(cfg.cluster_enabled),
        "cluster-config-file" => cfg.cluster_config_file.clone(),
        "cluster-node-timeout" => cfg.cluster_node_timeout_ms.to_string(),
        "cluster-port" => cfg.cluster_port.to_string(),
        "cluster-announce-ip" => cfg.cluster_announce_ip.clone(),
        "cluster-announce-port" => cfg.cluster_announce_port.to_string(),
        "cluster-announce-bus-port" => cfg.cluster_announce_bus_port.to_string(),
        "cluster-require-full-coverage" => yes_no(cfg.cluster_require_full_coverage),
        "cluster-allow-reads-when-down" => yes_no(cfg.cluster_allow_reads_when_down),
        "appendonly" => yes_no(cfg.appendonly),
        "appendfsync" => fsync_name(cfg.appendfsync).to_string(),
        "appenddirname" => cfg.appenddirname.clone(),
        "appendfilename" => cfg.appendfilename.clone(),
        "server-threads" => match cfg.server_threads {
            0 => "auto".to_string(),
            n => n.to_string(),
        },
        "server-cpus" => cfg
            .server_cpus
            .as_deref()
            .map_or(String::new(), format_cpus),
        _ => return None,
    };
    Some(value)
}

fn loglevel_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Verbose => "verbose",
        LogLevel::Notice => "notice",
        LogLevel::Warning => "warning",
        LogLevel::Nothing => "nothing",
    }
}

fn fsync_name(mode: AppendFsync) -> &'static str {
    match mode {
        AppendFsync::Everysec => "everysec",
        AppendFsync::Always => "always",
        AppendFsync::No => "no",
    }
}

fn access_of(canonical: &str) -> Access {
    table::find(canonical).map_or(Access::Mutable, |d| d.access)
}

/// Checks a value of a stored (untyped) directive and stores it in CONFIG GET's form.
fn set_stored(cfg: &mut Config, p: &Directive, values: &[String], via: Via) -> Result<(), String> {
    let shown = match p.kind {
        Bool => yes_no(bool_of(values)?),
        Int(min, max) => int_in(values, min, max)?.to_string(),
        Mem(min, max) => mem_in(values, min, max)?.to_string(),
        Str => one(values)?.to_string(),
        Enum(names) => names[enum_of(values, names)?].to_string(),
        Special => special(cfg, p.name, values, via)?,
        Typed | Line => return Err(ERR_BAD_DIRECTIVE.into()),
    };
    if let Status::Refused(why) = p.status {
        if !refused_value_allowed(p, &shown) {
            return Err(refusal(p.name, why));
        }
    }
    cfg.unimplemented.insert(p.name.to_string(), shown);
    Ok(())
}

/// The value a refused directive may still take: its default, in the form CONFIG GET shows
/// (so `maxmemory 0mb` passes). `supervised auto` means `no` outside a supervisor, as Redis
/// decides from the environment.
fn refused_value_allowed(p: &Directive, shown: &str) -> bool {
    if p.name == "supervised" && shown == "auto" {
        return std::env::var_os("NOTIFY_SOCKET").is_none()
            && std::env::var_os("UPSTART_JOB").is_none();
    }
    shown == p.default
}

/// The reason text for a refused value (the loader adds file and line, CONFIG SET its prefix).
fn refusal(name: &str, why: &str) -> String {
    format!("'{name}' is not supported by slotd: {why}")
}

fn stored<'a>(cfg: &'a Config, p: &'a Directive) -> &'a str {
    cfg.unimplemented
        .get(p.name)
        .map_or(p.default, String::as_str)
}

/// Parameters with their own syntax; returns the text CONFIG GET will show.
fn special(cfg: &Config, name: &str, values: &[String], via: Via) -> Result<String, String> {
    let current = table::find(name).map_or("", |p| stored(cfg, p));
    match name {
        "save" => save_value(current, values, via),
        "client-output-buffer-limit" => output_limits(current, values),
        "oom-score-adj-values" => oom_values(values),
        "latency-tracking-info-percentiles" => percentiles(values),
        "maxmemory-clients" => mem_or_percent(one(values)?),
        "replicaof" => replicaof(values),
        "min-replicas-to-write" | "min-replicas-max-lag" => min_replicas_value(one(values)?),
        "cluster-announce-hostname" => announce::hostname_setting(one(values)?),
        "notify-keyspace-events" => keyspace_events::canonical(one(values)?),
        "unixsocketperm" => u32::from_str_radix(one(values)?, 8)
            .map(|perm| format!("{perm:o}"))
            .map_err(|_| "argument couldn't be parsed as an octal number".to_string()),
        _ => shutdown_flags(values),
    }
}

/// `save SECONDS CHANGES [...]` or `save ""`. While loading, lines add to the schedule.
fn save_value(current: &str, values: &[String], via: Via) -> Result<String, String> {
    if values.is_empty() && via == Via::Load {
        return Err(ERR_NARGS.into());
    }
    if values.is_empty() || values == [""] {
        return Ok(String::new());
    }
    if !values.len().is_multiple_of(2) {
        return Err(ERR_SAVE.into());
    }
    for (i, v) in values.iter().enumerate() {
        let least = if i % 2 == 0 { 1 } else { 0 };
        if parse_i64(v).is_none_or(|n| n < least) {
            return Err(ERR_SAVE.into());
        }
    }
    let new = values.join(" ");
    Ok(match via {
        Via::Load if !current.is_empty() => format!("{current} {new}"),
        _ => new,
    })
}

/// `client-output-buffer-limit CLASS HARD SOFT SECONDS [...]`: merged into the current
/// limits, shown as `normal h s t slave h s t pubsub h s t` in bytes (syntax and checks in
/// `obuf`).
fn output_limits(current: &str, values: &[String]) -> Result<String, String> {
    let mut limits = obuf::Limits::from_text(current);
    limits.apply(values)?;
    Ok(limits.to_text())
}

/// Largest value of `min-replicas-to-write` / `min-replicas-max-lag` (Redis' INT_MAX bound).
const MIN_REPLICAS_SETTING_MAX: i64 = i32::MAX as i64;

/// `min-replicas-to-write` / `min-replicas-max-lag` (config file, arguments, CONFIG SET):
/// Redis' range and reason texts.
fn min_replicas_value(value: &str) -> Result<String, String> {
    let v: i64 = value
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if !(0..=MIN_REPLICAS_SETTING_MAX).contains(&v) {
        return Err(format!(
            "argument must be between 0 and {MIN_REPLICAS_SETTING_MAX} inclusive"
        ));
    }
    Ok(v.to_string())
}

fn oom_values(values: &[String]) -> Result<String, String> {
    if values.len() != 3 {
        return Err(ERR_NARGS.into());
    }
    let in_range = |v: &String| parse_i64(v).is_some_and(|n| (-2000..=2000).contains(&n));
    if !values.iter().all(in_range) {
        return Err(
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
        );
    }
    Ok(values.join(" "))
}

fn percentiles(values: &[String]) -> Result<String, String> {
    let mut shown = Vec::with_capacity(values.len());
    for v in values.iter().filter(|v| !v.is_empty()) {
        let p: f64 = v
            .parse()
            .map_err(|_| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        shown.push(p.to_string());
    }
    Ok(shown.join(" "))
}

fn mem_or_percent(v: &str) -> Result<String, String> {
    if let Some(number) = v.strip_suffix('%') {
        return match parse_i64(number) {
            Some(p @ 0..=100) => Ok(format!("{p}%")),
            Some(p) if p > 100 => Err("percentage argument must be less or equal to 100".into()),
            _ => Err("argument must be a memory or percent value".into()),
        };
    }
    parse_mem(v)
        .map(|n| n.to_string())
        .ok_or_else(|| "argument must be a memory or percent value".to_string())
}

fn replicaof(values: &[String]) -> Result<String, String> {
    let [host, port] = values else {
        return Err(ERR_NARGS.into());
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match parse_i64(port) {
        Some(p @ 0..=65535) => Ok(format!("{host} {p}")),
        _ => Err("Invalid master port".into()),
    }
}

fn shutdown_flags(values: &[String]) -> Result<String, String> {
    const FLAGS: &[&str] = &["default", "save", "nosave", "now", "force"];
    let mut shown = Vec::with_capacity(values.len());
    for v in values {
        shown.push(FLAGS[enum_of(std::slice::from_ref(v), FLAGS)?]);
    }
    if shown.contains(&"save") && shown.contains(&"nosave") {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    if shown.is_empty() {
        return Err(ERR_NARGS.into());
    }
    Ok(shown.join(" "))
}

/// Every parameter CONFIG GET can show, canonical names and aliases, with its value.
fn all_params(cfg: &Config) -> Vec<(&'static str, String, Access)> {
    let mut all: Vec<(&'static str, String, Access)> = Vec::new();
    for p in DIRECTIVES.iter().filter(|p| p.is_param()) {
        let value = match p.kind {
            Typed => get_typed(cfg, p.name).unwrap_or_default(),
            _ => stored(cfg, p).to_string(),
        };
        for &alias in p.aliases {
            all.push((alias, value.clone(), p.access));
        }
        all.push((p.name, value, p.access));
    }
    all.sort_by(|a, b| a.0.cmp(b.0));
    all
}

/// CONFIG GET: every (name, value) pair whose name matches one of the glob `patterns`
/// (case-insensitive), each parameter once. A pattern without wildcards is a plain lookup
/// that also finds hidden parameters and echoes the name as the client spelled it, as Redis
/// does. Redis replies in hash order; slotd puts plain lookups first, then sorted matches.
pub fn get_params(cfg: &Config, patterns: &[&[u8]]) -> Vec<(String, String)> {
    let all = all_params(cfg);
    let mut taken = vec![false; all.len()];
    let mut exact = Vec::new();
    for pattern in patterns
        .iter()
        .filter(|p| !p.iter().any(|b| b"[*?".contains(b)))
    {
        let found = all
            .iter()
            .position(|a| a.0.as_bytes().eq_ignore_ascii_case(pattern));
        if let Some(i) = found.filter(|&i| !taken[i]) {
            taken[i] = true;
            exact.push((
                String::from_utf8_lossy(pattern).into_owned(),
                all[i].1.clone(),
            ));
        }
    }
    for (i, (name, value, access)) in all.iter().enumerate() {
        let listed = *access != Access::Hidden && !taken[i];
        if listed
            && patterns
                .iter()
                .any(|p| crate::glob::matches(p, name.as_bytes(), true))
        {
            exact.push((name.to_string(), value.clone()));
        }
    }
    exact
}

/// CONFIG SET name value [name value ...]: all or nothing. The error is Redis' reply error,
/// e.g. `ERR Unknown option or number of arguments for CONFIG SET - 'foo'`. Names are all
/// checked (known, settable, not repeated) before any value, as Redis does.
pub fn set_params(cfg: &mut Config, pairs: &[(&[u8], &[u8])]) -> Result<(), ReplyError> {
    let failed = |name: &[u8], why: &str| ReplyError::ConfigSetFailed {
        arg: String::from_utf8_lossy(name).into_owned(),
        why: why.to_string(),
    };
    let mut canonical_names: Vec<&'static str> = Vec::with_capacity(pairs.len());
    for (name, _) in pairs {
        let typed = String::from_utf8_lossy(name);
        let param = table::find(&typed.to_ascii_lowercase()).filter(|p| p.is_param());
        let Some(canonical) = param.map(|p| p.name) else {
            return Err(ReplyError::Other(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"
            )));
        };
        match access_of(canonical) {
            Access::Immutable => return Err(failed(name, "can't set immutable config")),
            Access::Protected => return Err(failed(name, "can't set protected config")),
            Access::Mutable | Access::Hidden | Access::FileOnly | Access::Deprecated => {}
        }
        if canonical_names.contains(&canonical) {
            return Err(failed(name, "duplicate parameter"));
        }
        canonical_names.push(canonical);
    }
    let mut staged = cfg.clone();
    for ((name, value), canonical) in pairs.iter().zip(canonical_names) {
        let value = String::from_utf8_lossy(value).into_owned();
        let values = set_values(canonical, value);
        apply(&mut staged, canonical, &values, Via::Set).map_err(|why| failed(name, &why))?;
    }
    *cfg = staged;
    Ok(())
}

/// CONFIG SET's one string as directive values: multi-value parameters split on single
/// spaces (so "" is no values and "  " is three empty ones, as in Redis).
fn set_values(canonical: &str, value: String) -> Vec<String> {
    match (is_multi_value(canonical), value.is_empty()) {
        (false, _) => vec![value],
        (true, true) => Vec::new(),
        (true, false) => value.split(' ').map(str::to_string).collect(),
    }
}

/// Parameters that take several values on one line.
fn is_multi_value(canonical: &str) -> bool {
    matches!(
        canonical,
        "bind"
            | "save"
            | "client-output-buffer-limit"
            | "oom-score-adj-values"
            | "latency-tracking-info-percentiles"
            | "shutdown-on-sigint"
            | "shutdown-on-sigterm"
            | "replicaof"
    )
}

#[cfg(test)]
mod tests;
