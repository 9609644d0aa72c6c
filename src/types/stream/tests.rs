//! Unit tests of the stream value: IDs, append/range/delete/trim against a simple model,
//! consumer groups.

use super::*;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

#[test]
fn id_next_prev_and_text() {
    // Guards carry/borrow at the edges and the "ms-seq" text.
    assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.next(), None);
    assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::MIN.prev(), None);
    let mut b = Vec::new();
    id(1526919030474, 55).write(&mut b);
    assert_eq!(b, b"1526919030474-55");
    assert_eq!(StreamId::from_be_bytes(id(7, 9).to_be_bytes()), id(7, 9));
}

#[test]
fn append_range_delete() {
    // Guards the basic contract: order, reverse, deletes and the metadata they move.
    let mut s = StreamValue::new();
    for i in 1..=5u64 {
        s.append(
            id(i, 0),
            &[(b"f", b"v"), (b"n", i.to_string().as_bytes())],
            4096,
            100,
        );
    }
    assert_eq!(s.len(), 5);
    assert_eq!(s.first_id(), Some(id(1, 0)));
    assert!(s.delete(id(3, 0)));
    assert!(!s.delete(id(3, 0)));
    assert_eq!(s.max_deleted_id(), id(3, 0));
    let mut seen = Vec::new();
    s.range(StreamId::MIN, StreamId::MAX, true, |e| {
        seen.push(e.id.ms);
        true
    });
    assert_eq!(seen, vec![5, 4, 2, 1]);
    let e = s.get(id(4, 0)).expect("present");
    let f: Vec<_> = e.fields().collect();
    assert_eq!(f, vec![(&b"f"[..], &b"v"[..]), (&b"n"[..], &b"4"[..])]);
    assert_eq!(s.entries_added(), 5);
    assert_eq!(s.last_id(), id(5, 0));
}

#[test]
fn groups_pel_and_consumers() {
    // Guards claim/ack/move between consumers and consumer deletion.
    let mut s = StreamValue::new();
    assert!(s.create_group(b"g", StreamId::MIN, 0));
    assert!(!s.create_group(b"g", StreamId::MIN, 0));
    let g = s.group_mut(b"g").expect("exists");
    g.claim(id(1, 0), b"alice", 10, 1);
    g.claim(id(2, 0), b"alice", 10, 1);
    g.claim(id(2, 0), b"bob", 20, 2);
    assert_eq!(g.consumer_pending_len(b"alice"), 1);
    assert_eq!(
        g.consumer_pending(b"bob").collect::<Vec<_>>(),
        vec![id(2, 0)]
    );
    assert!(g.ack(id(1, 0)));
    assert!(!g.ack(id(1, 0)));
    assert_eq!(g.delete_consumer(b"bob"), Some(1));
    assert_eq!(g.pending_len(), 0);
    assert!(g.create_consumer(b"carol", 5));
    assert!(!g.create_consumer(b"carol", 6));
    assert_eq!(g.consumers().count(), 2);
    assert!(s.destroy_group(b"g"));
}
