#!/usr/bin/env python3
"""scripts/bench-failover.py: automatic failover time of a 3 masters + 3 replicas slotd cluster
and of the same redis-server cluster on this machine, in one run (issue #5).

Usage: scripts/bench-failover.py [--runs N] [--signals "KILL STOP"] [--redis-bin PATH]
                                 [--slotd-bin PATH]
  --runs N            failovers per server and signal (default 20); servers alternate per run
  --signals LIST      KILL, STOP or both (default "KILL STOP"): how the master is stopped
  --redis-bin PATH    the reference side (default $REDIS_BIN or /usr/bin/redis-server)
  --slotd-bin PATH    the slotd side (default $SLOTD_BIN, else `cargo build --release`);
                      `--slotd-bin /usr/bin/redis-server` proves the plumbing without slotd
Environment:
  SLOTD_PORT, REDIS_PORT  first port of each cluster (defaults 7401 and 7501; 6 ports each,
                          bus ports +10000)
  SERVER_CPU    default 1: every node of both clusters runs there (taskset)
  CLIENT_CPU    default 0: the poller runs there
  POLL_MS       default 50: the poll interval
  BENCH_OUT_DIR default bench-results (relative to the repository root)

Both clusters are built once by scripts/cluster.sh (`create 6 --replicas 1`, generated
config: cluster-node-timeout 3000, appendonly no, save "") and stay up. One run: pick the
master serving slot 100, 5561 or 11023 (in turn, so that each master range has its go), then
scripts/lib/failover_poll.py sends it SIGKILL or SIGSTOP and polls every surviving node
(CLUSTER NODES, CLUSTER INFO, and GET of a key in that slot on its replica) every POLL_MS over
open connections. Recorded, in ms since the signal: the first poll where one node, and where
every surviving node, flags the master `fail`; the first poll where the replica serves the
slot itself; and "ok": every surviving node says cluster_state:ok and maps the slot to the
replica, and the replica serves it. Then the cluster is put back: a killed master is
restarted in its directory (`cluster.sh start 1 --keep`: same nodes.conf), a stopped one gets
SIGCONT; the run ends when the old master is a replica with master_link_status:up and every
node says cluster_state:ok, sees 3 replicas and no failed node (that time is reported too).
A restore that does not finish within RESTORE_TIMEOUT_S rebuilds that cluster (reported).
Every wait is bounded; both clusters are stopped and removed on any exit.
Output: bench-results/YYYY-MM-DD-HHMM-failover.md
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-failover.py"
NODES = 6
MASTERS = 3
PROBE_SLOTS = [100, 5561, 11023]  # one in each range redis-cli --cluster create assigns
FAILOVER_TIMEOUT_S = 60
RESTORE_TIMEOUT_S = 60
CLUSTER_UP_TIMEOUT_S = 180
CLUSTER_STOP_TIMEOUT_S = 60
NODE_RESTART_TIMEOUT_S = 60
KILLED_GONE_WAIT_S = 10
STOP_WAIT_S = 10
SERVERS = ["redis", "slotd"]
CLUSTER_SH = bl.ROOT / "scripts" / "cluster.sh"
POLLER = bl.ROOT / "scripts" / "lib" / "failover_poll.py"
# The generated config of every node, beyond cluster.sh's own lines.
NODE_OPTS = ["--appendonly", "no", "--set", 'save ""']
NODE_OPTS_TEXT = "--appendonly no --set 'save \"\"'"


def run_group(argv, timeout_s, env=None, log_path=None):
    """Runs a command (which may leave servers behind, as cluster.sh does) in its own process
    group, its output appended to log_path or dropped; True when it exits 0 in time. When
    the bound passes, the whole group gets SIGTERM, then SIGKILL 5 s later (as `timeout -k 5`
    does)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        if log_path:
            out.close()
    try:
        return proc.wait(timeout=timeout_s) == 0
    except subprocess.TimeoutExpired:
        return _kill_group(proc)
    except BaseException:
        _kill_group(proc)
        raise


def _kill_group(proc):
    for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    return False


