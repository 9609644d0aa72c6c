//! A replica's replication history across a clean restart: at shutdown a connected replica
//! stops its link between two applied batches and, once its AOF holds everything applied,
//! writes `replid offset` next to the AOF; at start the file is read once (and removed, so a
//! later crash cannot reuse it) and PSYNC asks the master to continue from there. Only with
//! `appendonly yes`, only for a replica whose link was up: anything else starts over with a
//! full sync, as before.

use crate::global::Global;
use crate::replication::{lock, LinkState};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// What a shutdown may persist: the history of a connected replica.
pub struct Frozen(Option<(String, u64)>);

fn history_file(global: &Global) -> Option<PathBuf> {
    global.cfg(|c| {
        c.appendonly
            .then(|| c.dir.join(&c.appenddirname).join("replication-history"))
    })
}

/// Before the shards stop: a connected replica stops taking records from its master (the ones
/// already handed over are applied before the shards' own stop), and its history is noted.
pub fn freeze_for_shutdown(global: &Global) -> Frozen {
    let _applying = lock(&global.repl.apply_lock);
    let mut st = global.repl.state();
    let Some(link) = st.link.take() else {
        return Frozen(None);
    };
    st.next_link_gen += 1;
    let connected = link.state == LinkState::Connected;
    Frozen(connected.then(|| (st.replid.clone(), st.offset)))
}

/// After the shards stopped and flushed their AOF: writes (or clears) the history file.
pub fn save_after_shutdown(global: &Global, frozen: Frozen) {
    let Some(path) = history_file(global) else {
        return;
    };
    match frozen.0 {
        Some((replid, offset)) => {
            let tmp = path.with_extension("tmp");
            let text = format!("{replid} {offset}\n");
            let ok = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
            match ok {
                Ok(()) => crate::log::notice(&format!(
                    "Replication history saved ({replid}:{offset}) for a partial resync"
                )),
                Err(e) => crate::log::warning(&format!("Could not save {}: {e}", path.display())),
            }
        }
        None => {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// At start, after the AOF is loaded: adopt a saved history (then forget the file).
pub fn restore_at_start(global: &Global) {
    let Some(path) = history_file(global) else {
        return;
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let _ = std::fs::remove_file(&path);
    let mut words = text.split_whitespace();
    let (Some(replid), Some(offset)) = (words.next(), words.next()) else {
        return;
    };
    let (Ok(offset), true) = (offset.parse::<u64>(), replid.len() == 40) else {
        return;
    };
    let size = crate::replication::backlog_size(global);
    let mut st = global.repl.state();
    st.replid = replid.to_string();
    st.offset = offset;
    st.backlog = None;
    st.ensure_backlog(size, false);
    global.repl.offset.store(offset, Ordering::Release);
    crate::log::notice(&format!(
        "Loaded replication history {replid}:{offset}: a partial resync can continue from it"
    ));
}
