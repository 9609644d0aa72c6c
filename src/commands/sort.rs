//! SORT and SORT_RO: being built for issue 15.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
