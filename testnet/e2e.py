#!/usr/bin/env python3
"""esgnet e2e: a fault-injection run of a local esgledger network, in the
manner of CometBFT's e2e runner (docs/RELIABILITY.md).

    testnet/esgnet e2e [--nodes N] [--seed S] [--duration SECONDS]
                       [--faults kill,pause,restart,cut,partition,flap,slow,skew]
                       [--keep] [--dir PARENT] [--build-dir DIR]

Starts N validators of a fresh genesis in a scratch directory. Every p2p
link goes through a proxy of this process: node i dials peer j at a
listener dedicated to the directed link i -> j, which forwards to j's real
p2p port, so the fault schedule can cut (with a reset or silently), slow or
partition any link. While a load of real transactions (tests/integration/
pyclient.py) runs, a fault schedule derived only from the seed kills,
pauses, restarts and clock-skews nodes and cuts links; after the last fault
everything is healed and the run checks

  1. every node reaches the same height (60 s after the load stopped);
  2. the raw block at every height is byte-identical on every node;
  3. every transaction acknowledged as committed is in the chain, on every
     node, at the height the node reported;
  4. `esgnode verify-chain` passes on every node's datadir (nodes stopped);
  5. after every heal the highest height grows within 15 s.

It prints one summary line and exits 0, or prints the first violated
criterion, the command that replays the seed and where the logs are, and
exits 1 (2: bad usage or a setup error). The scratch directory is deleted
after a passing run unless --keep, and always kept after a failure.
Python 3 standard library only.
"""

import argparse
import asyncio
import collections
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pyclient as pc  # noqa: E402  (the path above makes it importable)

ALL_FAULTS = ("kill", "pause", "restart", "cut", "partition", "flap", "slow", "skew")
LINK_FAULTS = ("cut", "partition", "flap", "slow")
CHAIN_ID = "esg-e2e-1"
PROGRESS_S = 15.0        # criterion 5: the height must grow this soon after a heal
CATCHUP_S = 60.0         # criterion 1: every node at the target height this soon
START_S = 60.0           # a started node must answer its API this soon
STOP_S = 30.0            # a node must exit this soon after SIGTERM
HEARTBEAT_MS = 1000      # empty blocks when idle, so progress never waits for load

CRITERIA = {
    0: "every node stays up and starts when asked",
    1: "every node reaches the same height",
    2: "the raw block at every height is identical on every node",
    3: "every transaction acknowledged as committed is in the chain at its height",
    4: "esgnode verify-chain passes on every node",
    5: "the height grows within 15 s of every heal",
}


class SetupError(Exception):
    """The run could not start (bad build, no ports, genesis failed)."""


# ------------------------------------------------------------------ helpers


def low_port(taken):
    """A free port below the ephemeral range (see tests/integration/netlib.sh:
    a dial to a port nobody listens on yet can otherwise connect to itself)."""
    for _ in range(1000):
        p = random.randint(20000, 32000)
        if p in taken:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            taken.add(p)
            return p
        except OSError:
            pass
        finally:
            s.close()
    raise SetupError("no free port below 32000")


def free_port(taken):
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p not in taken:
            taken.add(p)
            return p


