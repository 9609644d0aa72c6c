//! Bitmap commands on string values (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD): being built for issue 15.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
