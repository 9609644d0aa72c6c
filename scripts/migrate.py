#!/usr/bin/env python3
"""scripts/migrate.py: the three ways of docs/migration.md, tried end to end on loopback.

Each way moves a data set between redis-server 7.0 and slotd and checks that every key
arrived: per database, every key's type, DEBUG DIGEST-VALUE and TTL (to the second), and the
function libraries' code.

  datadir      redis-server's dump.rdb (appendonly no) and its appendonlydir (RDB preamble
               plus an incr file) started by slotd; then slotd's dump.rdb started by
               redis-server (the way back).
  replication  slotd replicates a redis-server master, takes writes, is promoted with
               REPLICAOF NO ONE; then a redis-server replicates slotd (the way back).
  cluster      a 3-node redis-server cluster gets 3 slotd nodes (redis-cli --cluster
               add-node), every slot moves to them (rebalance), the redis-server nodes leave
               (del-node).

Usage: scripts/migrate.py [--slotd PATH] [--redis PATH] [--keys N] [--only WAY]...
Exit status 0 when every check passed. Every wait is bounded; every server is stopped and
every directory removed at the end (--keep-dirs keeps them for a look).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT_S = 60
LIB = """#!lua name=migratelib
redis.register_function('mget2', function(keys, args) return redis.call('mget', keys[1], keys[2]) end)
"""


class Failed(Exception):
    pass


def log(msg):
    print(f"[migrate] {msg}", flush=True)


def free_port():
    """A free port whose cluster bus port (+10000) is free too (Redis wants it <= 55535)."""
    for _ in range(1000):
        port = 20000 + int.from_bytes(os.urandom(2), "little") % 20000
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise Failed("no free port pair")


class Server:
    """One redis-server or slotd process in its own directory."""

    def __init__(self, binary, dir_, extra, name):
        self.binary, self.dir, self.name = binary, dir_, name
        self.port = free_port()
        os.makedirs(dir_, exist_ok=True)
        conf = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f"dir {dir_}",
            f"logfile {os.path.join(dir_, 'server.log')}",
            "enable-debug-command yes",
            "save ''",
        ] + extra
        path = os.path.join(dir_, "server.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = subprocess.Popen([binary, path], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30)
        deadline = time.time() + WAIT_S
        while True:
            try:
                if self.r.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise Failed(f"{name} did not start: see {dir_}/server.log")
            time.sleep(0.1)

    def db(self, n):
        return redis.Redis(host="127.0.0.1", port=self.port, db=n, socket_timeout=30)

    def stop(self, save=False):
        if self.proc.poll() is None:
            try:
                self.r.shutdown(save=save, nosave=not save)
            except (redis.ConnectionError, redis.ResponseError):
                pass
            try:
                self.proc.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()


def fill(srv, keys, dbs=(0, 1, 2)):
    """A deterministic data set: every type and encoding, TTLs, several databases, a library."""
    for n in dbs:
        r = srv.db(n)
        p = r.pipeline(transaction=False)
        for i in range(keys):
            p.set(f"s:{n}:{i}", f"value-{i}" * (1 + i % 5))
            if i % 500 == 0:
                p.execute()
        p.execute()
        r.set(f"int:{n}", 12345)
        r.set(f"ttl:{n}", "soon", ex=3600)
        r.rpush(f"list:small:{n}", *range(10))
        r.rpush(f"list:big:{n}", *[f"item-{i}" * 20 for i in range(2000)])
        r.hset(f"hash:small:{n}", mapping={f"f{i}": i for i in range(10)})
        r.hset(f"hash:big:{n}", mapping={f"f{i}": "v" * 100 for i in range(1000)})
        r.sadd(f"set:int:{n}", *range(100))
        r.sadd(f"set:str:{n}", *[f"m{i}" for i in range(1000)])
        r.zadd(f"zset:small:{n}", {f"m{i}": i / 3 for i in range(10)})
        r.zadd(f"zset:big:{n}", {f"m{i}": i * 1.5 for i in range(1000)})
        r.expire(f"zset:big:{n}", 7200)
        for i in range(300):
            r.xadd(f"stream:{n}", {"i": i, "name": f"user:{i}"}, id=f"{1000 + i}-0")
        r.xgroup_create(f"stream:{n}", "g1", id="0")
        r.xreadgroup("g1", "c1", {f"stream:{n}": ">"}, count=10)
        r.pfadd(f"hll:{n}", *[f"e{i}" for i in range(500)])
        r.setbit(f"bits:{n}", 10000, 1)
        r.geoadd(f"geo:{n}", (13.361389, 38.115556, "Palermo"))
    srv.r.function_load(LIB, replace=True)


def snapshot(srv, dbs=(0, 1, 2)):
    """{db: {key: (type, digest, ttl_s)}} and the libraries' code."""
    out = {}
    for n in dbs:
        r = srv.db(n)
        keys = {}
        for k in r.scan_iter(count=1000):
            t = r.type(k)
            d = r.execute_command("DEBUG", "DIGEST-VALUE", k)[0]
            ttl = r.ttl(k)
            keys[k] = (t, d, ttl)
        out[n] = keys
    libs = []
    for lib in srv.r.function_list(withcode=True):
        if isinstance(lib, list):
            lib = dict(zip(lib[::2], lib[1::2]))
        libs.append(lib[b"library_code"])
    return out, sorted(libs)


