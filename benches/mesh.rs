//! Criterion micro-benchmark of the cross-shard hop: one batch of N commands sent through the
//! real `slotd::mesh::Mesh` (bounded lock-free inbox + eventfd doorbell) to a peer thread that
//! parks like a shard when idle, and the batch of replies back. Reports time per round trip
//! and, through `Throughput::Elements`, per command: the cost of a hop shrinks with batching.
//! Run: `cargo bench --bench mesh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slotd::api::{ConnRef, Mesh, MeshMsg, Replies, Requests};
use slotd::api::{OwnedArgs, Proto};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Blocks like a shard's event loop: take a message, else announce sleep and wait on the
/// eventfd (the same protocol `net::reactor` uses).
fn wait_msg(mesh: &Mesh, me: usize) -> MeshMsg {
    loop {
        if let Some(m) = mesh.pop(me) {
            return m;
        }
        let inbox = &mesh.inboxes[me];
        inbox.sleeping.store(true, Ordering::SeqCst);
        if !mesh.inbox_empty(me) {
            inbox.sleeping.store(false, Ordering::SeqCst);
            continue;
        }
        let mut pfd = libc::pollfd {
            fd: inbox.eventfd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut counter = 0u64;
        // SAFETY: polling and draining our own eventfd into a local.
        unsafe {
            libc::poll(&mut pfd, 1, 1000);
            libc::read(
                inbox.eventfd,
                &mut counter as *mut u64 as *mut libc::c_void,
                8,
            );
        }
        inbox.sleeping.store(false, Ordering::SeqCst);
    }
}

/// The peer shard: answers every request batch with one small reply per command.
fn peer(mesh: Arc<Mesh>) {
    loop {
        match wait_msg(&mesh, 1) {
            MeshMsg::Requests { batch, .. } => {
                let mut r = Replies::default();
                for c in &batch.cmds {
                    r.data.extend_from_slice(b"$1\r\nv\r\n");
                    r.items.push((c.conn, c.seq, r.data.len() as u32));
                }
                let _ = mesh.push(0, MeshMsg::Replies(r));
                mesh.wake(0);
            }
            MeshMsg::Shutdown => return,
            _ => {}
        }
    }
}

fn hop(c: &mut Criterion) {
    let mesh = Mesh::new(2).expect("eventfds");
    let m = mesh.clone();
    let t = std::thread::spawn(move || peer(m));
    let spec = slotd::api::lookup(b"get").expect("GET is in the table");
    let args = OwnedArgs::from_slices(&[b"GET", b"key:000000012345"]);
    let mut g = c.benchmark_group("cross_shard_hop");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    g.sample_size(20);
    for batch in [1usize, 16, 256] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &n| {
            b.iter(|| {
                let mut req = Requests::default();
                for i in 0..n {
                    let conn = ConnRef {
                        idx: i as u32,
                        gen: 1,
                    };
                    let keys = spec.key_idx(args.args()).expect("GET names its key");
                    req.push(
                        conn,
                        i as u64,
                        spec.id,
                        keys,
                        Proto::Resp2,
                        None,
                        0,
                        0,
                        args.args(),
                    );
                }
                let _ = mesh.push(
                    1,
                    MeshMsg::Requests {
                        from: 0,
                        batch: req,
                    },
                );
                mesh.wake(1);
                match wait_msg(&mesh, 0) {
                    MeshMsg::Replies(r) => assert_eq!(r.items.len(), n),
                    _ => unreachable!("only replies come back"),
                }
            })
        });
    }
    g.finish();
    mesh.send_blocking(1, MeshMsg::Shutdown);
    let _ = t.join();
}

criterion_group!(benches, hop);
criterion_main!(benches);