def random_xonly():
    """A valid x-only public key without the cost of a scalar multiplication:
    any x below P for which x^3 + 7 is a square mod P lifts to a point."""
    while True:
        x = int.from_bytes(os.urandom(32), "big")
        if x < pc.P and pow((x * x * x + 7) % pc.P, (pc.P - 1) // 2, pc.P) == 1:
            return x.to_bytes(32, "big")


def rst(writer):
    """Closes a stream with a TCP reset (SO_LINGER 0), not a FIN."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


HTTP_ERRORS = (OSError, urllib.error.URLError, http.client.HTTPException, ValueError)


# ------------------------------------------------------------------ proxies


class Pair:
    """The state of the undirected link between nodes a < b, shared by its two
    directed proxies: up, cut with resets, or cut silently (bytes dropped);
    and an added delay and bandwidth cap (both directions)."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.mode = "up"
        self.delay = 0.0
        self.rate = None  # bytes/s, None: no cap
        self.links = []


class Conn:
    """One proxied TCP connection: a client (the dialing node) and an upstream
    (the dialed node's real p2p port), a pump and a writer per direction."""

    def __init__(self, link, cr, cw, ur, uw):
        self.link, self.pair = link, link.pair
        self.cw, self.uw = cw, uw
        self.done = False
        self.zombie = False  # caught by a silent cut with --silent-forever
        qa, qb = asyncio.Queue(maxsize=64), asyncio.Queue(maxsize=64)
        self.tasks = [asyncio.ensure_future(c) for c in (
            self.pump(cr, qa), self.write(uw, qa), self.pump(ur, qb), self.write(cw, qb))]

    def finish(self, reset):
        if self.done:
            return
        self.done = True
        self.link.conns.discard(self)
        for w in (self.cw, self.uw):
            if reset:
                rst(w)
            else:
                w.close()
        me = asyncio.current_task()
        for t in self.tasks:
            if t is not me:
                t.cancel()

    async def pump(self, reader, q):
        end = None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self.zombie or self.pair.mode == "silent":
                    self.link.net.dropped_bytes += len(data)
                    continue
                await q.put((time.monotonic(), data))
        except (ConnectionError, OSError):
            end = "reset"
        await q.put(end or "eof")

    async def write(self, writer, q):
        next_free = 0.0
        try:
            while True:
                item = await q.get()
                if isinstance(item, str):
                    self.finish(reset=item == "reset")
                    return
                t, data = item
                pair = self.pair
                if self.zombie or pair.mode == "silent":
                    self.link.net.dropped_bytes += len(data)
                    continue
                now = time.monotonic()
                send_at = max(t + pair.delay, next_free, now)
                if send_at > now:
                    await asyncio.sleep(send_at - now)
                if self.zombie or self.pair.mode == "silent":
                    self.link.net.dropped_bytes += len(data)
                    continue
                writer.write(data)
                await writer.drain()
                next_free = send_at + (len(data) / pair.rate if pair.rate else 0.0)
        except (ConnectionError, OSError):
            self.finish(reset=True)


class Link:
    """The proxy of the directed link i -> j: node i's --peer for node j."""

    def __init__(self, net, i, j, pair):
        self.net, self.i, self.j, self.pair = net, i, j, pair
        self.conns = set()
        self.port = None
        self.server = None

    async def listen(self, taken):
        for _ in range(1000):
            p = random.randint(20000, 32000)
            if p in taken:
                continue
            try:
                self.server = await asyncio.start_server(self.on_conn, "127.0.0.1", p,
                                                         backlog=128)
            except OSError:
                continue
            taken.add(p)
            self.port = p
            return
        raise SetupError("no free port below 32000 for a proxy")

    async def on_conn(self, cr, cw):
        if self.pair.mode == "reset":
            rst(cw)
            return
        try:
            ur, uw = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.net.nodes[self.j].p2p_port), 5)
        except (OSError, asyncio.TimeoutError):
            rst(cw)  # the peer is down: the dialer sees what a real dial would
            return
        if self.pair.mode == "reset":
            rst(cw)
            rst(uw)
            return
        self.conns.add(Conn(self, cr, cw, ur, uw))

    def reset_all(self):
        for c in list(self.conns):
            c.finish(reset=True)


# -------------------------------------------------------------------- nodes


