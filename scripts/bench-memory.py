#!/usr/bin/env python3
"""scripts/bench-memory.py: bytes per key of slotd and redis-server side by side, in one run:
strings with 8, 16 and 100-byte values, with and without a TTL, and small and large hashes,
sets and sorted sets, in a standalone and a cluster-enabled server (issue 13's table).

Usage: scripts/bench-memory.py [--quick] [--slotd-redis-args]
  --quick             only the first key count of BENCH_MEM_KEYS (skips 10M).
  --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
                      SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
Environment:
  SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
  SLOTD_EXTRA_ARGS  appended to slotd's arguments in both modes (e.g. an allocator setting)
  REDIS_BIN         default /usr/bin/redis-server
  REDIS_PORT        default 6520;   SLOTD_PORT  default 6521
  SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
  BENCH_OUT_DIR     default bench-results (relative to the repository root)
  BENCH_MEM_KEYS    key counts (default "1000000 10000000"); every case runs at the first,
                    the cases of BENCH_MEM_BIG_CASES at the others
  BENCH_MEM_CASES   the cases to run (default: all of them, see below)
  BENCH_MEM_BIG_CASES  cases run at the key counts after the first (default "str16");
                    "all" runs every case there (10M keys of every case: about an hour)
  BENCH_MEM_MODES   default "standalone cluster"
Smoke test of the plumbing without slotd (tiny, a few seconds):
  SLOTD_BIN=/usr/bin/redis-server BENCH_MEM_KEYS=20000 BENCH_OUT_DIR=/tmp/bench-smoke \\
    scripts/bench-memory.py --quick --slotd-redis-args

Method (issue 13's): every measurement loads one case into a freshly started server pinned to
SERVER_CPU with `redis-cli --pipe` pinned to CLIENT_CPU, one command per key, keys
`key:%010d`. B/key = (VmRSS after - VmRSS before) / keys, VmRSS from /proc/PID/status 0.5 s
after the server answers (and, in cluster mode, owns all 16384 slots) and 1 s after the load;
beside it the same difference of INFO memory's used_memory. A large collection case loads
1/1000 of the key count (each key holds 1000 elements), so its figure is also shown per
element.
The servers alternate which goes first from one measurement to the next; memory figures are
deterministic enough that one load per server and case is kept (no medians).
Default run (1M keys of every case, 10M of str16, both modes): about 15 minutes; --quick
about 8.
Output: bench-results/YYYY-MM-DD-HHMM-memory.md and a .png chart beside it.
"""

import collections
import os
import sys
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-memory.py"
# slotd frees every key at exit: over 10 s for 10M keys on a busy machine.
STOP_WAIT_S = 60
# Bounds: one load (10M keys take about a minute on either server), the slot setup of a
# cluster-enabled server.
LOAD_TIMEOUT_S = 900
CLUSTER_OK_WAIT_S = 10
# Keys per write() of a generated load file.
GEN_CHUNK = 50000
KEY_FMT = b"key:%010d"
KEY_LEN = 14
# Long enough that no key expires during a run (11.6 days).
TTL_S = 1000000
SMALL_ELEMS = 5
# Above Redis 7.0's compiled-in listpack limits (hash 512 entries, zset 128) and slotd's.
LARGE_ELEMS = 1000
LARGE_KEY_DIV = 1000

# name, type, elements per key, value bytes (strings and hash values), TTL, key divisor.
Case = collections.namedtuple("Case", "name type elems value_len ttl key_div")
CASES = [
    Case("str8", "string", 1, 8, False, 1),
    Case("str16", "string", 1, 16, False, 1),
    Case("str100", "string", 1, 100, False, 1),
    Case("str8-ttl", "string", 1, 8, True, 1),
    Case("str16-ttl", "string", 1, 16, True, 1),
    Case("str100-ttl", "string", 1, 100, True, 1),
    Case("hash-small", "hash", SMALL_ELEMS, 8, False, 1),
    Case("hash-large", "hash", LARGE_ELEMS, 8, False, LARGE_KEY_DIV),
    Case("set-small", "set", SMALL_ELEMS, 0, False, 1),
    Case("set-large", "set", LARGE_ELEMS, 0, False, LARGE_KEY_DIV),
    Case("zset-small", "zset", SMALL_ELEMS, 0, False, 1),
    Case("zset-large", "zset", LARGE_ELEMS, 0, False, LARGE_KEY_DIV),
]
CASE_BY_NAME = {c.name: c for c in CASES}
MODES = ["standalone", "cluster"]
# Issue 13's measurements (1M keys, 16-byte values, RSS after minus before), for comparison.
ISSUE_TABLE = {"standalone": {"redis": 113, "slotd": 252}, "cluster": {"redis": 128, "slotd": 252}}


