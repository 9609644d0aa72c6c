//! Geo commands over sorted sets (GEOADD, GEOSEARCH, GEORADIUS...): being built for issue 15.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
