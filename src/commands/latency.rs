//! LATENCY: the latency monitor's events (LATEST, HISTORY, RESET, GRAPH, DOCTOR, HELP) and
//! Redis 7's per-command histograms (LATENCY HISTOGRAM).

use super::spec::CommandSpec;

/// Filled in by its part (issue 17).
pub static COMMANDS: &[CommandSpec] = &[];