class Failover:
    """One benchmark run: both clusters, the runs measured and the odd events."""

    def __init__(self, b, bins, ports, server_cpu, client_cpu, poll_ms):
        self.b = b
        self.bins = bins
        self.ports = ports
        self.server_cpu = server_cpu
        self.client_cpu = client_cpu
        self.poll_ms = poll_ms
        self.started = []
        # server signal run master_port fail_first fail_all promoted ok polls restore
        self.runs = []
        self.odd = []
        b.on_exit.append(self.stop_clusters)

    def cluster_env(self, name):
        return dict(os.environ, CLUSTER_DIR=str(self.b.work / name))

    def stop_clusters(self):
        """Stops every cluster started (the Bench calls this on exit, too)."""
        for name in self.started:
            if not run_group([str(CLUSTER_SH), "stop"], CLUSTER_STOP_TIMEOUT_S,
                             env=self.cluster_env(name)):
                self.b.log(f"stopping {name} failed")
        self.started = []

    def start_cluster(self, name):
        binary, port = self.bins[name], self.ports[name]
        self.b.cmdline[name] = (f"CLUSTER_DIR={self.b.work / name} taskset -c {self.server_cpu}"
                                f" scripts/cluster.sh create {NODES} --replicas 1 --base-port"
                                f" {port} --bin {binary} {NODE_OPTS_TEXT}")
        if name not in self.started:
            self.started.append(name)
        self.b.log(f"starting {name} cluster on ports {port}..{port + NODES - 1}")
        log_path = self.b.work / f"{name}-create.log"
        ok = run_group(["taskset", "-c", self.server_cpu, str(CLUSTER_SH), "create", str(NODES),
                        "--replicas", "1", "--base-port", str(port), "--bin", binary,
                        *NODE_OPTS], CLUSTER_UP_TIMEOUT_S, self.cluster_env(name), log_path)
        if not ok:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print("\n".join(tail), file=sys.stderr)
            raise Fatal(f"the {name} cluster did not form; its log ends above")

    def rebuild_cluster(self, name):
        run_group([str(CLUSTER_SH), "clean"], CLUSTER_STOP_TIMEOUT_S, self.cluster_env(name))
        self.start_cluster(name)

    def restart_node(self, name, port):
        """Restarts one node in its kept directory (same nodes.conf), pinned like the
        others."""
        return run_group(["taskset", "-c", self.server_cpu, str(CLUSTER_SH), "start", "1",
                          "--keep", "--base-port", str(port), "--bin", self.bins[name],
                          *NODE_OPTS], NODE_RESTART_TIMEOUT_S, self.cluster_env(name),
                         self.b.work / f"{name}-create.log")

    def restored(self, first, old_port):
        """True when the cluster is whole again: every node ok, 3 replicas and no failed node
        seen by each, and `old_port` a replica whose link is up."""
        for port in range(first, first + NODES):
            if not re.search(r"^cluster_state:ok", bl.cli(port, "CLUSTER", "INFO"), re.M):
                return False
            flags = [line.split()[2].split(",") for line in nodes_of(port).splitlines()
                     if len(line.split()) > 2]
            if sum("slave" in f for f in flags) != NODES - MASTERS:
                return False
            if any("fail" in f or "fail?" in f for f in flags):
                return False
        role = bl.info_field(old_port, "replication", "role")
        link = bl.info_field(old_port, "replication", "master_link_status")
        return role == "slave" and link == "up"

    def wait_restored(self, first, old_port):
        """ms until restored(), or None when RESTORE_TIMEOUT_S passes first."""
        t0 = time.monotonic()
        deadline = t0 + RESTORE_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.restored(first, old_port):
                return str(int((time.monotonic() - t0) * 1000))
            time.sleep(0.1)
        return None

    def poll_argv(self, pid, sig, survivors, mid, rid, rport, slot):
        return ["taskset", "-c", self.client_cpu, "python3", str(POLLER), "--pid", str(pid),
                "--signal", sig, "--ports", survivors, "--master-id", mid, "--replica-id", rid,
                "--replica-port", str(rport), "--slot", str(slot), "--interval",
                f"{self.poll_ms / 1000:g}", "--timeout", str(FAILOVER_TIMEOUT_S)]

    def run_one(self, name, sig, run):
        """One failover of cluster `name`; appends a row to runs, restores or rebuilds."""
        first = self.ports[name]
        slot = PROBE_SLOTS[(run - 1) % MASTERS]
        pick = pick_master(nodes_of(first), slot)
        if pick is None:
            raise Fatal(f"no master/replica for {slot}")
        mid, mport, rid, rport = pick
        pid = int((self.b.work / name / f"node-{mport}" / "node.pid").read_text().strip())
        survivors = ",".join(str(p) for p in range(first, first + NODES) if p != mport)
        # The poller is bounded by its own --timeout; the extra minute covers its start.
        try:
            res = subprocess.run(self.poll_argv(pid, sig, survivors, mid, rid, rport, slot),
                                 stdout=subprocess.PIPE, text=True,
                                 timeout=FAILOVER_TIMEOUT_S + 60)
            out, rc = res.stdout.strip(), res.returncode
        except subprocess.TimeoutExpired:
            out, rc = "", 1
        out = out or "-\t-\t-\t-\t0"
        if rc != 0:
            self.odd.append(f"{name} {sig} run {run}: no failover within {FAILOVER_TIMEOUT_S}s"
                            f" ({out})")
        if sig == "KILL":
            # Wait for the old process to be gone before its port is used again.
            wait_gone(pid, KILLED_GONE_WAIT_S)
            self.restart_node(name, mport)
        else:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        restore_ms = self.wait_restored(first, mport)
        if restore_ms is None:
            restore_ms = "-"
            self.odd.append(f"{name} {sig} run {run}: node {mport} not a replica of a whole"
                            f" cluster within {RESTORE_TIMEOUT_S}s after the restore; cluster"
                            " rebuilt")
            self.b.log(self.odd[-1])
            shutil.copytree(self.b.work / name, self.b.work / f"failed-{name}-{sig}-{run}",
                            dirs_exist_ok=True, ignore_dangling_symlinks=True)
            self.rebuild_cluster(name)
        self.runs.append([name, sig, str(run), str(mport), *out.split("\t"), restore_ms])
        self.b.log(f"{name} {sig} run {run} (master {mport}): fail_first fail_all promoted ok"
                   f" polls = {out.replace(chr(9), ' ')} ms; restored in {restore_ms} ms")

    def stat_of(self, server, sig, col):
        """Median and max of column `col` (counted from 1) over the runs of (server,
        signal), `-` values left out; both "-" when there is none."""
        values = sorted(float(r[col - 1]) for r in self.runs
                        if r[0] == server and r[1] == sig and r[col - 1] != "-")
        if not values:
            return "-", "-"
        return str(int(bl.median(values))), str(int(values[-1]))


