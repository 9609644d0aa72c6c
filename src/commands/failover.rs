//! FAILOVER: standalone coordinated failover from a master to one of its replicas.

use super::spec::CommandSpec;

/// Filled in by its part (issue 17).
pub static COMMANDS: &[CommandSpec] = &[];