class Settings(bl.PairSettings):
    def __init__(self, opts):
        super().__init__(opts, 1)
        self.redis_port = bl.env_int("REDIS_PORT", 6520)
        self.slotd_port = bl.env_int("SLOTD_PORT", 6521)
        self.sizes = bl.env_ints("BENCH_MEM_KEYS", "1000000 10000000")
        if not self.sizes:
            raise Fatal("BENCH_MEM_KEYS names no key count")
        if opts.quick:
            self.sizes = self.sizes[:1]
        self.cases = self.case_list("BENCH_MEM_CASES", " ".join(c.name for c in CASES))
        self.big_cases = self.case_list("BENCH_MEM_BIG_CASES", "str16")
        self.modes = bl.env_str("BENCH_MEM_MODES", " ".join(MODES)).split()
        for m in self.modes:
            if m not in MODES:
                raise Fatal(f"BENCH_MEM_MODES: unknown mode {m!r} (known: {' '.join(MODES)})")
        self.slotd_extra = os.environ.get("SLOTD_EXTRA_ARGS", "")

    @staticmethod
    def case_list(var, default):
        names = bl.env_str(var, default).split()
        if names == ["all"]:
            return list(CASES)
        for n in names:
            if n not in CASE_BY_NAME:
                raise Fatal(f"{var}: unknown case {n!r} (known: "
                            f"{' '.join(CASE_BY_NAME)})")
        return [CASE_BY_NAME[n] for n in names]

    def plan(self):
        """(key count, case) pairs in run order."""
        out = [(self.sizes[0], c) for c in self.cases]
        for n in self.sizes[1:]:
            out += [(n, c) for c in self.big_cases]
        return out


# The one place that says how each server is started (arguments only; the binary and the
# taskset prefix are added by Bench.launch).
def redis_args(port, dir_, mode):
    args = f"--port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir_}"
    if mode == "cluster":
        args += " --cluster-enabled yes --cluster-config-file nodes.conf"
    return args


def slotd_args(s, port, dir_, mode):
    if s.slotd_redis_args:
        return redis_args(port, dir_, mode)
    args = f"--port {port} --server-threads 1 --dir {dir_}"
    if mode == "cluster":
        args += f" --cluster-enabled yes --cluster-config-file {dir_}/nodes.conf"
    return (args + " " + s.slotd_extra).strip()


# ---- the load files ----------------------------------------------------------------------

def bulk(data):
    return b"$%d\r\n%s\r\n" % (len(data), data)


def command_template(case):
    """The RESP bytes of one key's command, with %010d where the key's number goes."""
    value = b"v" * case.value_len
    if case.type == "string":
        args = [b"SET", None, value] + ([b"EX", b"%d" % TTL_S] if case.ttl else [])
    elif case.type == "hash":
        args = [b"HSET", None]
        for i in range(case.elems):
            args += [b"field:%d" % i, value]
    elif case.type == "set":
        args = [b"SADD", None] + [b"member:%d" % i for i in range(case.elems)]
    else:
        args = [b"ZADD", None]
        for i in range(case.elems):
            args += [b"%d" % i, b"member:%d" % i]
    out = b"*%d\r\n" % len(args)
    for a in args:
        # The key's slot in the template: its length is fixed, its digits come later.
        out += b"$%d\r\n%s\r\n" % (KEY_LEN, KEY_FMT) if a is None else bulk(a)
    return out


def shape_text(case):
    """The command of key number I as the report shows it."""
    text = command_template(case).replace(b"%010d", b"I").decode()
    words = [w for i, w in enumerate(text.split("\r\n")[1:-1]) if i % 2]
    if len(words) > 12:
        words = words[:8] + ["...", f"({len(words) - 2} arguments after the key)"]
    return " ".join(words)


def gen_load(path, case, keys):
    template = command_template(case)
    with open(path, "wb") as f:
        for start in range(0, keys, GEN_CHUNK):
            f.write(b"".join([template % i for i in range(start, min(start + GEN_CHUNK, keys))]))


# ---- one measurement ---------------------------------------------------------------------

