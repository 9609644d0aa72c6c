//! The cluster bus driver: one glommio executor, in cluster mode only, beside the shard
//! threads. It is the only socket code of the cluster (the sans-IO core is `cluster`): it
//! accepts bus connections, opens the links the cluster state asks for, frames messages, feeds
//! them to the state machine and performs the actions it returns (send, close, deliver a
//! publish, follow a master). After every event it writes nodes.conf when the state asks and
//! publishes a new slot map when ownership changed. The only glommio code in slotd.

use crate::clock::mono_unix_ms;
use crate::cluster::gossip::Origin;
use crate::cluster::links::BusOut;
use crate::cluster::message;
use crate::cluster::node::LinkId;
use crate::cluster::state::ClusterState;
use crate::constants::{BUS_LINK_SENDBUF_MAX_BYTES, BUS_MSG_MAX_BYTES};
use crate::global::Global;
use crate::sys::{MaskHow, SigSet};
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::channels::local_channel::{self, LocalSender};
use glommio::net::{TcpListener, TcpStream};
use glommio::{LocalExecutorBuilder, Placement};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Cluster cron period (Redis runs clusterCron 10 times a second).
const CRON_PERIOD_MS: u64 = 100;
/// How often actions queued by commands (a PONG broadcast after SETSLOT, say) are performed.
const OUTBOX_POLL_MS: u64 = 10;
/// Outbound connect timeout; a node that does not answer is retried by the next cron run.
const CONNECT_TIMEOUT_MS: u64 = 1000;
/// Messages queued per link before the link counts as stuck (bytes are bounded separately).
const LINK_QUEUE_MESSAGES: usize = 4096;
/// Registered-buffer memory for the executor: the bus does no O_DIRECT file I/O, so the
/// minimum (glommio-notes.md section 1: the default 10 MiB would exceed RLIMIT_MEMLOCK).
const IO_MEMORY_BYTES: usize = 64 * 1024;
/// Preemption bound so a busy bus task cannot delay timers (glommio-notes.md section 3).
const PREEMPT_TIMER_MS: u64 = 2;

/// The bus thread (its kernel thread id), 0 until the executor runs; the target of `kick`.
static BUS_THREAD: AtomicU64 = AtomicU64::new(0);
/// The bus loop has seen the shutdown and returned.
static BUS_DONE: AtomicBool = AtomicBool::new(false);
/// Interrupts the bus thread's io_uring wait. Its handler does nothing and is installed
/// without SA_RESTART, so the wait returns EINTR.
const KICK_SIGNAL: libc::c_int = libc::SIGURG;

/// Blocks the kick signal in the calling thread and the threads it spawns later (called
/// before any thread exists); the bus thread unblocks it for itself, so a stray signal sent
/// to the process cannot interrupt a shard's io_uring wait.
pub fn block_kick_signal() {
    kick_mask(MaskHow::Block);
}

fn kick_mask(how: MaskHow) {
    let _ = crate::sys::thread_mask(how, &SigSet::of(&[KICK_SIGNAL]));
}

fn install_kick_handler() {
    // A no-op handler, for a signal slotd uses for nothing else.
    let _ = crate::sys::install_wakeup_handler(KICK_SIGNAL);
}

/// Wakes the bus executor if it sleeps past its timers. glommio 0.9 can lose the wake-up of
/// a sleeping executor (its ring-linking sleep; DataDog/glommio#547): seen here as a bus loop
/// that never ran after start, and a node that ignored SIGTERM because the loop never saw the
/// shutdown. glommio treats EINTR as a wake-up, after which the overdue timers run. The main
/// thread calls this while the loop is late; never after it joined the bus thread.
pub fn kick() {
    let t = BUS_THREAD.load(Ordering::Acquire);
    if t != 0 && !BUS_DONE.load(Ordering::Acquire) {
        let _ = crate::sys::signal_thread(t as libc::pid_t, KICK_SIGNAL);
    }
}

/// The bus loop has returned after the shutdown started.
pub fn finished() -> bool {
    BUS_DONE.load(Ordering::Acquire)
}