def same(a, b):
    """Type and digest equal, and the TTL too (-1 for none), give or take the seconds the
    move took."""
    (ta, da, xa), (tb, db, xb) = a, b
    return ta == tb and da == db and (xa == xb or (xa >= 0 and xb >= 0 and abs(xa - xb) <= 120))


def compare(what, want, got):
    (wk, wl), (gk, gl) = want, got
    for n in wk:
        missing = set(wk[n]) - set(gk.get(n, {}))
        extra = set(gk.get(n, {})) - set(wk[n])
        differ = [k for k in wk[n] if k in gk.get(n, {}) and not same(wk[n][k], gk[n][k])]
        if missing or extra or differ:
            ex = sorted(missing or extra or differ)[:3]
            raise Failed(f"{what}: db {n}: {len(missing)} missing, {len(extra)} extra, "
                         f"{len(differ)} differ (e.g. {[(k, wk[n].get(k), gk.get(n, {}).get(k)) for k in ex]})")
    if wl != gl:
        raise Failed(f"{what}: function libraries differ")
    log(f"ok: {what} ({sum(len(v) for v in wk.values())} keys)")


def cluster_cli(*args, timeout_s=WAIT_S):
    """redis-cli --cluster ARGS..., its output in the error when it fails. A run refused
    because gossip has not settled yet ("Nodes don't agree") is tried again, a few times."""
    for _ in range(10):
        p = subprocess.run(["redis-cli", "--cluster", *args], capture_output=True, text=True,
                           timeout=timeout_s)
        if p.returncode == 0:
            return
        if "don't agree" not in p.stdout + p.stderr:
            break
        time.sleep(1)
    raise Failed(f"redis-cli --cluster {' '.join(args)}: {(p.stdout + p.stderr)[-600:]}")


def wait_agree(addr):
    """Until `redis-cli --cluster check` finds every node agreeing on the configuration."""
    def agree():
        p = subprocess.run(["redis-cli", "--cluster", "check", addr], capture_output=True,
                           text=True, timeout=WAIT_S)
        return p.returncode == 0 and "All nodes agree" in p.stdout

    wait_for("the nodes to agree", agree)


def wait_for(what, cond):
    deadline = time.time() + WAIT_S
    while not cond():
        if time.time() > deadline:
            raise Failed(f"timed out waiting for {what}")
        time.sleep(0.2)


def threads(a):
    """slotd runs with two shards, so keys cross cores (`--slotd redis-server` checks the
    script itself against Redis on both sides)."""
    return [] if "redis-server" in os.path.basename(a.slotd) else ["server-threads 2"]


def way_datadir(a, work, servers):
    # redis-server's dump.rdb, loaded by slotd (appendonly no).
    d1 = os.path.join(work, "redis-rdb")
    src = Server(a.redis, d1, [], "redis-server (rdb)")
    servers.append(src)
    fill(src, a.keys)
    want = snapshot(src)
    src.stop(save=True)
    d2 = os.path.join(work, "slotd-from-rdb")
    os.makedirs(d2)
    shutil.copy(os.path.join(d1, "dump.rdb"), d2)
    dst = Server(a.slotd, d2, threads(a), "slotd (from dump.rdb)")
    servers.append(dst)
    compare("slotd loads redis-server's dump.rdb", want, snapshot(dst))
    # The way back: slotd's dump.rdb, loaded by redis-server.
    dst.r.save()
    dst.stop()
    d3 = os.path.join(work, "redis-from-slotd")
    os.makedirs(d3)
    shutil.copy(os.path.join(d2, "dump.rdb"), d3)
    back = Server(a.redis, d3, [], "redis-server (from slotd's dump.rdb)")
    servers.append(back)
    compare("redis-server loads slotd's dump.rdb", want, snapshot(back))
    back.stop()
    # redis-server's appendonlydir (RDB base + incr file), started by slotd.
    d4 = os.path.join(work, "redis-aof")
    src = Server(a.redis, d4, ["appendonly yes", "aof-use-rdb-preamble yes"],
                 "redis-server (aof)")
    servers.append(src)
    fill(src, a.keys)
    src.r.bgrewriteaof()
    wait_for("the AOF rewrite", lambda: src.r.info("persistence")["aof_rewrite_in_progress"] == 0
             and src.r.info("persistence")["aof_rewrite_scheduled"] == 0)
    src.r.set("after-rewrite", "in the incr file")
    want = snapshot(src)
    src.stop()
    d5 = os.path.join(work, "slotd-from-aof")
    shutil.copytree(d4, d5)
    dst = Server(a.slotd, d5, threads(a) + ["appendonly yes"], "slotd (from appendonlydir)")
    servers.append(dst)
    compare("slotd starts on redis-server's appendonlydir", want, snapshot(dst))
    dst.stop()