class Node:
    """One validator process and its directory."""

    def __init__(self, run, i):
        self.run, self.i = run, i
        self.dir = os.path.join(run.scratch, "node%d" % i)
        self.data = os.path.join(self.dir, "data")
        self.key = os.path.join(self.dir, "validator.key")
        self.log = os.path.join(self.dir, "esgnode.log")
        self.api_port = self.p2p_port = None
        self.proc = None
        self.state = "new"   # up, paused, killed, stopped
        self.expected_exit = True
        self.height = 0
        self.lock = threading.Lock()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.api_port

    def note(self, what):
        with open(self.log, "a") as f:
            f.write("=== e2e %s: %s\n" % (time.strftime("%H:%M:%S"), what))

    def start(self, skew_ms=0):
        """Starts the node (with the clock shifted by skew_ms) and waits until
        its API answers. Returns None, or what went wrong."""
        argv = [self.run.esgnode, "run", "--datadir", self.data,
                "--api", "127.0.0.1:%d" % self.api_port,
                "--p2p", "127.0.0.1:%d" % self.p2p_port,
                "--heartbeat-ms", str(HEARTBEAT_MS)]
        for j in range(self.run.n):
            if j != self.i:
                argv += ["--peer", "127.0.0.1:%d" % self.run.net.links[(self.i, j)].port]
        env = dict(os.environ)
        if skew_ms:
            env["LD_PRELOAD"] = self.run.clockskew
            env["ESG_CLOCK_SKEW_MS"] = str(skew_ms)
            # An ASan build wants its runtime first in the library list.
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                         "verify_asan_link_order=0"]))
        self.note("start%s" % (" with the clock skewed by %+d ms" % skew_ms if skew_ms else ""))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        self.expected_exit = False
        self.state = "up"
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.expected_exit = True
                self.state = "stopped"
                return "node %d exited at start with status %s" % (self.i, self.proc.returncode)
            try:
                st, _ = pc.Node(self.url, timeout=2).get("/v1/status")
                if st == 200:
                    return None
            except HTTP_ERRORS:
                pass
            time.sleep(0.1)
        return "node %d did not answer its API within %d s of its start" % (self.i, START_S)

    def signal(self, sig, what):
        self.note(what)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill9(self):
        self.expected_exit = True
        self.signal(signal.SIGKILL, "kill -9")
        self.proc.wait()
        self.state = "killed"

    def pause(self):
        self.signal(signal.SIGSTOP, "SIGSTOP")
        self.state = "paused"

    def resume(self):
        self.signal(signal.SIGCONT, "SIGCONT")
        self.state = "up"

    def stop(self):
        """SIGTERM and wait. Returns None, or what went wrong (then kills)."""
        if not self.proc or self.proc.poll() is not None:
            self.state = "stopped"
            return None
        self.expected_exit = True
        if self.state == "paused":
            self.resume()
        self.signal(signal.SIGTERM, "SIGTERM")
        try:
            self.proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.state = "stopped"
            return "node %d did not exit within %d s of SIGTERM" % (self.i, STOP_S)
        self.state = "stopped"
        if self.proc.returncode != 0:
            return "node %d exited with status %d after SIGTERM" % (self.i, self.proc.returncode)
        return None

    def status(self, timeout=1.0):
        st, body = pc.Node(self.url, timeout=timeout).get("/v1/status")
        if st != 200 or not isinstance(body, dict):
            raise ValueError("status %s" % st)
        return body


# --------------------------------------------------------------- the network


class Net:
    """The proxies of every directed link, and operations on links."""

    def __init__(self, n, silent_forever=False):
        self.n = n
        self.silent_forever = silent_forever
        self.pairs = {(a, b): Pair(a, b) for a in range(n) for b in range(a + 1, n)}
        self.links = {}
        self.dropped_bytes = 0
        for (a, b), pair in self.pairs.items():
            for i, j in ((a, b), (b, a)):
                self.links[(i, j)] = Link(self, i, j, pair)
                pair.links.append(self.links[(i, j)])
        self.nodes = []

    def pair(self, i, j):
        return self.pairs[(min(i, j), max(i, j))]

    def cut(self, pairs, mode):
        for p in pairs:
            p.mode = mode
            if mode == "reset":
                for link in p.links:
                    link.reset_all()
            elif mode == "silent" and self.silent_forever:
                for link in p.links:
                    for c in link.conns:
                        c.zombie = True

    def heal(self, pairs=None):
        for p in pairs if pairs is not None else self.pairs.values():
            p.mode = "up"
            p.delay, p.rate = 0.0, None

    def crossing(self, groups):
        side = {}
        for g, members in enumerate(groups):
            for m in members:
                side[m] = g
        return [p for (a, b), p in self.pairs.items() if side[a] != side[b]]


# ----------------------------------------------------------------- schedule


