#!/usr/bin/env python3
"""scripts/lib/failover_poll.py: stop one cluster master and time the failover (bench-failover.py).

Sends the signal itself (so the clock starts at the kill, not at a shell's fork), then polls
every surviving node over kept-open RESP connections every --interval seconds until:
  - every surviving node maps the probe slot to the promoted replica in CLUSTER NODES,
  - every surviving node reports cluster_state:ok,
  - the promoted replica answers GET of a key in that slot itself (no MOVED, no CLUSTERDOWN).
Also records the first poll where one node, and where every node, flags the master `fail`.
Prints one tab-separated line of milliseconds since the signal:
  fail_first fail_all promoted ok polls
(`-` for a milestone never reached; the exit status is 1 when --timeout passed first).
Every socket operation has a timeout and the loop is bounded by --timeout.
"""

import argparse
import os
import signal
import socket
import sys
import time

SOCKET_TIMEOUT_S = 1.0
# The probe key's hash slot, CRC16/XMODEM mod 16384, as the cluster spec defines it.


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_for_slot(slot):
    """A key hashing to exactly `slot` (bounded search: 2M tries cover every slot)."""
    for i in range(2_000_000):
        key = f"probe:{i}"
        if crc16(key.encode()) % 16384 == slot:
            return key
    raise SystemExit(f"failover_poll: no key found for slot {slot}")


class Conn:
    """One RESP connection to 127.0.0.1:port, reopened after any error."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def call(self, *args):
        """The decoded reply (str, int, None, list, or an Exception for -ERR), or None + reset."""
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), SOCKET_TIMEOUT_S)
                self.sock.settimeout(SOCKET_TIMEOUT_S)
                self.buf = b""
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                a = a.encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            self.sock.sendall(out)
            return self._reply()
        except (OSError, ValueError):
            self.close()
            return ConnectionError("no reply")

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ValueError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ValueError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return Exception(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(min(n, 100000))]
        raise ValueError(f"bad reply type {kind!r}")


def slot_owner(nodes_text, slot):
    """The node id CLUSTER NODES says serves `slot`, or None."""
    for line in nodes_text.splitlines():
        f = line.split()
        for rng in f[8:]:
            if rng.startswith("["):
                continue
            lo, _, hi = rng.partition("-")
            if int(lo) <= slot <= int(hi or lo):
                return f[0]
    return None


def flags_of(nodes_text, node_id):
    for line in nodes_text.splitlines():
        f = line.split()
        if len(f) > 2 and f[0] == node_id:
            return f[2].split(",")
    return []


def poll_once(conns, args, probe_key):
    """(fail seen by how many, ok everywhere?, promoted serves?) for one poll round."""
    fails = 0
    all_ok = True
    for c in conns:
        nodes = c.call("CLUSTER", "NODES")
        info = c.call("CLUSTER", "INFO")
        if not isinstance(nodes, str) or not isinstance(info, str):
            all_ok = False
            continue
        if "fail" in flags_of(nodes, args.master_id):
            fails += 1
        if "cluster_state:ok" not in info or slot_owner(nodes, args.slot) != args.replica_id:
            all_ok = False
    promoted = next(c for c in conns if c.port == args.replica_port)
    served = not isinstance(promoted.call("GET", probe_key), Exception)
    return fails, all_ok and served, served


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--signal", choices=["KILL", "STOP"], required=True)
    p.add_argument("--ports", required=True, help="surviving ports, comma-separated")
    p.add_argument("--master-id", required=True)
    p.add_argument("--replica-id", required=True)
    p.add_argument("--replica-port", type=int, required=True)
    p.add_argument("--slot", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    probe_key = key_for_slot(args.slot)
    conns = [Conn(int(x)) for x in args.ports.split(",")]
    for c in conns:  # open every connection before the clock starts
        c.call("PING")
    got = {"fail_first": None, "fail_all": None, "promoted": None, "ok": None}
    polls = 0
    t0 = time.monotonic()
    os.kill(args.pid, getattr(signal, "SIG" + args.signal))
    deadline = t0 + args.timeout
    while time.monotonic() < deadline:
        tick = time.monotonic()
        fails, ok, served = poll_once(conns, args, probe_key)
        polls += 1
        now_ms = round((time.monotonic() - t0) * 1000)
        if fails and got["fail_first"] is None:
            got["fail_first"] = now_ms
        if fails == len(conns) and got["fail_all"] is None:
            got["fail_all"] = now_ms
        if served and got["promoted"] is None:
            got["promoted"] = now_ms
        if ok:
            got["ok"] = now_ms
            break
        time.sleep(max(0.0, args.interval - (time.monotonic() - tick)))
    cols = [got[k] for k in ("fail_first", "fail_all", "promoted", "ok")]
    print("\t".join("-" if v is None else str(v) for v in cols) + f"\t{polls}")
    return 0 if got["ok"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
