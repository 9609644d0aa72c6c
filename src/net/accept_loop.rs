//! The event loop's side of accepting clients: the multishot accept of each listener, the
//! round-robin hand-off of new sockets to the shards, pausing a listener when descriptors run
//! out, and registering a socket as a client (maxclients, protected mode, socket options).

use super::*;

impl Reactor {
    pub(super) fn on_accept(&mut self, which: usize, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        if !more {
            self.accept_armed[which] = false;
        }
        if res < 0 && res != -libc::ECANCELED {
            self.accept_failed(which, -res, more);
        }
        if !more && !self.stopping && !self.accept_paused[which] {
            self.submit(Op::Accept { listener: which });
        }
        if res < 0 {
            return;
        }
        let n = self.shard.shards;
        let target = self.next_target % n;
        self.next_target = (self.next_target + 1) % n;
        if target == self.shard.id {
            self.register(res);
        } else {
            let msg = MeshMsg::Conn(crate::mesh::NewConn { fd: res });
            match self.mesh.push(target, msg) {
                Ok(()) => self.mesh.wake(target),
                Err(_) => self.register(res),
            }
        }
    }

    /// An accept failed. Running out of descriptors (or kernel memory) pauses this listener
    /// until the next cron tick instead of re-arming at once, which would fail at once again
    /// and spin; waiting clients stay in the backlog. The log line is rate-limited.
    fn accept_failed(&mut self, which: usize, errno: i32, more: bool) {
        if self.now_ms >= self.accept_log_after_ms {
            let e = std::io::Error::from_raw_os_error(errno).to_string();
            // Redis' text: "accept: " and strerror, without std's " (os error N)".
            let e = e.split(" (os error").next().unwrap_or(&e);
            let also = match self.accept_errors_unlogged {
                0 => String::new(),
                n => format!(" ({n} more accept errors since the last report)"),
            };
            crate::log::warning(&format!("Accepting client connection: accept: {e}{also}"));
            self.accept_log_after_ms = self.now_ms + ACCEPT_ERROR_LOG_PERIOD_MS;
            self.accept_errors_unlogged = 0;
        } else {
            self.accept_errors_unlogged += 1;
        }
        // Failures of one incoming connection (aborted, interrupted) do not pause the rest.
        let transient = matches!(
            errno,
            libc::ECONNABORTED | libc::EINTR | libc::EAGAIN | libc::EPROTO
        );
        if transient {
            return;
        }
        self.accept_paused[which] = true;
        if more {
            // Still armed: cancel it; its final completion arrives without F_MORE.
            self.submit(Op::CancelAccept { listener: which });
        }
    }

    /// Re-arms the listeners paused by `accept_failed` (once per cron tick).
    pub(super) fn resume_accepts(&mut self) {
        for which in 0..self.listeners.len() {
            if self.accept_paused[which] && !self.accept_armed[which] && !self.stopping {
                self.accept_paused[which] = false;
                self.submit(Op::Accept { listener: which });
            }
        }
    }

    /// Takes a new client socket: limits, socket options, client record, first receive.
    pub(super) fn register(&mut self, fd: RawFd) {
        let global = self.shard.global.clone();
        let (maxclients, keepalive_s, protected, password_set) = global.cfg(|c| {
            (
                c.maxclients,
                c.tcp_keepalive_s,
                c.stored_bool("protected-mode", true),
                c.requirepass.is_some(),
            )
        });
        self.shard.stats.connections_received += 1;
        let (links, full_reply) = cluster_links(&self.shard.slot_map);
        if (global.connected_clients.load(Ordering::SeqCst) + links) as u64 >= maxclients {
            socket::refuse(fd, full_reply);
            self.shard.stats.rejected_connections += 1;
            return;
        }
        // Once per connection; the address is only looked at when protected mode applies.
        if protected::in_force(protected, password_set) && !protected::peer_is_loopback(fd) {
            socket::refuse(fd, protected::DENIED_REPLY);
            self.shard.stats.rejected_connections += 1;
            return;
        }
        global.connected_clients.fetch_add(1, Ordering::SeqCst);
        let addrs = socket::addrs(fd);
        if !addrs.unix {
            socket::tune_client(fd, keepalive_s);
        }
        let client = Client {
            id: global.new_client_id(),
            fd,
            addr: addrs.peer,
            laddr: addrs.local,
            unix_socket: addrs.unix,
            created_ms: self.now_ms,
            last_interaction_ms: self.now_ms,
            authenticated: global.cfg(|c| c.requirepass.is_none()),
            last_cmd: "NULL",
            ..Default::default()
        };
        let client_idx = self.shard.clients.insert(client);
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                self.conns.len() - 1
            }
        };
        self.gens[idx] = self.gens[idx].wrapping_add(1) & 0xFF_FFFF;
        self.conns[idx] = Some(Conn::new(fd, self.gens[idx], client_idx));
        let c = self.shard.clients.get_mut(client_idx);
        c.conn_slot = idx as u32;
        c.conn_gen = self.gens[idx];
        self.arm_recv(idx);
    }
}

/// In cluster mode Redis counts two bus links per other known node against maxclients and
/// says so in its refusal; standalone, only clients count.
fn cluster_links(map: &crate::cluster::slot_map::SlotMap) -> (usize, &'static [u8]) {
    if !map.cluster_enabled {
        return (0, b"-ERR max number of clients reached\r\n");
    }
    // Node table slots of forgotten nodes are left empty.
    let nodes = map.addrs.iter().filter(|a| !a.is_empty()).count();
    (
        2 * nodes.saturating_sub(1),
        b"-ERR max number of clients + cluster connections reached\r\n",
    )
}