/// Starts the bus core on the bound bus listeners (one per `bind` address); it stops once the
/// server is shutting down.
pub fn spawn(
    global: Arc<Global>,
    listener_fds: Vec<RawFd>,
) -> Result<std::thread::JoinHandle<()>, String> {
    install_kick_handler();
    // The thread is ours, not glommio's, so it can be made kickable before the executor
    // exists: under load glommio 0.9 can park before it ever polls the root future (a
    // preemption timer that fired during start-up is consumed and the executor sleeps with
    // nothing armed). Seen as a bus thread with no CPU time, asleep in io_uring_enter, and
    // a node that never joined its cluster; the kick wakes it and the root future runs.
    std::thread::Builder::new()
        .name("slotd-bus".into())
        .spawn(move || {
            kick_mask(MaskHow::Unblock);
            let executor = match LocalExecutorBuilder::new(Placement::Unbound)
                .io_memory(IO_MEMORY_BYTES)
                .preempt_timer(Duration::from_millis(PREEMPT_TIMER_MS))
                .make()
            {
                Ok(e) => e,
                Err(e) => {
                    crate::log::warning(&format!("Starting the cluster bus executor: {e}"));
                    BUS_DONE.store(true, Ordering::Release);
                    return;
                }
            };
            // Kickable from here on (not during the set-up above, which a signal could fail).
            BUS_THREAD.store(crate::sys::thread_id() as u64, Ordering::Release);
            executor.run(async move {
                install_publish_hook(&global);
                let driver = Rc::new(Driver {
                    global,
                    links: RefCell::new(HashMap::new()),
                    published: Cell::new(0),
                });
                for fd in listener_fds {
                    // SAFETY: the server bound this socket for the bus and hands it over for
                    // good.
                    let listener = unsafe { TcpListener::from_raw_fd(fd) };
                    if let Ok(a) = listener.local_addr() {
                        crate::log::verbose(&format!("Cluster bus listening on {a}"));
                    }
                    glommio::spawn_local(accept_loop(driver.clone(), listener)).detach();
                }
                driver.timer_loop().await;
            });
            BUS_DONE.store(true, Ordering::Release);
        })
        .map_err(|e| format!("starting the cluster bus thread: {e}"))
}

/// The sending side of one live link.
struct LinkIo {
    tx: LocalSender<Bytes>,
    /// Bytes queued and not yet written (shared with the state's link for CLUSTER LINKS).
    queued: Arc<AtomicUsize>,
    /// The reading socket; shut down to stop both tasks of the link.
    fd: RawFd,
}

struct Driver {
    global: Arc<Global>,
    links: RefCell<HashMap<LinkId, LinkIo>>,
    /// Slot map version last sent to the shards.
    published: Cell<u64>,
}

