#!/usr/bin/env python3
"""scripts/lib/sync_poll.py: time one full sync and sample the master's memory (bench-sync.sh).

Resets the master's peak RSS (clear_refs 5), reads its RSS, sends REPLICAOF to the replica and
then every --interval seconds reads the replica's INFO replication and DBSIZE, and samples the
master's VmRSS and every child process of the master (redis' fork): its VmRSS and its
Private_Dirty (smaps_rollup: the pages copy-on-write really duplicated). Done when the replica
says master_link_status:up and master_sync_in_progress:0 and its DBSIZE equals the master's
(asked of the master after that). Prints one tab-separated line:
  sync_ms master_rss_before_kb master_rss_peak_kb child_rss_peak_kb child_dirty_peak_kb
  replica_rss_kb dbsize samples
(master_rss_peak is the larger of VmHWM at the end and the largest sampled VmRSS). Exit 1 when
--timeout passed first. Every socket operation has a timeout; the loop is bounded.
"""

import argparse
import os
import socket
import sys
import time

SOCKET_TIMEOUT_S = 5.0


def call(sock, *args):
    """Sends one command and returns the raw reply payload as text (bulk or line)."""
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    buf = b""
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        buf += chunk
    head, rest = buf.split(b"\r\n", 1)
    if head[:1] == b"$":
        n = int(head[1:])
        while len(rest) < n + 2:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("closed")
            rest += chunk
        return rest[:n].decode(errors="replace")
    return head.decode(errors="replace")


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), SOCKET_TIMEOUT_S)
    s.settimeout(SOCKET_TIMEOUT_S)
    return s


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def dirty_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """Child pids of every thread of `pid` (a fork may come from any thread)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def fields(info):
    return dict(
        line.split(":", 1) for line in info.replace("\r", "").split("\n") if ":" in line
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--master-port", type=int, required=True)
    p.add_argument("--master-pid", type=int, required=True)
    p.add_argument("--replica-port", type=int, required=True)
    p.add_argument("--replica-pid", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()
    master, replica = connect(args.master_port), connect(args.replica_port)
    with open(f"/proc/{args.master_pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    rss_before = status_kb(args.master_pid, "VmRSS")
    rss_peak = rss_before
    child_rss = child_dirty = 0
    samples = 0
    t0 = time.monotonic()
    reply = call(replica, "REPLICAOF", "127.0.0.1", args.master_port)
    if reply != "+OK":
        raise SystemExit(f"sync_poll: REPLICAOF answered {reply}")
    done_ms = None
    dbsize = -1
    while time.monotonic() - t0 < args.timeout:
        tick = time.monotonic()
        rss_peak = max(rss_peak, status_kb(args.master_pid, "VmRSS"))
        for c in children(args.master_pid):
            child_rss = max(child_rss, status_kb(c, "VmRSS"))
            child_dirty = max(child_dirty, dirty_kb(c))
        samples += 1
        f = fields(call(replica, "INFO", "replication"))
        if f.get("master_link_status") == "up" and f.get("master_sync_in_progress") == "0":
            got = int(call(replica, "DBSIZE")[1:])
            want = int(call(master, "DBSIZE")[1:])
            if got == want:
                done_ms = round((time.monotonic() - t0) * 1000)
                dbsize = got
                break
        time.sleep(max(0.0, args.interval - (time.monotonic() - tick)))
    rss_peak = max(rss_peak, status_kb(args.master_pid, "VmHWM"))
    replica_rss = status_kb(args.replica_pid, "VmRSS")
    cols = [done_ms, rss_before, rss_peak, child_rss, child_dirty, replica_rss, dbsize, samples]
    print("\t".join("-" if v is None else str(v) for v in cols))
    return 0 if done_ms is not None else 1


if __name__ == "__main__":
    sys.exit(main())
