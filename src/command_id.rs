//! The dense numeric id of a command or subcommand (`CommandId`), assigned once when the
//! command table is built (`commands::registry`). A leaf module so that the layers below the
//! commands (shard counters, mesh messages) can carry a command without naming its spec.

/// Index of a command or subcommand in the command table: 0..`commands::count_ids()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub u16);

impl CommandId {
    /// The id of a spec that is not (yet) part of the built table.
    pub const UNASSIGNED: CommandId = CommandId(u16::MAX);

    /// The id as an index into per-command arrays.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}
