//! Pure routing: given a command's keys, the slot map and the client's flags, decide where it
//! runs or which redirect/error it gets (Redis' `getNodeByQuery`, steps in cluster-spec 2.2).
//! No I/O and no keyspace access: key existence, needed only for slots being migrated, comes
//! in through a closure supplied by the owner shard.

use crate::cluster::hash_slot::key_hash_slot;
use crate::cluster::slot_map::{SlotMap, NO_NODE};
use crate::resp::{Args, ReplyError};
use crate::topology::{shard_of, ShardId};

/// Client flags that routing reads.
#[derive(Clone, Copy, Default, Debug)]
pub struct ClientFlags {
    pub asking: bool,
    pub readonly: bool,
}

/// Command properties that routing reads.
#[derive(Clone, Copy, Default, Debug)]
pub struct CmdFlags {
    pub write: bool,
    /// The command carries the "asking" flag itself (RESTORE-ASKING).
    pub asking: bool,
    pub migrate: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// No keys: run on the connection's shard.
    Keyless,
    /// Every key is on this shard (first key's slot given).
    Shard {
        shard: ShardId,
        slot: u16,
    },
    /// Standalone mode with keys on several shards: run in an exclusive section.
    Shards(Vec<ShardId>),
    /// The owner shard must decide (slot is migrating or importing and key presence matters).
    OwnerDecides {
        shard: ShardId,
        slot: u16,
    },
    Reply(ReplyError),
}

/// Slot of every key (by argument index), plus whether all keys share one slot.
fn first_slot(args: Args<'_>, keys: &[usize]) -> Result<Option<(u16, bool)>, ReplyError> {
    let Some(&k0) = keys.first() else {
        return Ok(None);
    };
    let first = args.get(k0);
    let slot = key_hash_slot(first);
    let mut multiple = false;
    for &k in &keys[1..] {
        let key = args.get(k);
        if key == first {
            continue;
        }
        if key_hash_slot(key) != slot {
            return Err(ReplyError::CrossSlot);
        }
        multiple = true;
    }
    Ok(Some((slot, multiple)))
}

/// Decides on the connection's shard, before any hop.
pub fn decide(
    args: Args<'_>,
    keys: &[usize],
    map: &SlotMap,
    shards: usize,
    client: ClientFlags,
    cmd: CmdFlags,
) -> Decision {
    if keys.is_empty() {
        return Decision::Keyless;
    }
    if !map.cluster_enabled {
        let slot = key_hash_slot(args.get(keys[0]));
        let first = shard_of(slot, shards);
        // Allocate only when the keys really span shards (the rare case).
        let mut ids: Vec<ShardId> = Vec::new();
        for &k in &keys[1..] {
            let id = shard_of(key_hash_slot(args.get(k)), shards);
            if id != first && !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Decision::Shard { shard: first, slot };
        }
        ids.push(first);
        ids.sort_unstable();
        return Decision::Shards(ids);
    }
    let (slot, _multiple) = match first_slot(args, keys) {
        Ok(Some(s)) => s,
        Ok(None) => return Decision::Keyless,
        Err(e) => return Decision::Reply(e),
    };
    let shard = shard_of(slot, shards);
    if map.migrating_to(slot).is_some() || map.importing_from(slot).is_some() {
        return Decision::OwnerDecides { shard, slot };
    }
    match check_slot(slot, false, map, client, cmd, &mut |_| true) {
        Ok(()) => Decision::Shard { shard, slot },
        Err(e) => Decision::Reply(e),
    }
}

/// The full decision for one slot on the owner shard; `exists` tells whether a key is present
/// (consulted only while the slot is migrating or importing).
pub fn decide_on_owner(
    args: Args<'_>,
    keys: &[usize],
    map: &SlotMap,
    client: ClientFlags,
    cmd: CmdFlags,
    exists: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), ReplyError> {
    if !map.cluster_enabled || keys.is_empty() {
        return Ok(());
    }
    let (slot, multiple) = first_slot(args, keys)?.expect("keys is not empty");
    let migrating = map.owner_of(slot) == map.myself && map.migrating_to(slot).is_some();
    let importing = !migrating && map.importing_from(slot).is_some();
    let (mut missing, mut existing) = (0, 0);
    if migrating || importing {
        for &k in keys {
            if exists(args.get(k)) {
                existing += 1;
            } else {
                missing += 1;
            }
        }
    }
    check_state(map, cmd)?;
    if cmd.migrate && (migrating || importing) {
        return Ok(());
    }
    if migrating && missing > 0 {
        if existing > 0 {
            return Err(ReplyError::TryAgain);
        }
        let to = map.migrating_to(slot).expect("migrating");
        return Err(ReplyError::Ask {
            slot,
            addr: map.addrs[to as usize].clone(),
        });
    }
    if importing && (client.asking || cmd.asking) {
        if multiple && missing > 0 {
            return Err(ReplyError::TryAgain);
        }
        return Ok(());
    }
    check_slot(slot, true, map, client, cmd, exists)
}

