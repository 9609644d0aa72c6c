#!/usr/bin/env python3
"""scripts/lib/sync_poll.py: time one full sync and sample the master's memory (bench-sync.sh).

Resets the master's peak RSS (clear_refs 5), reads its RSS, sends REPLICAOF to the replica and
then every --interval seconds reads the replica's INFO replication and DBSIZE, and samples the
master's VmRSS and every child process of the master (redis' fork): its VmRSS and its
Private_Dirty (smaps_rollup: the pages copy-on-write really duplicated). Done when the replica
says master_link_status:up and master_sync_in_progress:0 and its DBSIZE equals the master's
(asked of the master after that). Prints one tab-separated line:
  sync_ms master_rss_before_kb master_rss_peak_kb child_rss_peak_kb child_dirty_peak_kb
  replica_rss_kb dbsize samples slowest_info_ms
(slowest_info_ms: the longest the replica took to answer one INFO replication;
master_rss_peak is the larger of VmHWM at the end and the largest sampled VmRSS). Exit 1 when
--timeout passed first. Every socket operation has a timeout; the loop is bounded.

With --verify-keys N (after a sync, once writes stopped) it instead waits until the replica's
offset equals the master's, then compares the values of every --verify-step-th key of
key:%012d for 0..N-1 on both (MGET in batches) and prints "offset_wait_ms compared mismatches"
(exit 1 on any mismatch or if the offsets never meet).
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


def read_line(sock, buf):
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf.split(b"\r\n", 1)


def mget(sock, keys):
    """Values of `keys` (bytes or None), through one MGET."""
    out = b"*%d\r\n$4\r\nMGET\r\n" % (len(keys) + 1)
    for k in keys:
        out += b"$%d\r\n%s\r\n" % (len(k), k.encode())
    sock.sendall(out)
    head, buf = read_line(sock, b"")
    if head[:1] != b"*":
        raise OSError(f"MGET answered {head!r}")
    vals = []
    for _ in range(int(head[1:])):
        head, buf = read_line(sock, buf)
        n = int(head[1:])
        if n < 0:
            vals.append(None)
            continue
        while len(buf) < n + 2:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("closed")
            buf += chunk
        vals.append(buf[:n])
        buf = buf[n + 2:]
    return vals


def verify(args, master, replica):
    """Waits for equal offsets (bounded), then compares sampled keys on both sides."""
    t0 = time.monotonic()
    while True:
        want = fields(call(master, "INFO", "replication")).get("master_repl_offset")
        got = fields(call(replica, "INFO", "replication")).get("master_repl_offset")
        if want is not None and want == got:
            break
        if time.monotonic() - t0 > args.timeout:
            print(f"- 0 offsets-differ({got}/{want})")
            return 1
        time.sleep(0.05)
    wait_ms = round((time.monotonic() - t0) * 1000)
    keys = [f"key:{i:012d}" for i in range(0, args.verify_keys, args.verify_step)]
    bad = 0
    for i in range(0, len(keys), 1000):
        batch = keys[i:i + 1000]
        bad += sum(a != b for a, b in zip(mget(master, batch), mget(replica, batch)))
    print(f"{wait_ms}\t{len(keys)}\t{bad}")
    return 1 if bad else 0


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
    p.add_argument("--verify-keys", type=int, default=0)
    p.add_argument("--verify-step", type=int, default=97)
    args = p.parse_args()
    master, replica = connect(args.master_port), connect(args.replica_port)
    if args.verify_keys:
        return verify(args, master, replica)
    with open(f"/proc/{args.master_pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    rss_before = status_kb(args.master_pid, "VmRSS")
    rss_peak = rss_before
    child_rss = child_dirty = 0
    samples = slowest_ms = 0
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
        asked = time.monotonic()
        f = fields(call(replica, "INFO", "replication"))
        slowest_ms = max(slowest_ms, round((time.monotonic() - asked) * 1000))
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
    cols = [done_ms, rss_before, rss_peak, child_rss, child_dirty, replica_rss, dbsize, samples,
            slowest_ms]
    print("\t".join("-" if v is None else str(v) for v in cols))
    return 0 if done_ms is not None else 1


if __name__ == "__main__":
    sys.exit(main())