def nodes_of(port):
    return bl.cli(port, "CLUSTER", "NODES")


def pick_master(nodes_text, slot):
    """(master_id, master_port, replica_id, replica_port) for the master serving `slot`, or
    None when CLUSTER NODES names no such master with a replica."""
    rows = [line.split() for line in nodes_text.splitlines() if len(line.split()) > 3]
    owner = None
    for f in rows:
        for rng in f[8:]:
            if rng.startswith("["):
                continue
            lo, _, hi = rng.partition("-")
            if int(lo) <= slot <= int(hi or lo):
                owner = f[0]
    mport = rid = rport = None
    for f in rows:
        port = int(re.split(r"[:@]", f[1])[1])
        if f[0] == owner:
            mport = port
        if f[3] == owner:
            rid, rport = f[0], port
    if owner is None or rid is None:
        return None
    return owner, mport, rid, rport


def wait_gone(pid, bound_s):
    """Waits (bounded) until the process has exited and been reaped."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    time.sleep(0.05)
                    continue
        except OSError:
            return
        time.sleep(0.05)


def parse_args():
    ap = bl.arg_parser(PROG, __doc__)
    ap.add_argument("--runs", default="20")
    ap.add_argument("--signals", default="KILL STOP")
    ap.add_argument("--redis-bin", default=bl.env_str("REDIS_BIN", "/usr/bin/redis-server"))
    ap.add_argument("--slotd-bin", default=os.environ.get("SLOTD_BIN", ""))
    opts = ap.parse_args()
    if not re.fullmatch(r"[1-9][0-9]?", opts.runs):
        ap.exit(2, f"{PROG}: --runs takes 1..99\n")
    opts.runs = int(opts.runs)
    opts.signals = opts.signals.split()
    if any(s not in ("KILL", "STOP") for s in opts.signals):
        ap.exit(2, f"{PROG}: --signals takes KILL and/or STOP\n")
    return opts


def report(f, opts, slotd_is_redis, node_conf, elapsed_s):
    b = f.b
    out = ["# Failover time, slotd vs redis-server (3 masters + 3 replicas):"
           f" {bl.now_text()}", "", "## Machine", ""]
    out += bl.machine_lines()
    out.append(f"- load average at the end: {bl.loadavg()} (shared machine)")
    out += bl.server_lines(opts.redis_bin, opts.slotd_bin, False)
    if slotd_is_redis:
        out.append(f"- NOTE: the slotd side ran {opts.slotd_bin} (a redis-server): plumbing test,"
                   " not a slotd measurement")
    out.append(f"- all 12 nodes on CPU {f.server_cpu}, the poller on CPU {f.client_cpu}; poll"
               f" every {f.poll_ms} ms; {opts.runs} runs per server and signal, servers"
               f" alternating; {elapsed_s}s")
    out += ["", "## Command lines", "", "```"]
    out += [f"{name}: {b.cmdline.get(name, '')}" for name in SERVERS]
    out.append("per run: " + " ".join(f.poll_argv("PID", "SIG", "SURVIVORS", "ID", "ID", "PORT",
                                                  "SLOT")).replace(str(bl.ROOT) + "/", ""))
    out.append("restore after KILL: CLUSTER_DIR=... scripts/cluster.sh start 1 --keep --base-port"
               f" PORT --bin BIN {NODE_OPTS_TEXT}")
    out.append("restore after STOP: kill -CONT PID")
    out += ["```", "", "Node config written by cluster.sh (every node alike but the port and"
            " paths):", "", "```", node_conf, "```", ""]
    poll = f.poll_ms
    out += [
        "Times are ms from the signal to the first poll that saw the event, so each is late",
        f"by up to one poll ({poll} ms) plus the poll itself (5 nodes, 2-3 commands each).",
        "*fail first/all*: one / every surviving node flags the master `fail`.",
        "*promoted*: the replica answers GET of a key in the master's slots itself.",
        "*ok*: additionally every surviving node says `cluster_state:ok` and maps the slot",
        "to the replica. *restore*: from the restarted old master answering PING (KILL) or",
        "its SIGCONT (STOP) until it is a replica with its link up and the cluster is whole.",
        "", "## Results (median / max, ms)", "",
        "| signal | server | fail first | fail all | promoted | **ok** | restore |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for sig in opts.signals:
        for name in SERVERS:
            cells = "".join(" %s / %s |" % f.stat_of(name, sig, col) for col in (5, 6, 7, 8, 10))
            out.append(f"| {sig} | {name} |{cells}")
    out += ["", f"Runs without a failover within {FAILOVER_TIMEOUT_S}s or a restore within"
            f" {RESTORE_TIMEOUT_S}s:", ""]
    out += [f"- {line}" for line in f.odd] or ["- none"]
    out += bl.md_section_table(
        "All runs", "| server | signal | run | master port | fail first | fail all | promoted |"
        " ok | polls | restore |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|", f.runs)
    return "\n".join(out) + "\n"


def main():
    opts = parse_args()
    os.chdir(bl.ROOT)
    ports = {"slotd": bl.env_int("SLOTD_PORT", 7401), "redis": bl.env_int("REDIS_PORT", 7501)}
    server_cpu = bl.env_str("SERVER_CPU", "1")
    client_cpu = bl.env_str("CLIENT_CPU", "0")
    poll_ms = bl.env_int("POLL_MS", 50)
    out_dir = bl.env_str("BENCH_OUT_DIR", "bench-results")
    log = bl.make_logger("bench-failover")
    if not opts.slotd_bin:
        opts.slotd_bin = bl.build_slotd(log)
    for path in (opts.slotd_bin, opts.redis_bin):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise Fatal(f"no executable at {path}")
    bl.need_tools("redis-cli", "taskset")
    version = bl.run([opts.slotd_bin, "--version"], 30, "slotd --version", check=False)
    slotd_is_redis = version.startswith("Redis server")

    start_stamp = bl.stamp()
    t_start = time.monotonic()
    with bl.Bench("bench-failover", "slotd-bench-failover.", bl.START_WAIT_S,
                  STOP_WAIT_S) as b:
        f = Failover(b, {"redis": opts.redis_bin, "slotd": opts.slotd_bin}, ports,
                     server_cpu, client_cpu, poll_ms)
        sigs = " ".join(opts.signals)
        b.log(f"runs={opts.runs} signals={sigs} poll={poll_ms}ms; work dir {b.work}")
        for name in SERVERS:
            f.start_cluster(name)
        conf = (b.work / "slotd" / f"node-{ports['slotd']}" / "node.conf").read_text()
        node_conf = "\n".join(line for line in conf.splitlines()
                              if not line.startswith("#")).rstrip("\n")
        for sig in opts.signals:
            for run in range(1, opts.runs + 1):
                for name in SERVERS:
                    f.run_one(name, sig, run)
        f.stop_clusters()
        elapsed_s = int(time.monotonic() - t_start)
        text = report(f, opts, slotd_is_redis, node_conf, elapsed_s)
    bl.write_report(out_dir, f"{start_stamp}-failover.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