def own_all_slots(port):
    """Makes a fresh cluster-enabled server the owner of every slot and waits (bounded) for
    cluster_state:ok."""
    reply = bl.cli(port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383").strip()
    if reply != "OK":
        raise Fatal(f"CLUSTER ADDSLOTSRANGE 0 16383 on port {port} answered {reply!r}")
    deadline = time.monotonic() + CLUSTER_OK_WAIT_S
    while "cluster_state:ok" not in bl.cli(port, "CLUSTER", "INFO"):
        if time.monotonic() >= deadline:
            raise Fatal(f"port {port}: no cluster_state:ok within {CLUSTER_OK_WAIT_S}s")
        time.sleep(0.1)


def used_memory(port):
    """INFO memory's used_memory in bytes, None when the server has no such field."""
    value = bl.info_field(port, "memory", "used_memory")
    return int(value) if value.isdigit() else None


def measure(s, b, servers, mode, name, case, keys, path):
    """Loads one case into a fresh server; returns its measurement as a dict."""
    binary, port, args = servers[name][mode]
    b.start(name, binary, port, s.server_cpu, args)
    if mode == "cluster":
        own_all_slots(port)
    time.sleep(0.5)
    rss0, um0 = bl.proc_status_kib(b.pid(name), "VmRSS"), used_memory(port)
    took, errors = bl.pipe_load(port, path, s.client_cpu, LOAD_TIMEOUT_S,
                                f"loading {case.name} x {keys} into {name} ({mode})")
    if errors:
        b.log(f"WARNING: {name} {case.name} load reported: {errors}")
    # Redis rehashes big dicts incrementally (1 ms per 100 ms cron tick); let that settle.
    time.sleep(1)
    rss1, um1 = bl.proc_status_kib(b.pid(name), "VmRSS"), used_memory(port)
    dbsize = bl.cli(port, "DBSIZE").strip()
    enc = bl.cli(port, "OBJECT", "ENCODING", (KEY_FMT % 0).decode()).strip()
    b.stop(name)
    row = {
        "mode": mode, "case": case.name, "keys": keys, "server": name, "rss0": rss0,
        "rss1": rss1, "rss_b_key": (rss1 - rss0) * 1024 / keys,
        "um_b_key": (um1 - um0) / keys if um0 is not None and um1 is not None else None,
        "dbsize": dbsize, "enc": enc, "load_s": took,
    }
    b.log("  %-10s %-10s %-5s %9d keys: RSS %s -> %s KiB = %.1f B/key, used_memory %s B/key,"
          " dbsize %s, %s, load %.2fs"
          % (mode, case.name, name, keys, rss0, rss1, row["rss_b_key"],
             fmt_opt(row["um_b_key"]), dbsize, enc, took))
    return row


def fmt_opt(v, fmt="%.1f"):
    return "-" if v is None else fmt % v


def run_all(s, b, servers):
    rows = []
    turn = 0
    for size, case in s.plan():
        keys = size // case.key_div
        path = b.work / f"load-{case.name}-{keys}.resp"
        gen_load(path, case, keys)
        b.log(f"{case.name}: {keys} keys, {path.stat().st_size / 1048576:.1f}M of RESP")
        for mode in s.modes:
            turn += 1
            for name in bl.round_order(servers, turn):
                rows.append(measure(s, b, servers, mode, name, case, keys, path))
        path.unlink()
    return rows


# ---- report ------------------------------------------------------------------------------

def table(rows, mode, size):
    by = {(r["case"], r["keys"], r["server"]): r for r in rows if r["mode"] == mode}
    lines = [
        "| case | keys | redis B/key | slotd B/key | slotd/redis | redis used_memory B/key |"
        " slotd used_memory B/key | B/elem redis, slotd | encoding redis, slotd |"
        " RSS KiB before -> after redis, slotd | load s redis, slotd |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    seen = []
    for r in rows:
        k = (r["case"], r["keys"])
        if r["mode"] == mode and r["keys"] * CASE_BY_NAME[r["case"]].key_div == size \
                and k not in seen:
            seen.append(k)
    for case_name, keys in seen:
        red, sd = by.get((case_name, keys, "redis")), by.get((case_name, keys, "slotd"))
        if not red or not sd:
            continue
        elems = CASE_BY_NAME[case_name].elems
        per_elem = ("%.1f, %.1f" % (red["rss_b_key"] / elems, sd["rss_b_key"] / elems)
                    if elems > 1 else "")
        lines.append(
            "| %s | %d | %.1f | %.1f | %s | %s | %s | %s | %s, %s | %d -> %d, %d -> %d |"
            " %.2f, %.2f |"
            % (case_name, keys, red["rss_b_key"], sd["rss_b_key"],
               bl.ratio(sd["rss_b_key"], red["rss_b_key"]), fmt_opt(red["um_b_key"]),
               fmt_opt(sd["um_b_key"]), per_elem, red["enc"], sd["enc"], red["rss0"],
               red["rss1"], sd["rss0"], sd["rss1"], red["load_s"], sd["load_s"]))
    return lines


def issue_table(rows, size):
    got = {(r["mode"], r["server"]): r["rss_b_key"] for r in rows
           if r["case"] == "str16" and r["keys"] == size}
    lines = ["| server | standalone: issue 13 | standalone: this run |"
             " cluster: issue 13 | cluster: this run |", "|---|---:|---:|---:|---:|"]
    for name in ["redis", "slotd"]:
        cells = [name]
        for mode in MODES:
            cells.append(ISSUE_TABLE[mode][name])
            cells.append(fmt_opt(got.get((mode, name))))
        lines.append(bl.md_row(cells))
    return lines


def draw_chart(rows, size, path, log):
    """B/key per case at the first key count, one panel per mode; False when not drawn."""
    try:
        import chart
        panels = []
        for mode in MODES:
            mode_rows = [r for r in rows if r["mode"] == mode
                         and r["keys"] * CASE_BY_NAME[r["case"]].key_div == size]
            if not mode_rows:
                continue
            labels = list(dict.fromkeys(r["case"] for r in mode_rows))
            by = {(r["case"], r["server"]): r["rss_b_key"] for r in mode_rows}
            series = {n: [by.get((c, n)) for c in labels] for n in ["redis", "slotd"]}
            panels.append((f"{mode}: RSS bytes per key at {size} keys (lower is better)",
                           [c.replace("-", "\n") for c in labels], series))
        chart.grouped_bars(panels, path, "slotd vs redis-server, memory per key (log scale)",
                           panel_width_in=9, log_y=True)
        return True
    except Exception as e:  # the report is complete without the chart
        log(f"chart not drawn: {e}")
        return False


def report(s, servers, rows, load_start, slotd_bin, chart_name):
    first = s.sizes[0]
    out = [f"# slotd vs redis-server, memory per key: {bl.now_text()}", "", "## Machine", ""]
    out += bl.machine_lines()
    out += bl.server_lines(s.redis_bin, slotd_bin, s.slotd_redis_args)
    out.append(f"- load average (1/5/15 min) at start: {load_start}, at end: {bl.loadavg()}")
    out += ["", "## Command lines", "", "```"]
    for name in servers:
        for mode in s.modes:
            binary, _, args = servers[name][mode]
            out.append(f"{name} {mode}: taskset -c {s.server_cpu} {binary} {args}")
    out.append("cluster mode, after start: redis-cli -p PORT CLUSTER ADDSLOTSRANGE 0 16383,"
               " then wait for cluster_state:ok")
    out.append(f"load: taskset -c {s.client_cpu} redis-cli -h 127.0.0.1 -p PORT --pipe"
               " < generated.resp")
    out += ["```", "", "## Method", ""]
    out += [
        "Each row loads one case into a freshly started server (one shard for slotd) and",
        "measures B/key = (VmRSS after - VmRSS before) / keys from /proc/PID/status, 0.5 s after",
        "start and 1 s after the load, as issue 13 did; beside it the same difference of INFO",
        "memory's used_memory (what the allocator reports in use: no page rounding, no freed",
        "pages kept). A large collection case loads 1/%d of the key count, %d elements per key;"
        % (LARGE_KEY_DIV, LARGE_ELEMS),
        "its B/elem column is B/key divided by that. Each table grows in steps, so B/key",
        "depends on where the key count falls between two steps. The command of key number I",
        "(`key:%010d`):",
        "",
    ]
    out += [f"- {c.name}: `{shape_text(c)}`" for c in CASES if c in s.cases or c in s.big_cases]
    if "str16" in [r["case"] for r in rows] and any(r["keys"] == first for r in rows):
        out += ["", f"## Issue 13's table (str16, {first} keys)", ""]
        if first != 1000000:
            out += [f"(issue 13 measured 1000000 keys; this run loaded {first})", ""]
        out += issue_table(rows, first)
    for size in s.sizes:
        for mode in s.modes:
            lines = table(rows, mode, size)
            if len(lines) > 2:
                out += ["", f"## {mode}, {size} keys", ""] + lines
    if chart_name:
        out += ["", f"![bytes per key]({chart_name})"]
    return "\n".join(out) + "\n"


def main():
    s, log, slotd_bin, start_stamp, load_start = bl.pair_start(PROG, __doc__, Settings,
                                                                "bench-memory")
    with bl.Bench("bench-memory", "slotd-bench-memory.", bl.START_WAIT_S, STOP_WAIT_S) as b:
        servers = {
            "redis": {m: (s.redis_bin, s.redis_port, redis_args(s.redis_port, b.work / "redis", m))
                      for m in MODES},
            "slotd": {m: (slotd_bin, s.slotd_port,
                          slotd_args(s, s.slotd_port, b.work / "slotd", m)) for m in MODES},
        }
        b.log(f"key counts {s.sizes}, modes {s.modes}, {len(s.plan())} cases; work dir {b.work}")
        rows = run_all(s, b, servers)
    chart_name = f"{start_stamp}-memory.png"
    os.makedirs(s.out_dir, exist_ok=True)
    if not draw_chart(rows, s.sizes[0], os.path.join(s.out_dir, chart_name), log):
        chart_name = ""
    text = report(s, servers, rows, load_start, slotd_bin, chart_name)
    bl.write_report(s.out_dir, f"{start_stamp}-memory.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
