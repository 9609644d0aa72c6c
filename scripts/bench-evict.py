#!/usr/bin/env python3
"""scripts/bench-evict.py: eviction quality of slotd and redis-server side by side, in one run:
the hit ratio of a skewed (Zipf) read/write mix over more keys than maxmemory holds, with the
same maxmemory, policy and samples on both servers, and used_memory against maxmemory while
it runs.

Usage: scripts/bench-evict.py [--quick] [--slotd-redis-args]
  --quick             1 round instead of 3, a quarter of the operations.
  --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
                      SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
Environment:
  SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
  REDIS_BIN         default /usr/bin/redis-server
  REDIS_PORT        default 6530;   SLOTD_PORT  default 6531
  SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
  BENCH_OUT_DIR     default bench-results (relative to the repository root)
  EVICT_KEYS        distinct keys N (default 100000)
  EVICT_VALUE_BYTES value size (default 1000)
  EVICT_POLICIES    default "allkeys-lru allkeys-lfu"; a volatile-* policy writes every key
                    with a TTL (EX 1000000), so that all keys can be evicted
  EVICT_SAMPLES     maxmemory-samples on both servers (default 5, Redis' default)
  EVICT_ZIPF_S      the Zipf exponent s (default 1.0)
  EVICT_WRITE_PCT   percent of the operations that are SETs (default 10)
  EVICT_WARMUP_OPS, EVICT_OPS  operations before and during the measurement (defaults
                    300000 and 1000000, before --quick's division by 4)
Smoke test of the plumbing without slotd (a few seconds):
  SLOTD_BIN=/usr/bin/redis-server EVICT_KEYS=20000 BENCH_OUT_DIR=/tmp/bench-smoke \\
    scripts/bench-evict.py --quick --slotd-redis-args

The workload is a cache: key ranks drawn from a Zipf distribution (P(rank r) ~ 1/r^s) over
keys key:%010d, one stream generated once with a fixed seed and replayed identically on each
server; a GET that misses is followed by a SET of that key (read-through fill), and
EVICT_WRITE_PCT percent of the operations are SETs outright. One connection, pipelined in
batches of PIPELINE operations (a fill goes out with the batch after its miss). maxmemory is a
quarter of the data set, N x EVICT_VALUE_BYTES (rounded up to a whole KiB), so neither server
can hold more than about a quarter of the keys. The hit ratio is INFO stats' keyspace_hits /
(keyspace_hits + keyspace_misses) over the measured operations (after the warm-up); the
client's own count of nil replies is beside it as a check. used_memory is sampled every
SAMPLE_EVERY_S during the measurement. Each (policy, server, round) starts a fresh server;
the servers alternate which goes first; medians over rounds.
A server that refuses the maxmemory settings (slotd before it evicts) is reported as such,
with its own words, and the other server's figures stand alone.
Output: bench-results/YYYY-MM-DD-HHMM-evict.md and a .png chart beside it.
"""

import os
import random
import socket
import sys
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-evict.py"
STOP_WAIT_S = 10
SEED = 13
PIPELINE = 64
KEY_FMT = b"key:%010d"
TTL_S = 1000000
SAMPLE_EVERY_S = 0.5
# Bounds: one socket read or write, one whole phase (warm-up or measurement).
IO_TIMEOUT_S = 30
PHASE_TIMEOUT_S = 600
RECV_BYTES = 1 << 20
# What Client.reply saw.
NIL, ERROR, OTHER = 0, 1, 2


