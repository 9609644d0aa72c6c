//! HyperLogLog commands on string values (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST): being built for issue 15.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