def random_split(rnd, n, sizes=None):
    """Two groups: a minority of k nodes (1..n/2, or one of `sizes`) and the rest."""
    k = rnd.choice(sizes) if sizes else rnd.randint(1, n // 2)
    minority = sorted(rnd.sample(range(n), k))
    return [minority, [i for i in range(n) if i not in minority]]


def make_schedule(seed, n, duration, kinds):
    """The fault steps of a run: a function of its arguments only. Kinds are
    drawn from a shuffled bag (each selected kind once before any repeats);
    each step is one fault, healed before the next begins, so at most one
    node is down at a time."""
    rnd = random.Random(seed)
    kinds = [k for k in kinds if n > 1 or k not in LINK_FAULTS]
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    # t estimates when a step starts (for the length of a flap); lower is
    # what the steps take at least, so the list outlasts the duration.
    steps, bag, t, lower = [], [], 0.0, 0.0
    while kinds and lower < duration:
        if not bag:
            bag = list(kinds)
            rnd.shuffle(bag)
        kind = bag.pop()
        s = {"kind": kind, "gap": round(rnd.uniform(2, 5), 2)}
        if kind in ("kill", "pause"):
            s.update(node=rnd.randrange(n), down=round(rnd.uniform(2, 8), 2))
        elif kind == "restart":
            s.update(node=rnd.randrange(n), down=0)
        elif kind == "cut":
            s.update(pairs=sorted(rnd.sample(pairs, rnd.randint(1, min(3, len(pairs))))),
                     mode=rnd.choice(["reset", "silent"]), down=round(rnd.uniform(2, 8), 2))
        elif kind == "partition":
            s.update(groups=random_split(rnd, n), mode=rnd.choice(["reset", "silent"]),
                     down=round(rnd.uniform(3, 10), 2))
        elif kind == "flap":
            total = min(rnd.uniform(20, 60), max(20.0, duration - t))
            flaps, d = [], 0.0
            while d < total:
                split = random_split(rnd, n, sorted({1, n // 2}))
                f = {"groups": split, "mode": rnd.choice(["reset", "silent"]),
                     "down": round(rnd.uniform(1, 3), 2)}
                flaps.append(f)
                d += f["down"]
            s.update(steps=flaps, down=round(d, 2))
        elif kind == "slow":
            s.update(pairs=sorted(rnd.sample(pairs, rnd.randint(1, len(pairs)))),
                     delay_ms=rnd.randint(50, 300), rate_kib=rnd.randint(64, 256),
                     down=round(rnd.uniform(5, 15), 2))
        elif kind == "skew":
            s.update(node=rnd.randrange(n), skew_ms=rnd.choice([-60000, 60000]),
                     down=round(rnd.uniform(10, 20), 2))
        steps.append(s)
        t += s["gap"] + s["down"] + 3  # about the time a heal takes to show
        lower += s["gap"] + s["down"]
    return steps


def describe(s):
    k = s["kind"]
    if k in ("kill", "pause", "restart"):
        return "%s node %d" % (k, s["node"])
    if k == "cut":
        return "cut (%s) %s" % (s["mode"], " ".join("%d-%d" % p for p in map(tuple, s["pairs"])))
    if k == "partition":
        return "partition (%s) %s" % (s["mode"], "|".join(",".join(map(str, g)) for g in s["groups"]))
    if k == "flap":
        return "flap %d splits" % len(s["steps"])
    if k == "slow":
        return "slow +%d ms %d KiB/s on %s" % (s["delay_ms"], s["rate_kib"],
                                              " ".join("%d-%d" % tuple(p) for p in s["pairs"]))
    if k == "skew":
        return "skew node %d by %+d s" % (s["node"], s["skew_ms"] // 1000)
    return k


# --------------------------------------------------------------------- load


class Load(threading.Thread):
    """Admin AddAccount transactions with increasing nonces, a few a second,
    to random running nodes; one in four waits for its commit."""

    def __init__(self, run):
        super().__init__(daemon=True)
        self.r = run
        self.stop = threading.Event()
        self.submitted = self.accepted = 0
        self.acked = []   # (tx id hex, height, node)
        self.refused = collections.Counter()
        self.rnd = random.Random("load-%s" % run.seed)

    def next_nonce_from(self, node):
        try:
            st, body = pc.Node(node.url, timeout=3).account(self.r.admin_pk)
            if st == 200:
                return body["next_nonce"]
        except (HTTP_ERRORS + (KeyError, TypeError)):
            pass
        return None

    def run(self):  # noqa: C901  (one loop, its cases in order)
        nonce = None
        k = 0
        while not self.stop.is_set():
            up = [nd for nd in self.r.nodes if nd.state == "up"]
            if not up:
                self.stop.wait(0.5)
                continue
            node = self.rnd.choice(up)
            if nonce is None:
                nonce = self.next_nonce_from(node)
                if nonce is None:
                    self.stop.wait(0.5)
                    continue
            wait = k % 4 == 0
            k += 1
            body = pc.tx_body(CHAIN_ID, nonce, self.r.admin_pk,
                              pc.add_account(random_xonly(), [pc.ROLE_OFFICER]))
            raw = pc.tx(body, [self.r.admin_sk])
            txid = pc.tx_id(body).hex()
            self.submitted += 1
            try:
                st, res = pc.Node(node.url, timeout=40 if wait else 10).submit(raw, wait=wait)
            except HTTP_ERRORS:
                self.refused["no answer"] += 1
                nonce = None  # re-read: it may or may not have been taken
                self.stop.wait(0.5)
                continue
            res = res if isinstance(res, dict) else {}
            err = res.get("error") or {}
            if st == 200 and res.get("status") == "committed":
                self.accepted += 1
                self.acked.append((txid, res["height"], node.i))
                nonce += 1
            elif st == 202:
                self.accepted += 1
                nonce += 1
            elif err.get("code") == "ERR_TIMEOUT":
                self.accepted += 1
                self.refused["ERR_TIMEOUT (pending)"] += 1
                nonce += 1
            elif err.get("code") == "ERR_NONCE":
                self.refused["ERR_NONCE"] += 1
                m = re.search(r"expected (\d+)", err.get("message", ""))
                nonce = int(m.group(1)) if m else None
            else:
                self.refused[err.get("code") or "HTTP %s" % st] += 1
                nonce = None
            self.stop.wait(self.rnd.uniform(0.2, 0.6))


# ------------------------------------------------------------------ the run


class Run:
    def __init__(self, args):
        self.args = args
        self.n, self.seed, self.duration = args.nodes, args.seed, args.duration
        self.kinds = args.faults
        self.build = os.path.abspath(args.build_dir)
        self.esgnode = os.path.join(self.build, "esgnode")
        self.clockskew = os.path.join(self.build, "libesgclockskew.so")
        self.scratch = None
        self.nodes = []
        self.violations = []   # (time, criterion, message)
        self.counts = collections.Counter()
        self.progress = []     # seconds from each heal to the next height
        self.t0 = time.monotonic()
        self.elog = None
        self.done = threading.Event()

    # ---------------------------------------------------------- reporting
    def log(self, msg):
        line = "[%7.1fs] %s" % (time.monotonic() - self.t0, msg)
        if not self.args.quiet:
            print(line, flush=True)
        if self.elog:
            self.elog.write(line + "\n")
            self.elog.flush()

    def violate(self, criterion, msg):
        self.violations.append((time.monotonic(), criterion, msg))
        self.log("VIOLATION of criterion %d (%s): %s" % (criterion, CRITERIA[criterion], msg))

    def replay_cmd(self):
        return "testnet/esgnet e2e --nodes %d --seed %d --duration %g --faults %s%s" % (
            self.n, self.seed, self.duration, ",".join(self.kinds),
            " --silent-forever" if self.args.silent_forever else "")

    # -------------------------------------------------------------- setup
    def setup(self):
        for f in (self.esgnode, self.clockskew):
            if not os.path.exists(f):
                raise SetupError("'%s' is missing: build first (testnet/esgnet e2e builds it)" % f)
        parent = self.args.dir or None
        self.scratch = tempfile.mkdtemp(prefix="esg-e2e-%d-" % self.seed, dir=parent)
        self.elog = open(os.path.join(self.scratch, "e2e.log"), "a")
        self.admin_sk = pc.new_secret()
        self.admin_pk = pc.pubkey(self.admin_sk)
        self.nodes = [Node(self, i) for i in range(self.n)]
        vals = []
        for nd in self.nodes:
            os.makedirs(nd.dir)
            out = self.cmd([self.esgnode, "key", "new", "-o", nd.key])
            vals += ["--validator", "%s:10:city-alpha" % out.strip()]
        genesis = os.path.join(self.scratch, "genesis.json")
        self.cmd([self.esgnode, "genesis", "new", "--chain-id", CHAIN_ID, "-o", genesis,
                  "--member", "city-alpha:CITY:Alpha:%s" % self.admin_pk.hex()] + vals)
        taken = set()
        for nd in self.nodes:
            self.cmd([self.esgnode, "init", "--genesis", genesis, "--datadir", nd.data,
                      "--key", nd.key])
            nd.api_port = free_port(taken)
            nd.p2p_port = low_port(taken)
        self.taken = taken
        self.net = Net(self.n, self.args.silent_forever)
        self.net.nodes = self.nodes

    def cmd(self, argv):
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError("%s failed: %s" % (" ".join(argv[:3]), r.stderr.strip()))
        return r.stdout

    # ----------------------------------------------------------- monitor
    def poll_node(self, nd):
        """Thread: keeps nd.height current; reports a node that exits unasked."""
        while not self.done.is_set():
            if nd.proc and not nd.expected_exit and nd.proc.poll() is not None:
                nd.expected_exit = True
                nd.state = "stopped"
                self.violate(0, "node %d exited by itself with status %s (see %s)" % (
                    nd.i, nd.proc.returncode, nd.log))
            if nd.state == "up":
                try:
                    h = nd.status()["height"]
                    with nd.lock:
                        nd.height = max(nd.height, h)
                except (HTTP_ERRORS + (KeyError, TypeError)):
                    pass
            self.done.wait(0.2)

    def max_height(self):
        return max(nd.height for nd in self.nodes)

    async def wait_progress(self, what):
        """Criterion 5: after a heal, the highest height grows within 15 s."""
        h0, t = self.max_height(), time.monotonic()
        while time.monotonic() - t < PROGRESS_S:
            if self.max_height() > h0:
                dt = time.monotonic() - t
                self.progress.append(dt)
                self.log("  progress %.1f s after healing %s (height %d)" % (dt, what, self.max_height()))
                return True
            await asyncio.sleep(0.05)
        self.violate(5, "the height stayed at %d for %d s after healing %s" % (h0, PROGRESS_S, what))
        return False

    # ---------------------------------------------------------- faults
    async def node_op(self, fn, *a):
        err = await asyncio.to_thread(fn, *a)
        if err:
            self.violate(0, err)
        return err is None

    async def step(self, s):
        k, net = s["kind"], self.net
        self.counts[k] += 1
        self.log("fault %s for %.1f s" % (describe(s), s["down"]))
        if k == "kill":
            nd = self.nodes[s["node"]]
            nd.kill9()
            await asyncio.sleep(s["down"])
            if not await self.node_op(nd.start):
                return False
        elif k == "pause":
            nd = self.nodes[s["node"]]
            nd.pause()
            await asyncio.sleep(s["down"])
            nd.resume()
        elif k == "restart":
            nd = self.nodes[s["node"]]
            if not await self.node_op(nd.stop) or not await self.node_op(nd.start):
                return False
        elif k == "skew":
            nd = self.nodes[s["node"]]
            if not await self.node_op(nd.stop) or not await self.node_op(nd.start, s["skew_ms"]):
                return False
            await asyncio.sleep(s["down"])
            if not await self.node_op(nd.stop) or not await self.node_op(nd.start):
                return False
        elif k == "cut":
            net.cut([net.pair(*p) for p in s["pairs"]], s["mode"])
            await asyncio.sleep(s["down"])
            net.heal()
        elif k == "partition":
            net.cut(net.crossing(s["groups"]), s["mode"])
            await asyncio.sleep(s["down"])
            net.heal()
        elif k == "flap":
            for f in s["steps"]:
                net.heal()
                net.cut(net.crossing(f["groups"]), f["mode"])
                self.log("  flap %s (%s) for %.1f s" % (
                    "|".join(",".join(map(str, g)) for g in f["groups"]), f["mode"], f["down"]))
                await asyncio.sleep(f["down"])
            net.heal()
        elif k == "slow":
            for p in s["pairs"]:
                pair = net.pair(*p)
                pair.delay, pair.rate = s["delay_ms"] / 1000.0, s["rate_kib"] * 1024
            await asyncio.sleep(s["down"])
            net.heal()
        return await self.wait_progress(describe(s))

    async def heal_all(self):
        self.net.heal()
        for nd in self.nodes:
            if nd.state == "paused":
                nd.resume()
            elif nd.state in ("killed", "stopped"):
                await self.node_op(nd.start)

    # ------------------------------------------------------------ checks
    def wait_same_height(self):
        """Criterion 1: every node reaches the highest height seen when the
        load stopped. Returns that height (or None)."""
        target = 0
        for nd in self.nodes:
            try:
                target = max(target, nd.status(3)["height"])
            except (HTTP_ERRORS + (KeyError, TypeError)):
                pass
        deadline = time.monotonic() + CATCHUP_S
        lag = {}
        while time.monotonic() < deadline:
            lag = {}
            for nd in self.nodes:
                try:
                    h = nd.status(3)["height"]
                except (HTTP_ERRORS + (KeyError, TypeError)):
                    h = -1
                if h < target:
                    lag[nd.i] = h
            if not lag:
                return target
            time.sleep(0.2)
        self.violate(1, "within %d s not every node reached height %d: %s" % (
            CATCHUP_S, target, ", ".join("node %d at %d" % kv for kv in sorted(lag.items()))))
        return None

    def check_blocks(self, top):
        """Criterion 2: blocks 1..top byte-identical everywhere."""
        for h in range(1, top + 1):
            raws = {}
            for nd in self.nodes:
                st, raw = pc.Node(nd.url, timeout=10).get("/v1/blocks/%d?format=raw" % h)
                raws[nd.i] = raw if st == 200 and isinstance(raw, bytes) else None
            if len(set(raws.values())) != 1:
                desc = ", ".join("node %d: %s" % (i, hashlib.sha256(r).hexdigest()[:16] if r else "missing")
                                 for i, r in sorted(raws.items()))
                self.violate(2, "block %d differs: %s" % (h, desc))
                return False
        return True

    def check_txs(self, acked):
        """Criterion 3: each acknowledged tx is at its reported height everywhere."""
        for txid, height, via in acked:
            for nd in self.nodes:
                st, res = pc.Node(nd.url, timeout=10).get("/v1/txs/" + txid)
                got = res.get("height") if st == 200 and isinstance(res, dict) else None
                if got != height:
                    self.violate(3, "tx %s, acknowledged by node %d as committed at height %d, "
                                    "is %s on node %d" % (txid, via, height,
                                                          "at height %s" % got if got else "missing (HTTP %s)" % st,
                                                          nd.i))
                    return False
        return True

    def verify_chains(self):
        """Criterion 4, with every node stopped."""
        for nd in self.nodes:
            r = subprocess.run([self.esgnode, "verify-chain", "--datadir", nd.data],
                               capture_output=True, text=True, timeout=900)
            with open(os.path.join(nd.dir, "verify-chain.out"), "w") as f:
                f.write(r.stdout + r.stderr)
            if r.returncode != 0:
                self.violate(4, "node %d: %s" % (nd.i, (r.stderr or r.stdout).strip()[-300:]))
                return False
        return True

    # -------------------------------------------------------------- main
    async def main(self):
        self.setup()
        self.log("e2e seed %d, %d nodes, %g s, faults %s, scratch %s" % (
            self.seed, self.n, self.duration, ",".join(self.kinds), self.scratch))
        for link in self.net.links.values():
            await link.listen(self.taken)
        schedule = make_schedule(self.seed, self.n, self.duration, self.kinds)
        with open(os.path.join(self.scratch, "schedule.json"), "w") as f:
            json.dump({"seed": self.seed, "nodes": self.n, "duration": self.duration,
                       "faults": self.kinds, "steps": schedule}, f, indent=1)
        for nd in self.nodes:
            if not await self.node_op(nd.start):
                return
        pollers = [threading.Thread(target=self.poll_node, args=(nd,), daemon=True)
                   for nd in self.nodes]
        for t in pollers:
            t.start()
        load = Load(self)
        load.start()
        self.load = load
        self.log("network up; load running")
        start = time.monotonic()
        for s in schedule:
            if time.monotonic() - start >= self.duration or self.violations:
                break
            await asyncio.sleep(s["gap"])
            if not await self.step(s):
                break
        await self.heal_all()
        self.log("healed everything")
        await self.wait_progress("everything (final heal)")
        load.stop.set()
        await asyncio.to_thread(load.join, 60)
        self.log("load stopped: %d submitted, %d accepted, %d acknowledged committed; "
                 "not accepted: %s" % (load.submitted, load.accepted, len(load.acked),
                                       dict(load.refused) or "none"))
        self.top = await asyncio.to_thread(self.wait_same_height)
        if self.top is not None:
            self.log("every node at height %d or above" % self.top)
            try:
                if await asyncio.to_thread(self.check_blocks, self.top):
                    self.log("blocks 1..%d identical on every node" % self.top)
            except HTTP_ERRORS as e:
                self.violate(2, "reading the blocks failed: %s" % e)
            try:
                if await asyncio.to_thread(self.check_txs, list(load.acked)):
                    self.log("%d acknowledged transactions found at their heights" % len(load.acked))
            except HTTP_ERRORS as e:
                self.violate(3, "reading the transactions failed: %s" % e)
        self.done.set()
        for nd in self.nodes:
            await self.node_op(nd.stop)
        if await asyncio.to_thread(self.verify_chains):
            self.log("verify-chain passed on every node")

    def cleanup(self):
        self.done.set()
        for nd in self.nodes:
            if nd.proc and nd.proc.poll() is None:
                nd.expected_exit = True
                try:
                    nd.proc.send_signal(signal.SIGCONT)
                    nd.proc.kill()
                    nd.proc.wait()
                except OSError:
                    pass

    def summary(self):
        load = getattr(self, "load", None)
        faults = ",".join("%s:%d" % (k, self.counts[k]) for k in ALL_FAULTS if k in self.kinds)
        heights = "/".join(str(nd.height) for nd in self.nodes)
        return ("seed=%d duration=%gs elapsed=%.0fs nodes=%d faults=%s heights=%s top=%s "
                "txs=%d/%d/%d(submitted/accepted/acked-committed) max_progress_after_heal=%.1fs "
                "heals=%d dropped_bytes=%d" % (
                    self.seed, self.duration, time.monotonic() - self.t0, self.n, faults, heights,
                    getattr(self, "top", None), load.submitted if load else 0,
                    load.accepted if load else 0, len(load.acked) if load else 0,
                    max(self.progress) if self.progress else 0.0, len(self.progress),
                    self.net.dropped_bytes if hasattr(self, "net") else 0))


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="esgnet e2e", description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=4, help="validators (default 4)")
    ap.add_argument("--seed", type=int, default=None, help="schedule seed (default: random)")
    ap.add_argument("--duration", type=float, default=120,
                    help="seconds of faults before the final heal (default 120)")
    ap.add_argument("--faults", default=",".join(ALL_FAULTS),
                    help="comma-separated kinds among %s (default all)" % ",".join(ALL_FAULTS))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory on success")
    ap.add_argument("--dir", help="parent of the scratch directory (default: $TMPDIR or /tmp)")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"),
                    help="where esgnode and libesgclockskew.so are (default build/release)")
    ap.add_argument("--silent-forever", action="store_true",
                    help="a silent cut leaves the connections it caught black-holed after the "
                         "heal (only new connections forward): a flow lost for good")
    ap.add_argument("--quiet", action="store_true", help="only the summary on stdout")
    a = ap.parse_args(argv)
    kinds = [k.strip() for k in a.faults.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ALL_FAULTS]
    if bad or not kinds:
        ap.error("unknown fault kind(s) %s (known: %s)" % (",".join(bad) or "''", ",".join(ALL_FAULTS)))
    if not 1 <= a.nodes <= 20:
        ap.error("--nodes must be 1..20")
    if a.duration <= 0:
        ap.error("--duration must be positive")
    a.faults = [k for k in ALL_FAULTS if k in kinds]
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 2**31)
    return a


def main(argv):
    args = parse_args(argv)
    run = Run(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        asyncio.run(run.main())
    except SetupError as e:
        run.cleanup()
        print("e2e: setup failed: %s%s" % (e, " (scratch %s)" % run.scratch if run.scratch else ""),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        run.cleanup()
        print("e2e: interrupted; seed %d; logs kept in %s" % (run.seed, run.scratch), file=sys.stderr)
        return 130
    finally:
        run.cleanup()
    line = run.summary()
    if run.violations:
        _, c, msg = min(run.violations)
        run.log("FAIL " + line)
        print("e2e FAIL: criterion %d (%s) violated, seed %d: %s" % (c, CRITERIA[c], run.seed, msg))
        print("  %s" % line)
        print("  replay: %s" % run.replay_cmd())
        print("  logs:   %s (e2e.log, schedule.json, node*/esgnode.log)" % run.scratch)
        return 1
    run.log("PASS " + line)
    print("e2e PASS " + line)
    if args.keep:
        print("  logs: %s" % run.scratch)
    else:
        run.elog.close()
        shutil.rmtree(run.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
