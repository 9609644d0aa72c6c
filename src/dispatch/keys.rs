//! `Keys`: a command's key indexes inside the dispatcher, found once. The caller hands them
//! over when routing found them already (or they came over the mesh with the command);
//! otherwise the first step that needs them (owner checks, the AOF barrier, expire-first, the
//! WATCH touch) finds them and the later ones reuse them. A one-shard standalone command whose
//! steps need no keys never looks for them.

use crate::commands::CommandSpec;
use crate::resp::{Args, KeyIdx};

pub struct Keys<'k> {
    given: Option<&'k [usize]>,
    found: Option<KeyIdx>,
}

impl<'k> Keys<'k> {
    /// Keys the caller found already.
    pub fn given(keys: &'k [usize]) -> Self {
        Keys {
            given: Some(keys),
            found: None,
        }
    }

    /// Keys to be found when first needed.
    pub fn unknown() -> Self {
        Keys {
            given: None,
            found: None,
        }
    }

    /// The key indexes of `spec` on `args` (none when its key spec rejects the line: routing
    /// answered that error already where it matters).
    pub fn get(&mut self, spec: &'static CommandSpec, args: Args<'_>) -> &[usize] {
        if let Some(k) = self.given {
            return k;
        }
        self.found
            .get_or_insert_with(|| spec.key_idx(args).unwrap_or_default())
    }
}