fn check_state(map: &SlotMap, cmd: CmdFlags) -> Result<(), ReplyError> {
    if map.state_ok {
        return Ok(());
    }
    if !map.allow_reads_when_down {
        return Err(ReplyError::ClusterDownState);
    }
    if cmd.write {
        return Err(ReplyError::other(
            "CLUSTERDOWN The cluster is down and only accepts read commands",
        ));
    }
    Ok(())
}

/// Steps 1 (unbound), 5 (state), 9 (replica reads) and 10 (MOVED) for `slot`.
fn check_slot(
    slot: u16,
    state_checked: bool,
    map: &SlotMap,
    client: ClientFlags,
    cmd: CmdFlags,
    _exists: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), ReplyError> {
    let owner = map.owner_of(slot);
    if owner == NO_NODE {
        return Err(ReplyError::ClusterDownUnbound);
    }
    if !state_checked {
        check_state(map, cmd)?;
    }
    if client.readonly && !cmd.write && map.myself_is_replica && map.master == owner {
        return Ok(());
    }
    if owner != map.myself {
        return Err(ReplyError::Moved {
            slot,
            addr: map.addrs[owner as usize].clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn cluster_map() -> SlotMap {
        let mut m = SlotMap::standalone();
        m.cluster_enabled = true;
        m.addrs = vec!["127.0.0.1:7001".into(), "127.0.0.1:7002".into()];
        for s in 0..16384 {
            m.owner[s] = if s < 8192 { 0 } else { 1 };
        }
        m
    }

    #[test]
    fn moved_crossslot_and_local() {
        let m = cluster_map();
        let a = OwnedArgs::from_slices(&[b"GET", b"foo"]); // slot 12182
        let d = decide(
            a.args(),
            &[1],
            &m,
            1,
            ClientFlags::default(),
            CmdFlags::default(),
        );
        assert_eq!(
            d,
            Decision::Reply(ReplyError::Moved {
                slot: 12182,
                addr: "127.0.0.1:7002".into()
            })
        );
        let a = OwnedArgs::from_slices(&[b"MGET", b"a", b"b"]);
        let d = decide(
            a.args(),
            &[1, 2],
            &m,
            1,
            ClientFlags::default(),
            CmdFlags::default(),
        );
        assert_eq!(d, Decision::Reply(ReplyError::CrossSlot));
        let a = OwnedArgs::from_slices(&[b"GET", b"bar"]); // slot 5061
        let d = decide(
            a.args(),
            &[1],
            &m,
            2,
            ClientFlags::default(),
            CmdFlags::default(),
        );
        assert_eq!(
            d,
            Decision::Shard {
                shard: 1,
                slot: 5061
            }
        );
    }

    #[test]
    fn unbound_and_down() {
        let mut m = cluster_map();
        m.owner[5061] = NO_NODE;
        let a = OwnedArgs::from_slices(&[b"GET", b"bar"]);
        let d = decide(
            a.args(),
            &[1],
            &m,
            1,
            ClientFlags::default(),
            CmdFlags::default(),
        );
        assert_eq!(d, Decision::Reply(ReplyError::ClusterDownUnbound));
        m.owner[5061] = 0;
        m.state_ok = false;
        let d = decide(
            a.args(),
            &[1],
            &m,
            1,
            ClientFlags::default(),
            CmdFlags::default(),
        );
        assert_eq!(d, Decision::Reply(ReplyError::ClusterDownState));
    }

    #[test]
    fn standalone_multi_shard() {
        let m = SlotMap::standalone();
        let a = OwnedArgs::from_slices(&[b"MGET", b"a", b"b", b"c"]);
        match decide(
            a.args(),
            &[1, 2, 3],
            &m,
            2,
            ClientFlags::default(),
            CmdFlags::default(),
        ) {
            Decision::Shards(ids) => assert_eq!(ids, vec![0, 1]),
            d => panic!("{d:?}"),
        }
    }
}