impl Driver {
    /// Runs `f` on the locked state, then persists/publishes as needed and performs the
    /// actions it queued (after unlocking).
    fn with_state<R>(self: &Rc<Self>, f: impl FnOnce(&mut ClusterState) -> R) -> R {
        let cluster = self
            .global
            .cluster
            .as_ref()
            .expect("bus runs in cluster mode");
        let mut st = cluster.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut st);
        if st.todo_save {
            st.todo_save = false;
            st.todo_fsync = false;
            if let Err(e) = st.save() {
                crate::log::warning(&format!("Could not update the cluster config file: {e}"));
            }
        }
        let map = (st.version != self.published.get() || !st.drop_slots.is_empty()).then(|| {
            let mut map = st.slot_map();
            map.drop_slots = std::mem::take(&mut st.drop_slots);
            self.published.set(st.version);
            map
        });
        let outs = std::mem::take(&mut st.outbox);
        drop(st);
        // Sent after the lock is released (see commands::cluster::commit).
        if let Some(map) = map {
            self.global.publish_slot_map(map);
        }
        for o in outs {
            self.perform(o);
        }
        r
    }

    fn perform(self: &Rc<Self>, o: BusOut) {
        match o {
            BusOut::Connect { link, ip, cport } => {
                glommio::spawn_local(connect(self.clone(), link, ip, cport)).detach();
            }
            BusOut::Send { link, bytes } => self.send(link, bytes),
            BusOut::Close { link } => self.close(link),
            BusOut::Publish {
                sharded,
                channel,
                message,
            } => {
                crate::shard::pubsub::deliver_from_bus(&self.global, sharded, &channel, &message);
            }
            BusOut::PauseWrites { until_ms } => {
                // The state counts on the monotonic clock; shards compare with the wall clock.
                let wall = match until_ms {
                    0 => 0,
                    t => crate::clock::unix_ms() + t.saturating_sub(mono_unix_ms()),
                };
                self.global
                    .writes_paused_until_ms
                    .store(wall, Ordering::SeqCst);
            }
            BusOut::ReplicateFrom(Some((ip, port))) => {
                crate::replication::start_replica_of(&self.global, &ip, port);
            }
            BusOut::ReplicateFrom(None) => crate::replication::become_master(&self.global),
        }
    }

    fn send(self: &Rc<Self>, link: LinkId, bytes: Bytes) {
        let over = {
            let links = self.links.borrow();
            let Some(io) = links.get(&link) else {
                return;
            };
            let len = bytes.len();
            let queued = io.queued.load(Ordering::Relaxed);
            if queued + len > BUS_LINK_SENDBUF_MAX_BYTES || io.tx.try_send(bytes).is_err() {
                true
            } else {
                io.queued.fetch_add(len, Ordering::Relaxed);
                false
            }
        };
        if over {
            crate::log::warning("Cluster bus link send buffer limit reached; closing the link");
            self.with_state(|st| {
                st.links_buffer_limit_exceeded += 1;
                st.drop_link(link);
            });
        }
    }

    fn close(&self, link: LinkId) {
        if let Some(io) = self.links.borrow_mut().remove(&link) {
            // A socket the reader task still owns; both tasks then end.
            let _ = crate::sys::shutdown(io.fd);
        }
    }

    /// Wires up a connected socket: a writer task fed by a bounded queue, and a reader task.
    fn start_link(self: &Rc<Self>, link: LinkId, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let peer_ip = stream
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        let local_ip = stream
            .local_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        // A copy of our own socket, owned by the writer.
        let Ok(wfd) = crate::sys::dup(stream.as_raw_fd()) else {
            self.with_state(|st| st.link_down(mono_unix_ms(), link));
            return;
        };
        // SAFETY: a fresh descriptor from dup, owned by this stream alone.
        let writer = unsafe { TcpStream::from_raw_fd(wfd) };
        let (tx, rx) = local_channel::new_bounded(LINK_QUEUE_MESSAGES);
        let queued = self
            .with_state(|st| st.links.get(&link).map(|l| l.queued_bytes.clone()))
            .unwrap_or_default();
        let fd = stream.as_raw_fd();
        self.links.borrow_mut().insert(
            link,
            LinkIo {
                tx,
                queued: queued.clone(),
                fd,
            },
        );
        glommio::spawn_local(async move {
            let mut writer = writer;
            while let Some(b) = rx.recv().await {
                if writer.write_all(&b).await.is_err() {
                    break;
                }
                queued.fetch_sub(b.len(), Ordering::Relaxed);
            }
        })
        .detach();
        glommio::spawn_local(read_loop(self.clone(), link, stream, peer_ip, local_ip)).detach();
    }

    /// The replication offset and link state the elections need.
    fn repl_view(&self, now_ms: u64) -> (u64, crate::cluster::failover::ReplView) {
        let offset = crate::replication::repl_offset(&self.global);
        // The replication layer keeps wall-clock times: compare wall with wall.
        let down = crate::replication::link_down_ms(&self.global, crate::clock::unix_ms());
        let view = match down {
            Some(0) => crate::cluster::failover::ReplView {
                link_up: true,
                last_io_ms: now_ms,
            },
            Some(down_ms) => crate::cluster::failover::ReplView {
                link_up: false,
                last_io_ms: now_ms.saturating_sub(down_ms),
            },
            None => Default::default(),
        };
        (offset, view)
    }

    async fn timer_loop(self: Rc<Self>) {
        let mut last_cron_ms = 0u64;
        while !self.global.shutting_down.load(Ordering::SeqCst) {
            glommio::timer::sleep(Duration::from_millis(OUTBOX_POLL_MS)).await;
            let now = mono_unix_ms();
            let cron = now.saturating_sub(last_cron_ms) >= CRON_PERIOD_MS;
            if cron {
                last_cron_ms = now;
            }
            self.global.bus_heartbeat_ms.store(now, Ordering::Relaxed);
            let follow = cron.then(|| self.repl_view(now));
            // Read before taking the cluster lock: never hold both.
            let announced = cron.then(|| self.global.cfg(crate::cluster::state::announced));
            let policy = cron.then(|| self.global.cfg(crate::cluster::policy::read));
            let master = self.with_state(|st| {
                let (offset, view) = follow?;
                if let Some(a) = announced {
                    st.refresh_announced(a);
                }
                if let Some(p) = policy {
                    st.apply_policy(p);
                }
                st.my_repl_offset = offset;
                st.repl_view = view;
                st.on_tick(now);
                st.todo_save |= st.save_failed;
                st.my_master_addr()
            });
            // A replica (from nodes.conf at start, or after a failover) always replicates its
            // master; a no-op when it already does.
            if let Some((ip, port)) = master {
                crate::replication::start_replica_of(&self.global, &ip, port);
            }
        }
        let fds: Vec<RawFd> = self.links.borrow().values().map(|l| l.fd).collect();
        for fd in fds {
            // As in `close`.
            let _ = crate::sys::shutdown(fd);
        }
    }
}