def way_replication(a, work, servers):
    master = Server(a.redis, os.path.join(work, "repl-redis"), [], "redis-server master")
    servers.append(master)
    fill(master, a.keys)
    rep = Server(a.slotd, os.path.join(work, "repl-slotd"), threads(a),
                 "slotd replica")
    servers.append(rep)
    rep.r.replicaof("127.0.0.1", master.port)

    def caught_up(m, s):
        info = s.r.info("replication")
        return (info.get("master_link_status") == "up"
                and info.get("slave_repl_offset") == m.r.info("replication")["master_repl_offset"])

    wait_for("slotd's sync from redis-server", lambda: caught_up(master, rep))
    compare("slotd replicates redis-server (full sync)", snapshot(master), snapshot(rep))
    master.db(1).set("written-later", "x")
    master.r.delete("int:0")
    wait_for("the stream", lambda: caught_up(master, rep))
    compare("slotd replicates redis-server (stream)", snapshot(master), snapshot(rep))
    rep.r.replicaof("no", "one")
    rep.r.set("promoted", "yes")
    master.stop()
    # The way back: a redis-server replica of slotd.
    back = Server(a.redis, os.path.join(work, "repl-back"), [], "redis-server replica")
    servers.append(back)
    back.r.replicaof("127.0.0.1", rep.port)
    wait_for("redis-server's sync from slotd", lambda: caught_up(rep, back))
    compare("redis-server replicates slotd", snapshot(rep), snapshot(back))
    back.stop()
    rep.stop()


def way_cluster(a, work, servers):
    conf = ["cluster-enabled yes", "cluster-node-timeout 3000"]
    # An emptied master would turn into a replica of the node that took its last slot
    # (Redis 7.0's default), and redis-cli's later SETSLOTs to it would fail.
    keep = ["cluster-allow-replica-migration no"]
    olds = [Server(a.redis, os.path.join(work, f"cl-redis-{i}"), conf + keep, f"redis node {i}")
            for i in range(3)]
    servers.extend(olds)
    addrs = [f"127.0.0.1:{s.port}" for s in olds]
    cluster_cli("create", *addrs, "--cluster-yes")
    rc = redis.RedisCluster(host="127.0.0.1", port=olds[0].port)
    wait_for("cluster_state:ok", lambda: all(
        s.r.cluster("info")["cluster_state"] == "ok" for s in olds))
    for i in range(a.keys):
        rc.set(f"k:{i}", f"v{i}")
    for i in range(50):
        rc.rpush(f"l:{i}", *range(20))
        rc.hset(f"h:{i}", mapping={"a": i, "b": "x" * i})
    want = {}
    for s in olds:
        want.update({k: v for k, v in snapshot(s, dbs=(0,))[0][0].items()})
    news = [Server(a.slotd, os.path.join(work, f"cl-slotd-{i}"), conf, f"slotd node {i}")
            for i in range(3)]
    servers.extend(news)
    for s in news:
        wait_agree(addrs[0])
        cluster_cli("add-node", f"127.0.0.1:{s.port}", addrs[0])
    wait_agree(addrs[0])
    wait_for("cluster_state:ok on the new nodes", lambda: all(
        s.r.cluster("info")["cluster_state"] == "ok" for s in olds + news))
    weights = ["--cluster-weight"] + [f"{s.r.cluster('myid').decode()}=0" for s in olds]
    cluster_cli("rebalance", addrs[0], *weights, "--cluster-use-empty-masters",
                "--cluster-yes", timeout_s=600)
    for s in olds:
        node_id = s.r.cluster("myid").decode()
        wait_agree(f"127.0.0.1:{news[0].port}")
        cluster_cli("del-node", f"127.0.0.1:{news[0].port}", node_id)
    got = {}
    for s in news:
        got.update({k: v for k, v in snapshot(s, dbs=(0,))[0][0].items()})
    compare("a redis-server cluster resharded onto slotd nodes", ({0: want}, []),
            ({0: got}, []))
    for s in olds + news:
        s.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--slotd", default=os.path.join(ROOT, "target/release/slotd"))
    p.add_argument("--redis", default="redis-server")
    p.add_argument("--keys", type=int, default=20000, help="plain string keys per database")
    p.add_argument("--only", action="append", choices=["datadir", "replication", "cluster"])
    p.add_argument("--keep-dirs", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.slotd):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="slotd-migrate-")
    servers = []
    ways = {"datadir": way_datadir, "replication": way_replication, "cluster": way_cluster}
    failed = 0
    try:
        for name in a.only or list(ways):
            log(f"== {name}")
            try:
                ways[name](a, work, servers)
            except (Failed, subprocess.CalledProcessError, redis.RedisError) as e:
                failed += 1
                log(f"FAILED: {name}: {e}")
    finally:
        for s in servers:
            s.stop()
        if a.keep_dirs:
            log(f"directories kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log("all ways passed" if not failed else f"{failed} way(s) failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