class Settings(bl.PairSettings):
    def __init__(self, opts):
        super().__init__(opts, 4)
        self.rounds = 1 if opts.quick else 3
        self.redis_port = bl.env_int("REDIS_PORT", 6530)
        self.slotd_port = bl.env_int("SLOTD_PORT", 6531)
        self.keys = bl.env_int("EVICT_KEYS", 100000)
        self.value_len = bl.env_int("EVICT_VALUE_BYTES", 1000)
        self.policies = bl.env_str("EVICT_POLICIES", "allkeys-lru allkeys-lfu").split()
        self.samples = bl.env_int("EVICT_SAMPLES", 5)
        self.zipf_s = float(bl.env_str("EVICT_ZIPF_S", "1.0"))
        self.write_pct = bl.env_int("EVICT_WRITE_PCT", 10)
        self.warmup_ops = bl.env_int("EVICT_WARMUP_OPS", 300000) // self.div
        self.ops = bl.env_int("EVICT_OPS", 1000000) // self.div
        data = self.keys * self.value_len
        self.maxmemory = -(-data // 4 // 1024) * 1024
        if self.keys <= 0 or self.value_len <= 0 or self.ops <= 0:
            raise Fatal("EVICT_KEYS, EVICT_VALUE_BYTES and EVICT_OPS must be positive")


# The one place that says how each server is started (arguments only; the binary and the
# taskset prefix are added by Bench.launch).
def limit_args(s, policy):
    return (f"--maxmemory {s.maxmemory} --maxmemory-policy {policy}"
            f" --maxmemory-samples {s.samples}")


def redis_args(s, port, dir_, policy):
    return (f"--port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir_} "
            + limit_args(s, policy))


def slotd_args(s, port, dir_, policy):
    if s.slotd_redis_args:
        return redis_args(s, port, dir_, policy)
    return f"--port {port} --server-threads 1 " + limit_args(s, policy)


# ---- the workload ------------------------------------------------------------------------

def zipf_cum(s):
    """Cumulative Zipf weights of ranks 1..N (not normalised)."""
    cum, total = [], 0.0
    for r in range(1, s.keys + 1):
        total += r ** -s.zipf_s
        cum.append(total)
    return cum


def top_mass(cum, k):
    """The share of accesses that go to the k hottest keys: the hit ratio of an oracle cache
    holding k keys (the ceiling for a server that holds k)."""
    k = max(0, min(int(k), len(cum)))
    return cum[k - 1] / cum[-1] if k else 0.0


def op_stream(s, cum, count, rng):
    """`count` operations as ints: key number * 2 + 1 for a SET, key number * 2 for a GET;
    key numbers are Zipf ranks (0 the hottest)."""
    keys = rng.choices(range(s.keys), cum_weights=cum, k=count)
    write = s.write_pct / 100.0
    rand = rng.random
    return [k * 2 + (rand() < write) for k in keys]


class Commands:
    """The RESP bytes of GET and SET for every key, built once (the SET value part once)."""

    def __init__(self, s, policy):
        tail = b"$%d\r\n%s\r\n" % (s.value_len, b"v" * s.value_len)
        argc = 3
        if policy.startswith("volatile-"):
            tail += b"$2\r\nEX\r\n$%d\r\n%d\r\n" % (len(str(TTL_S)), TTL_S)
            argc = 5
        self.get = [b"*2\r\n$3\r\nGET\r\n$14\r\n" + KEY_FMT % k + b"\r\n" for k in range(s.keys)]
        # A SET is its head (up to the key) and the value part shared by every key.
        set_head = b"*%d\r\n$3\r\nSET\r\n$14\r\n" % argc
        self.set_head = [set_head + KEY_FMT % k + b"\r\n" for k in range(s.keys)]
        self.set_tail = tail


class Client:
    """One pipelined connection: sends a batch, then parses exactly its replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), IO_TIMEOUT_S)
        self.sock.settimeout(IO_TIMEOUT_S)
        self.buf = b""
        self.pos = 0
        self.error = ""

    def close(self):
        self.sock.close()

    def fill(self):
        """Reads more bytes; the unparsed ones move to the front (offsets from pos hold)."""
        chunk = self.sock.recv(RECV_BYTES)
        if not chunk:
            raise Fatal("the server closed the connection")
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0

    def reply(self):
        """Parses one reply; returns NIL, ERROR (its text in self.error) or OTHER. Only the
        reply shapes of GET and SET are expected."""
        eol = self.buf.find(b"\r\n", self.pos)
        while eol < 0:
            self.fill()
            eol = self.buf.find(b"\r\n", self.pos)
        kind = self.buf[self.pos]
        if kind == 36:  # '$'
            n = int(self.buf[self.pos + 1:eol])
            if n < 0:
                self.pos = eol + 2
                return NIL
            need = eol + 2 + n + 2 - self.pos
            while len(self.buf) - self.pos < need:
                self.fill()
            self.pos += need
            return OTHER
        if kind == 45:  # '-'
            self.error = self.buf[self.pos + 1:eol].decode(errors="replace")
            self.pos = eol + 2
            return ERROR
        self.pos = eol + 2
        return OTHER

    def run(self, ops, cmds, on_sample):
        """Plays the operations; returns (GETs, nil replies, errors, first error text)."""
        gets = nils = errors = 0
        first_error = ""
        fills = []
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        next_sample = time.monotonic() + SAMPLE_EVERY_S
        get, set_head, set_tail = cmds.get, cmds.set_head, cmds.set_tail
        for start in range(0, len(ops), PIPELINE):
            out = []
            for k in fills:
                out += (set_head[k], set_tail)
            # Per command sent: the key of a GET, -1 for a SET.
            expect = [-1] * len(fills)
            for op in ops[start:start + PIPELINE]:
                k = op >> 1
                if op & 1:
                    out += (set_head[k], set_tail)
                    expect.append(-1)
                else:
                    out.append(get[k])
                    expect.append(k)
            self.sock.sendall(b"".join(out))
            fills = []
            for k in expect:
                r = self.reply()
                if r == ERROR:
                    errors += 1
                    first_error = first_error or self.error
                elif k >= 0:
                    gets += 1
                    if r == NIL:
                        nils += 1
                        fills.append(k)
            now = time.monotonic()
            if now >= next_sample:
                on_sample()
                next_sample = now + SAMPLE_EVERY_S
            if now > deadline:
                raise Fatal(f"a phase took over {PHASE_TIMEOUT_S}s")
        return gets, nils, errors, first_error


# ---- one run -----------------------------------------------------------------------------

def info_ints(port, section, fields):
    out = {}
    for line in bl.cli(port, "INFO", section).splitlines():
        key, _, value = line.partition(":")
        if key in fields and value.lstrip("-").isdigit():
            out[key] = int(value)
    return out


def run_one(s, b, servers, name, policy, rnd, warmup, ops, cmds):
    """One fresh server, warm-up, measurement; a result dict, or None when the server
    refused the maxmemory settings (its words in `refusals`)."""
    binary, port, args_fn = servers[name]
    b.start(name, binary, port, s.server_cpu, args_fn(policy))
    pid = b.pid(name)
    idle = info_ints(port, "memory", {"used_memory"}).get("used_memory", 0)
    client = Client(port)
    try:
        client.run(warmup, cmds, lambda: None)
        stats0 = info_ints(port, "stats", {"keyspace_hits", "keyspace_misses", "evicted_keys"})
        samples = []

        def sample():
            m = info_ints(port, "memory", {"used_memory", "maxmemory"})
            samples.append((m.get("used_memory", 0), bl.proc_status_kib(pid, "VmRSS")))

        ticks0, t0 = bl.cpu_ticks(pid), time.monotonic()
        gets, nils, errors, first_error = client.run(ops, cmds, sample)
        took, ticks = time.monotonic() - t0, bl.cpu_ticks(pid) - ticks0
    finally:
        client.close()
    stats1 = info_ints(port, "stats", {"keyspace_hits", "keyspace_misses", "evicted_keys"})
    mem = info_ints(port, "memory", {"used_memory", "maxmemory"})
    dbsize = bl.cli(port, "DBSIZE").strip()
    hwm = bl.proc_status_kib(pid, "VmHWM")
    b.stop(name)
    hits = stats1.get("keyspace_hits", 0) - stats0.get("keyspace_hits", 0)
    misses = stats1.get("keyspace_misses", 0) - stats0.get("keyspace_misses", 0)
    used = [u for u, _ in samples] or [mem.get("used_memory", 0)]
    res = {
        "policy": policy, "server": name, "round": rnd,
        "hit": hits / (hits + misses) if hits + misses else 0.0,
        "client_hit": (gets - nils) / gets if gets else 0.0,
        "ops_s": len(ops) / took if took > 0 else 0.0,
        "cpu_us": bl.cpu_us_per_req(ticks, len(ops) + nils),
        "evicted": stats1.get("evicted_keys", 0) - stats0.get("evicted_keys", 0),
        "dbsize": int(dbsize) if dbsize.isdigit() else 0, "errors": errors,
        "first_error": first_error, "used_med": bl.median(used) / s.maxmemory,
        "used_max": max(used) / s.maxmemory, "maxmemory_info": mem.get("maxmemory", 0),
        "rss_mb": (samples[-1][1] if samples else 0) / 1024, "hwm_mb": hwm / 1024,
        "samples": len(samples), "idle_mb": idle / 1048576,
    }
    b.log("  %-12s %-5s r%d: hit %.4f (client %.4f), %.0f ops/s, %.2f us/op, evicted %d,"
          " keys %d, used_memory median %.3f max %.3f of maxmemory, errors %d %s"
          % (policy, name, rnd, res["hit"], res["client_hit"], res["ops_s"], res["cpu_us"],
             res["evicted"], res["dbsize"], res["used_med"], res["used_max"], errors, first_error))
    return res


def try_start(s, b, servers, name, policy):
    """Starts the server once with the policy to see whether it accepts the settings; returns
    "" when it does, else its refusal (the log's last lines)."""
    binary, port, args_fn = servers[name]
    try:
        b.start(name, binary, port, s.server_cpu, args_fn(policy))
    except Fatal as e:
        tail = b.log_tail(name, 6).strip()
        return tail or str(e)
    b.stop(name)
    return ""


def run_all(s, b, servers):
    rng = random.Random(SEED)
    cum = zipf_cum(s)
    warmup = op_stream(s, cum, s.warmup_ops, rng)
    ops = op_stream(s, cum, s.ops, rng)
    results, refusals = [], {}
    turn = 0
    for policy in s.policies:
        cmds = Commands(s, policy)
        active = []
        for name in servers:
            why = try_start(s, b, servers, name, policy)
            if why:
                b.log(f"{name} refuses {policy}: {why.splitlines()[-1]}")
                refusals[(name, policy)] = why
            else:
                active.append(name)
        for rnd in range(1, s.rounds + 1):
            turn += 1
            for name in bl.round_order(active, turn):
                results.append(run_one(s, b, servers, name, policy, rnd, warmup, ops, cmds))
    for r in results:
        r["ceiling"] = top_mass(cum, r["dbsize"])
    return results, refusals


# ---- report ------------------------------------------------------------------------------

def medians(results):
    groups = {}
    for r in results:
        groups.setdefault((r["policy"], r["server"]), []).append(r)
    return {k: {f: bl.median(r[f] for r in rows)
                for f in ["hit", "ceiling", "client_hit", "ops_s", "cpu_us", "evicted", "dbsize",
                          "used_med", "used_max", "hwm_mb", "idle_mb"]}
            for k, rows in groups.items()}


def summary_table(s, med, refusals):
    lines = ["| policy | redis hit ratio | slotd hit ratio | slotd - redis (points) |"
             " redis used_memory / maxmemory median, max |"
             " slotd used_memory / maxmemory median, max | used_memory MB before any key"
             " redis, slotd | keys held at end redis, slotd |"
             " oracle hit ratio for the keys held redis, slotd |"
             " evicted keys redis, slotd | peak RSS MB redis, slotd |"
             " server CPU us/op redis, slotd |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for policy in s.policies:
        r, d = med.get((policy, "redis")), med.get((policy, "slotd"))

        def cell(m, f, fmt):
            return fmt % m[f] if m else "-"

        def pair(f, fmt):
            return f"{cell(r, f, fmt)}, {cell(d, f, fmt)}"

        if d:
            slotd_hit = "%.4f" % d["hit"]
        elif ("slotd", policy) in refusals:
            slotd_hit = "refused (below)"
        else:
            slotd_hit = "-"
        diff = "%+.2f" % ((d["hit"] - r["hit"]) * 100) if r and d else "-"
        lines.append(bl.md_row([
            policy, cell(r, "hit", "%.4f"), slotd_hit, diff,
            f"{cell(r, 'used_med', '%.3f')}, {cell(r, 'used_max', '%.3f')}",
            f"{cell(d, 'used_med', '%.3f')}, {cell(d, 'used_max', '%.3f')}",
            pair("idle_mb", "%.1f"), pair("dbsize", "%.0f"), pair("ceiling", "%.4f"), pair("evicted", "%.0f"), pair("hwm_mb", "%.1f"),
            pair("cpu_us", "%.2f")]))
    return lines


def draw_chart(s, med, path, log):
    try:
        import chart
        series = {n: [med[(p, n)]["hit"] if (p, n) in med else None for p in s.policies]
                  for n in ["redis", "slotd"]}
        used = {n: [med[(p, n)]["used_max"] if (p, n) in med else None for p in s.policies]
                for n in ["redis", "slotd"]}
        chart.grouped_bars(
            [("hit ratio (higher is better)", s.policies, series),
             ("max used_memory / maxmemory during the run", s.policies, used)],
            path, f"eviction quality: Zipf s={s.zipf_s:g} over {s.keys} keys,"
            " maxmemory a quarter of the data (medians)")
        return True
    except Exception as e:  # the report is complete without the chart
        log(f"chart not drawn: {e}")
        return False


def report(s, servers, results, refusals, load_start, slotd_bin, chart_name):
    out = [f"# slotd vs redis-server, eviction quality: {bl.now_text()}", "", "## Machine", ""]
    out += bl.machine_lines()
    out += bl.server_lines(s.redis_bin, slotd_bin, s.slotd_redis_args)
    out.append(f"- load average (1/5/15 min) at start: {load_start}, at end: {bl.loadavg()}")
    out.append(f"- rounds: {s.rounds} (servers alternate), quick: {int(s.quick)}; medians below")
    out += ["", "## Command lines", "", "```"]
    for name, (binary, _, args_fn) in servers.items():
        out.append(f"{name}: taskset -c {s.server_cpu} {binary} {args_fn('POLICY')}")
    out += [f"client: this script pinned to CPU {s.client_cpu}, one connection, {PIPELINE}"
            " operations per pipelined batch", "```", "", "## Workload", ""]
    data = s.keys * s.value_len
    out += [
        f"- {s.keys} keys `key:%010d`, {s.value_len}-byte values: data set {data} bytes;"
        f" maxmemory {s.maxmemory} bytes (a quarter), maxmemory-samples {s.samples}",
        f"- Zipf s = {s.zipf_s:g} over the key ranks, seed {SEED}; {s.write_pct}% SETs, the"
        " rest GETs, and each GET that misses is followed by a SET of its key",
        f"- {len(s.policies)} policies x {s.rounds} rounds; each run: {s.warmup_ops} operations"
        f" of warm-up, then {s.ops} measured (the same streams on every server)",
        "- hit ratio: INFO keyspace_hits / (hits + misses) over the measured operations; the"
        " client's own count (non-nil GET replies / GETs) should equal it. The oracle hit ratio"
        " is the share of accesses to the K hottest keys, K the keys a server held at the end:"
        " what a perfect policy would reach with that server's memory per key. maxmemory"
        " counts all of used_memory, so what a server uses before its first key (its"
        " used_memory right after start, shown) leaves that much less for keys",
        f"- used_memory sampled every {SAMPLE_EVERY_S:g} s during the measurement, as a fraction"
        " of maxmemory (Redis evicts after a write takes it above, so a max slightly above 1 is"
        " normal)",
        "", "## Results", "",
    ]
    med = medians(results)
    out += summary_table(s, med, refusals)
    for (name, policy), why in sorted(refusals.items()):
        out += ["", f"### {name} refused {policy}", "", "```"] + why.splitlines() + ["```"]
    if chart_name:
        out += ["", f"![hit ratio]({chart_name})"]
    rows = [[r["policy"], r["server"], r["round"], "%.4f" % r["hit"], "%.4f" % r["client_hit"],
             "%.0f" % r["ops_s"], "%.2f" % r["cpu_us"], r["evicted"], r["dbsize"],
             "%.3f" % r["used_med"], "%.3f" % r["used_max"], "%.1f" % r["rss_mb"],
             "%.1f" % r["hwm_mb"], r["errors"], r["first_error"]] for r in results]
    out += bl.md_section_table(
        "All runs", "| policy | server | round | hit ratio | client hit ratio | ops/s |"
        " server CPU us/op | evicted | keys at end | used/max median | used/max max |"
        " RSS MB at end | peak RSS MB | errors | first error |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|", rows)
    return "\n".join(out) + "\n"


def main():
    s, log, slotd_bin, start_stamp, load_start = bl.pair_start(PROG, __doc__, Settings,
                                                                "bench-evict")
    with bl.Bench("bench-evict", "slotd-bench-evict.", bl.START_WAIT_S, STOP_WAIT_S) as b:
        servers = {
            "redis": (s.redis_bin, s.redis_port,
                      lambda p: redis_args(s, s.redis_port, b.work / "redis", p)),
            "slotd": (slotd_bin, s.slotd_port,
                      lambda p: slotd_args(s, s.slotd_port, b.work / "slotd", p)),
        }
        b.log(f"{s.keys} keys x {s.value_len} B, maxmemory {s.maxmemory}, policies"
              f" {s.policies}, {s.rounds} rounds of {s.warmup_ops}+{s.ops} ops; work dir {b.work}")
        results, refusals = run_all(s, b, servers)
    chart_name = f"{start_stamp}-evict.png"
    os.makedirs(s.out_dir, exist_ok=True)
    if not results or not draw_chart(s, medians(results), os.path.join(s.out_dir, chart_name),
                                     log):
        chart_name = ""
    text = report(s, servers, results, refusals, load_start, slotd_bin, chart_name)
    bl.write_report(s.out_dir, f"{start_stamp}-evict.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
