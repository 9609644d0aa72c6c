//! Configuration: redis.conf-style files plus command-line overrides, validated with file:line
//! errors; the CONFIG GET/SET parameter table. (Parser lands in a follow-up commit.)

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

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
        }
    }
}

/// Result of loading: the config and the warnings to log once at start.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Parses `slotd [config-file] [--directive value ...]`.
pub fn load(args: &[String]) -> Result<Loaded, String> {
    let mut config = Config::default();
    let mut i = 0;
    while i + 1 < args.len() {
        if args[i] == "--port" {
            config.port = args[i + 1].parse().map_err(|_| "bad port".to_string())?;
        }
        if args[i] == "--server-threads" {
            config.server_threads = args[i + 1].parse().map_err(|_| "bad n".to_string())?;
        }
        i += 2;
    }
    Ok(Loaded {
        config,
        warnings: vec![],
    })
}

/// CONFIG GET: every (name, value) pair whose name matches one of the glob `patterns`
/// (case-insensitive), in the order Redis uses. (Real table lands with the parser.)
pub fn get_params(cfg: &Config, patterns: &[&[u8]]) -> Vec<(String, String)> {
    let all = [("port", cfg.port.to_string())];
    all.into_iter()
        .filter(|(n, _)| {
            patterns
                .iter()
                .any(|p| crate::glob::matches(p, n.as_bytes(), true))
        })
        .map(|(n, v)| (n.to_string(), v))
        .collect()
}

/// CONFIG SET name value [name value ...]: all or nothing. The error is Redis' full text,
/// e.g. `ERR Unknown option or number of arguments for CONFIG SET - 'foo'`.
pub fn set_params(_cfg: &mut Config, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
    let name = String::from_utf8_lossy(pairs.first().map(|p| p.0).unwrap_or(b""));
    Err(format!(
        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
    ))
}

/// Usage text for `slotd --help`.
pub fn help_text() -> &'static str {
    "Usage: slotd [/path/to/redis.conf] [options]\n       slotd -v or --version\n       slotd -h or --help"
}