/// PUBLISH / SPUBLISH on any shard reach the other nodes through the state's outbox (sent by
/// the timer loop within one poll period).
fn install_publish_hook(global: &Arc<Global>) {
    let weak = Arc::downgrade(global);
    let _ = global
        .bus_publish
        .set(Box::new(move |sharded, channel, message| {
            let Some(g) = weak.upgrade() else {
                return;
            };
            if let Some(cluster) = g.cluster.as_ref() {
                let mut st = cluster.lock().unwrap_or_else(|e| e.into_inner());
                st.publish(sharded, channel, message);
            }
        }));
}

async fn accept_loop(d: Rc<Driver>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let link = d.with_state(|st| st.accept_link(mono_unix_ms()));
                d.start_link(link, stream);
            }
            Err(e) => {
                crate::log::warning(&format!("Cluster bus accept failed: {e}"));
                glommio::timer::sleep(Duration::from_millis(CRON_PERIOD_MS)).await;
            }
        }
    }
}

async fn connect(d: Rc<Driver>, link: LinkId, ip: String, cport: u16) {
    let addr = match ip.parse::<std::net::IpAddr>() {
        Ok(a) => std::net::SocketAddr::new(a, cport),
        Err(_) => {
            crate::log::warning(&format!("Cluster bus: invalid node address {ip}"));
            d.with_state(|st| st.link_down(mono_unix_ms(), link));
            return;
        }
    };
    let r = TcpStream::connect_timeout(addr, Duration::from_millis(CONNECT_TIMEOUT_MS)).await;
    let wanted = d.with_state(|st| st.links.contains_key(&link));
    match r {
        Ok(stream) if wanted => {
            d.start_link(link, stream);
            d.with_state(|st| st.link_up(mono_unix_ms(), link));
        }
        Ok(_) => {}
        Err(e) => {
            crate::log::debug(&format!("Cluster bus: connecting to {addr} failed: {e}"));
            d.with_state(|st| st.link_down(mono_unix_ms(), link));
        }
    }
}

async fn read_loop(
    d: Rc<Driver>,
    link: LinkId,
    mut stream: TcpStream,
    peer_ip: String,
    local_ip: String,
) {
    let mut head = [0u8; 8];
    loop {
        if stream.read_exact(&mut head).await.is_err() {
            break;
        }
        let Some(len) = message::frame_len(&head).filter(|&l| l <= BUS_MSG_MAX_BYTES) else {
            crate::log::warning(&format!(
                "Cluster bus: bad message start from {peer_ip}; closing the link"
            ));
            break;
        };
        let mut buf = vec![0u8; len];
        buf[..8].copy_from_slice(&head);
        if stream.read_exact(&mut buf[8..]).await.is_err() {
            break;
        }
        let from = Origin {
            link,
            peer_ip: &peer_ip,
            local_ip: &local_ip,
        };
        d.with_state(|st| st.on_message(mono_unix_ms(), &from, &buf));
    }
    d.links.borrow_mut().remove(&link);
    d.with_state(|st| st.link_down(mono_unix_ms(), link));
}
