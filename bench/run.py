#!/usr/bin/env python3
"""Side-by-side benchmark of shardis and redis-server; writes BENCHMARKS.md.

Usage: python3 bench/run.py [--seconds 10] [--repeat 3] [--suite all] [--out BENCHMARKS.md]

Builds shardis in release mode, then runs the two servers one after the other with the same
settings (no persistence, loopback only). For each it runs redis-benchmark
`-c 50 -d 64 -r 1000000 --threads 1` for SET, GET, INCR and MSET at pipeline 1 and 16, each
run sized to last about --seconds, repeated --repeat times (the median is reported). It also
loads 1,000,000 keys with 64-byte values into a fresh server and reports RSS growth per key,
and the server's CPU seconds per million requests (utime+stime from /proc).

The persistence suite (`--suite persistence`) starts every server with `--dir` a fresh temporary
directory. It measures SET with the append-only log on (`--appendfsync always` and `everysec`),
SAVE and BGSAVE (under a concurrent SET load) of a 1M-key and an 11M-key dataset with the peak
extra memory during BGSAVE, and the startup load time of the file each server wrote. A partial
run (one suite) rewrites only that suite's sections of the output and keeps the others.
"""
import argparse, csv, io, os, platform, shutil, signal, socket, statistics, subprocess, sys, tempfile, \
    threading, time, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARDIS = os.path.join(ROOT, "target", "release", "shardis-server")
LOADGEN = os.path.join(ROOT, "target", "release", "examples", "loadgen")
SUITES = {
    "strings": ["set", "get", "incr", "mset"],
    "collections": ["lpush", "lpop", "sadd", "hset", "zadd", "lrange_100"],
}
PIPELINES = [1, 16]


def port_free(p):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", p)) != 0


def server_cmd(kind, port, persist=("--save", "", "--appendonly", "no")):
    common = ["--port", str(port), "--bind", "127.0.0.1", *persist]
    return [SHARDIS, *common, "--loglevel", "warning"] if kind == "shardis" else ["redis-server", *common]


def start(kind, port, persist=("--save", "", "--appendonly", "no")):
    p = subprocess.Popen(server_cmd(kind, port, persist), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if not port_free(port):
            return p
        time.sleep(0.02)
    raise SystemExit(f"{kind} did not start")


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def bench_cmd(port, test, pipeline, n):
    return ["redis-benchmark", "-p", str(port), "-c", "50", "-d", "64", "-r", "1000000", "--threads", "1",
            "-t", test, "-P", str(pipeline), "-n", str(n), "--csv", "-q"]


def run_bench(port, test, pipeline, n):
    out = subprocess.run(bench_cmd(port, test, pipeline, n), capture_output=True, text=True, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    header = rows[0]
    # Some tests run a preparatory stage first (LRANGE fills a list): take the test's own row.
    want = test.upper()
    row = next(r for r in rows[1:] if r[0].upper().startswith(want)) if len(rows) > 2 else rows[1]
    d = dict(zip(header, row))
    return float(d["rps"]), float(d["p50_latency_ms"]), float(d["p99_latency_ms"])


def measure(ports, seconds, repeat, tests):
    """Both servers run side by side, and their runs alternate (shardis, redis, shardis, ...),
    so a slow minute on this shared machine lands on both rather than on one. Each server
    sees the same sequence of runs, so a key a test grows (HSET's myhash) grows alike."""
    kinds = ("shardis", "redis")
    procs = {k: start(k, ports[k]) for k in kinds}
    results = {k: {} for k in kinds}
    try:
        for test in tests:
            for pl in PIPELINES:
                # Size each run from a short calibration so it lasts about `seconds`.
                n = {}
                for k in kinds:
                    rps, _, _ = run_bench(ports[k], test, pl, 20000 * pl)
                    n[k] = max(int(rps * seconds), 50000)
                runs = {k: [] for k in kinds}
                for _ in range(repeat):
                    for k in kinds:
                        c0 = cpu_seconds(procs[k].pid)
                        rps, p50, p99 = run_bench(ports[k], test, pl, n[k])
                        cpu = cpu_seconds(procs[k].pid) - c0
                        runs[k].append((rps, p50, p99, cpu / n[k] * 1e6))
                        print(f"{k:8} {test:5} P={pl:<3} {rps:>12.0f} rps p50={p50} p99={p99}", flush=True)
                for k in kinds:
                    med = sorted(runs[k], key=lambda r: r[0])[len(runs[k]) // 2]
                    results[k][(test, pl)] = med + (n[k],)
    finally:
        for p in procs.values():
            stop(p)
    return results["shardis"], results["redis"]


def load_memory(kind, port, keys=1_000_000):
    p = start(kind, port)
    try:
        time.sleep(0.3)
        before = rss(p.pid)
        value = b"x" * 64
        buf = bytearray()
        for i in range(keys):
            k = b"key:%012d" % i
            buf += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n" % (len(k), k, value)
        r = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=bytes(buf), capture_output=True)
        if r.returncode != 0:
            raise SystemExit(r.stderr.decode())
        n = int(subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], capture_output=True, text=True).stdout)
        time.sleep(0.5)
        after = rss(p.pid)
        return n, (after - before) / n
    finally:
        stop(p)


def resp(commands):
    """RESP encoding of a sequence of commands (lists of bytes)."""
    buf = bytearray()
    for args in commands:
        buf += b"*%d\r\n" % len(args)
        for a in args:
            buf += b"$%d\r\n%s\r\n" % (len(a), a)
    return bytes(buf)


def pipe_send(port, buf):
    r = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=buf, capture_output=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr.decode())


def pipe_load(port, commands):
    """Sends RESP commands through `redis-cli --pipe`, the fastest way to load a server."""
    pipe_send(port, resp(commands))


SHAPES = {
    # name: (elements, generator of commands)
    "1M-field hash": (1_000_000, lambda: ([b"HSET", b"h", b"field:%d" % i, b"value:%d" % i] for i in range(1_000_000))),
    "1M-member set": (1_000_000, lambda: ([b"SADD", b"s", b"member:%d" % i] for i in range(1_000_000))),
    "1M-member sorted set": (1_000_000, lambda: ([b"ZADD", b"z", b"%d" % i, b"member:%d" % i] for i in range(1_000_000))),
    "100K hashes of 10 fields": (1_000_000, lambda: ([b"HSET", b"user:%d" % (i // 10), b"f%d" % (i % 10), b"v%d" % i] for i in range(1_000_000))),
}


def shape_memory(kind, port, shape):
    """(RSS growth) / elements for one data shape on a fresh server."""
    n, gen = SHAPES[shape]
    p = start(kind, port)
    try:
        time.sleep(0.3)
        before = rss(p.pid)
        pipe_load(port, gen())
        time.sleep(0.5)
        return (rss(p.pid) - before) / n
    finally:
        stop(p)


def messaging(kind, port, seconds, repeat):
    """MULTI/EXEC of 5 INCRs (transactions/s, 50 clients) and PUBLISH fan-out to 100
    subscribers (messages delivered/s), each the median of `repeat` runs, by loadgen."""
    p = start(kind, port)
    try:
        tx, fan = [], []
        for _ in range(repeat):
            out = subprocess.run([LOADGEN, "multi", str(port), "50", str(seconds)],
                                 capture_output=True, text=True, check=True).stdout
            tx.append(float(out))
            # Messages per run sized so the fan-out lasts about `seconds` at ~5M deliveries/s.
            n = max(int(seconds * 50_000), 6400)
            out = subprocess.run([LOADGEN, "fanout", str(port), "100", str(n)],
                                 capture_output=True, text=True, check=True).stdout
            fan.append(float(out))
            print(f"{kind:8} multi {tx[-1]:>12.0f} tx/s  fanout {fan[-1]:>12.0f} msg/s", flush=True)
        return statistics.median(tx), statistics.median(fan)
    finally:
        stop(p)


# ---------------------------------------------------------------- persistence suite

FSYNC_MODES = ["always", "everysec"]
# The write load that runs during BGSAVE: the SET test at P=1 on its own 1M keys.
BG_WRITE_P = 1


class Conn:
    """A minimal RESP client for the polling loops (a redis-cli process per poll costs ~5 ms)."""

    def __init__(self, port, timeout=600):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        self.s.sendall(resp([[a if isinstance(a, bytes) else str(a).encode() for a in args]]))
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")

    def info(self, section):
        return dict(l.split(":", 1) for l in self.cmd("INFO", section).split("\r\n") if ":" in l)

    def close(self):
        self.s.close()


def children(pid):
    kids = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                kids += [int(c) for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def smaps_field(pid, name):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith(name):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_or_0(pid):
    try:
        return rss(pid)
    except OSError:
        return 0


class MemSampler(threading.Thread):
    """Samples every 10 ms the server's RSS plus its forked children's: `peak_sum` adds the
    children's RSS (which counts pages still shared with the parent), `peak_cow` adds only
    their Private_Dirty (the pages copied on write, Redis's own COW measure)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.peak_sum = self.peak_cow = self.samples = 0

    def run(self):
        while not self.done.is_set():
            parent = rss_or_0(self.pid)
            kids = children(self.pid)
            self.peak_sum = max(self.peak_sum, parent + sum(rss_or_0(k) for k in kids))
            self.peak_cow = max(self.peak_cow, parent + sum(smaps_field(k, "Private_Dirty:") for k in kids))
            self.samples += 1
            time.sleep(0.01)

    def finish(self):
        self.done.set()
        self.join()


def perf_fsyncs_start(pid, out):
    """Counts fsync+fdatasync calls of the server's threads with `perf stat`, or None."""
    if not shutil.which("perf"):
        return None
    p = subprocess.Popen(["perf", "stat", "-x,", "-o", out, "-e",
                          "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync", "-p", str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return p if p.poll() is None else None


def perf_fsyncs_end(p, out):
    if p is None:
        return None
    p.send_signal(signal.SIGINT)
    p.wait(10)
    total = 0
    try:
        for line in open(out):
            f = line.strip().split(",")
            if len(f) > 2 and "sys_enter_f" in f[2]:
                if not f[0].isdigit():
                    return None
                total += int(f[0])
    except OSError:
        return None
    return total


def disk_fsync_rate(d, seconds=2.0):
    """Serial 64-byte appends each followed by fdatasync, per second: the disk's fsync rate."""
    path = os.path.join(d, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        os.write(fd, b"x" * 64)
        os.fdatasync(fd)
        n += 1
    rate = n / (time.monotonic() - t0)
    os.close(fd)
    os.unlink(path)
    return rate


def aof_measure(kind, port, seconds, repeat, mode):
    """SET at P=1 and P=16 with `--appendonly yes --appendfsync <mode>`, in a fresh --dir."""
    d = tempfile.mkdtemp(prefix=f"bench-{kind}-aof-")
    p = start(kind, port, ["--save", "", "--appendonly", "yes", "--appendfsync", mode, "--dir", d])
    results = {}
    try:
        for pl in PIPELINES:
            rps, _, _ = run_bench(port, "set", pl, 20000 * pl)
            n = max(int(rps * seconds), 50000)
            runs = []
            for _ in range(repeat):
                perf = perf_fsyncs_start(p.pid, os.path.join(d, "perf.txt"))
                t0 = time.monotonic()
                rps, p50, p99 = run_bench(port, "set", pl, n)
                fs = perf_fsyncs_end(perf, os.path.join(d, "perf.txt"))
                # fsyncs per second over the run (perf's window adds ~0.3 s of idle before it).
                fps = fs / (time.monotonic() - t0 + 0.3) if fs is not None else None
                runs.append((rps, p50, p99, fps))
                print(f"{kind:8} SET {mode:8} P={pl:<3} {rps:>10.0f} rps p50={p50} p99={p99} "
                      f"fsync/s={fps if fps is None else round(fps)}", flush=True)
            results[pl] = sorted(runs, key=lambda r: r[0])[len(runs) // 2] + (n,)
        c = Conn(port)
        results["rewrites"] = int(c.info("persistence").get("aof_rewrites", "0"))
        c.close()
    finally:
        stop(p)
        shutil.rmtree(d, ignore_errors=True)
    return results


def write_targets():
    """The keys redis-benchmark's SET test writes with -r 1000000 -d 64, created up front."""
    value = b"x" * 64
    return ([b"SET", b"key:%012d" % i, value] for i in range(1_000_000))


DATASETS = {
    # name: (keys, generator of load commands). Both contain the write load's own 1M keys, so
    # the SETs during BGSAVE overwrite values of the same size and the dataset does not grow.
    "1M keys, 64-byte values": (1_000_000, write_targets),
    "10M small keys + the 1M": (11_000_000, lambda: __import__("itertools").chain(
        ([b"SET", b"key:%d" % i, b"%d" % i] for i in range(10_000_000)), write_targets())),
}


def wait_bgsave(c):
    while int(c.info("persistence")["rdb_bgsave_in_progress"]):
        time.sleep(0.01)


def bgsave_under_writes(c, p, port):
    """BGSAVE while the SET test runs on the 1M write-target keys: (wall s, peak extra RSS,
    peak extra COW, writes/s during the save, Redis's rdb_last_cow_size or None)."""
    wl = subprocess.Popen(bench_cmd(port, "set", BG_WRITE_P, 1_000_000_000),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        before = rss(p.pid)
        s = MemSampler(p.pid)
        s.start()
        time.sleep(0.05)
        c0 = int(c.info("stats")["total_commands_processed"])
        t0 = time.monotonic()
        c.cmd("BGSAVE")
        wait_bgsave(c)
        wall = time.monotonic() - t0
        c1 = int(c.info("stats")["total_commands_processed"])
        s.finish()
    finally:
        wl.terminate()
        wl.wait()
    info = c.info("persistence")
    if info.get("rdb_last_bgsave_status") != "ok":
        raise SystemExit(f"BGSAVE failed: {info}")
    cow = int(info["rdb_last_cow_size"]) if "rdb_last_cow_size" in info else None
    return wall, s.peak_sum - before, s.peak_cow - before, (c1 - c0) / wall, cow


def startup_load(kind, port, d):
    """Seconds from process start until PING answers +PONG (not -LOADING), and DBSIZE then."""
    t0 = time.monotonic()
    p = subprocess.Popen(server_cmd(kind, port, ["--save", "", "--appendonly", "no", "--dir", d]),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if p.poll() is not None:
                raise SystemExit(f"{kind} exited with {p.returncode} while loading {d}")
            try:
                c = Conn(port)
                try:
                    if c.cmd("PING") == "PONG":
                        break
                except RuntimeError:  # -LOADING
                    pass
                finally:
                    c.close()
            except OSError:
                pass
            time.sleep(0.01)
        dt = time.monotonic() - t0
        c = Conn(port)
        n = c.cmd("DBSIZE")
        c.close()
        return dt, n
    finally:
        stop(p)


def snapshot_measure(kind, port, repeat, buf, keys, d):
    """Loads `buf` into a fresh server whose --dir is d, then SAVE and BGSAVE `repeat` times
    each and startup loads of the last file written."""
    p = start(kind, port, ["--save", "", "--appendonly", "no", "--dir", d])
    try:
        time.sleep(0.3)
        empty = rss(p.pid)
        t0 = time.monotonic()
        pipe_send(port, buf)
        load_s = time.monotonic() - t0
        c = Conn(port)
        n = c.cmd("DBSIZE")
        if n != keys:
            raise SystemExit(f"{kind}: DBSIZE {n} after loading {keys} keys")
        time.sleep(0.5)
        dataset = rss(p.pid) - empty
        print(f"{kind:8} loaded {n} keys in {load_s:.1f} s, dataset RSS {dataset / 2**20:.0f} MiB", flush=True)
        saves, bgs = [], []
        for _ in range(repeat):
            t0 = time.monotonic()
            if c.cmd("SAVE") != "OK":
                raise SystemExit(f"{kind}: SAVE failed")
            saves.append(time.monotonic() - t0)
            print(f"{kind:8} SAVE {saves[-1]:.2f} s", flush=True)
        for _ in range(repeat):
            r = bgsave_under_writes(c, p, port)
            bgs.append(r)
            print(f"{kind:8} BGSAVE {r[0]:.2f} s, peak extra RSS {r[1] / 2**20:.0f} MiB, COW {r[2] / 2**20:.0f} MiB, "
                  f"writes {r[3]:.0f}/s, rdb_last_cow_size {r[4]}", flush=True)
        n = c.cmd("DBSIZE")
        if n != keys:
            raise SystemExit(f"{kind}: DBSIZE {n} after the BGSAVE runs (expected {keys})")
        c.close()
    finally:
        stop(p)
    size = os.path.getsize(os.path.join(d, "dump.rdb"))
    loads = []
    for _ in range(repeat):
        dt, n = startup_load(kind, port, d)
        if n != keys:
            raise SystemExit(f"{kind}: {n} keys after loading its own file (expected {keys})")
        loads.append(dt)
        print(f"{kind:8} startup load {dt:.2f} s, {n} keys", flush=True)
    bg = sorted(bgs, key=lambda b: b[0])[len(bgs) // 2]  # median by wall time
    return {"dataset": dataset, "save": statistics.median(saves), "bgsave": bg,
            "peak_rss": statistics.median(b[1] for b in bgs), "peak_cow": statistics.median(b[2] for b in bgs),
            "writes": statistics.median(b[3] for b in bgs),
            "cow_info": statistics.median(b[4] for b in bgs) if bgs[0][4] is not None else None,
            "load": statistics.median(loads), "size": size}


def persistence(port_a, port_b, seconds, repeat):
    probe = tempfile.mkdtemp(prefix="bench-fsync-")
    disk = disk_fsync_rate(probe)
    shutil.rmtree(probe, ignore_errors=True)
    print(f"disk: {disk:.0f} serial fdatasync/s", flush=True)
    aof = {}
    for mode in FSYNC_MODES:
        aof[mode] = (aof_measure("shardis", port_a, seconds, repeat, mode),
                     aof_measure("redis", port_b, seconds, repeat, mode))
    empty = {}
    for kind, port in (("shardis", port_a), ("redis", port_b)):
        d = tempfile.mkdtemp(prefix=f"bench-{kind}-empty-")
        empty[kind] = statistics.median(startup_load(kind, port, d)[0] for _ in range(repeat))
        shutil.rmtree(d, ignore_errors=True)
    snaps = {}
    for name, (keys, gen) in DATASETS.items():
        buf = resp(gen())
        dirs = {k: tempfile.mkdtemp(prefix=f"bench-{k}-rdb-") for k in ("shardis", "redis")}
        try:
            ours = snapshot_measure("shardis", port_a, repeat, buf, keys, dirs["shardis"])
            theirs = snapshot_measure("redis", port_b, repeat, buf, keys, dirs["redis"])
            # shardis loading the file redis-server wrote.
            cross = []
            for _ in range(repeat):
                dt, n = startup_load("shardis", port_a, dirs["redis"])
                if n != keys:
                    raise SystemExit(f"shardis: {n} keys after loading redis's file (expected {keys})")
                cross.append(dt)
            print(f"shardis  startup load of redis's file {statistics.median(cross):.2f} s", flush=True)
            snaps[name] = (keys, ours, theirs, statistics.median(cross))
        finally:
            for d in dirs.values():
                shutil.rmtree(d, ignore_errors=True)
        del buf
    return disk, aof, empty, snaps


def persistence_lines(a, redis_version, disk, aof, empty, snaps):
    mib = lambda b: b / 2**20
    lines = [
        "## Persistence", "",
        f"Run on {datetime.date.today().isoformat()} by `python3 bench/run.py --seconds {a.seconds:g} "
        f"--repeat {a.repeat} --suite {a.suite}`",
        f"on {machine()}; reference: {redis_version}.",
        "Every server starts with `--dir` a fresh temporary directory, one server after the other.", "",
        "### SET with the append-only log on", "",
        "`--save '' --appendonly yes --appendfsync <mode>`, the same client as above",
        "(`redis-benchmark -c 50 -d 64 -r 1000000 --threads 1 -t set -P <p> -n <n> --csv`, n sized",
        f"for about {a.seconds:g} s, median of {a.repeat} runs by throughput). fsyncs/s counts the server's",
        "fsync + fdatasync calls with `perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
        "-p <pid>` over each run; SETs per fsync is rps / fsyncs/s. The log's automatic rewrite is at",
        "its defaults (100 %, 64mb) for both servers. The disk here does",
        f"{disk:,.0f} serial 64-byte appends + fdatasync per second (measured by the script in a temp",
        "directory), so under `always` one fsync must cover many SETs (group commit) for either",
        "server to pass that rate.", "",
        "| fsync | P | shardis rps | redis rps | ratio | shardis p50/p99 ms | redis p50/p99 ms | shardis fsyncs/s (SETs per fsync) | redis fsyncs/s (SETs per fsync) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def fs(r):
        return "n/a" if r[3] is None else f"{r[3]:,.0f} ({r[0] / r[3]:,.0f})" if r[3] else "0"

    for mode in FSYNC_MODES:
        o, t = aof[mode]
        for pl in PIPELINES:
            lines.append(f"| {mode} | {pl} | {o[pl][0]:,.0f} | {t[pl][0]:,.0f} | {o[pl][0] / t[pl][0]:.2f} | "
                         f"{o[pl][1]:.3f} / {o[pl][2]:.3f} | {t[pl][1]:.3f} / {t[pl][2]:.3f} | {fs(o[pl])} | {fs(t[pl])} |")
    lines.append("")
    lines.append("Automatic log rewrites during the runs of each mode (INFO aof_rewrites): " + "; ".join(
        f"{m}: shardis {aof[m][0]['rewrites']}, redis {aof[m][1]['rewrites']}" for m in FSYNC_MODES) + ".")
    lines += [
        "", "### SAVE, BGSAVE and loading", "",
        "Each dataset is loaded through `redis-cli --pipe` into a fresh server (`--save '' --appendonly",
        "no --dir <temp>`). Both datasets contain the 1M keys `key:%012d` with 64-byte values that",
        "redis-benchmark's SET test writes; the 10M one adds `key:<i>` → `<i>` for i < 10,000,000.",
        "Dataset RSS is the server's RSS after the load minus its RSS empty. SAVE is the time to its",
        f"reply with no other clients (median of {a.repeat}). BGSAVE runs while",
        f"`redis-benchmark -c 50 -d 64 -r 1000000 --threads 1 -t set -P {BG_WRITE_P}` overwrites those 1M keys (started",
        "1 s before; same-size values, so the dataset does not grow): its time runs from sending",
        "BGSAVE until INFO's `rdb_bgsave_in_progress` is back to 0 (polled every 10 ms), and the",
        "server's memory is sampled from /proc every 10 ms meanwhile. Peak extra = max(sample) − RSS",
        "just before the BGSAVE. For redis-server the sample adds its forked child: \"RSS\" adds the",
        "child's VmRSS, which counts every page it still shares with the parent (an overcount);",
        "\"COW\" adds the child's Private_Dirty from /proc/<child>/smaps_rollup, the pages actually",
        "copied on write — the honest figure, cross-checked by Redis's own `rdb_last_cow_size`.",
        "shardis saves from a thread, so both of its figures are its own RSS. Median of",
        f"{a.repeat} BGSAVEs; writes/s is the server's total_commands_processed rate during the save.",
        "Startup load is the time from spawning the server on the directory holding the dump.rdb its",
        "last BGSAVE wrote until a new connection's PING gets +PONG (not -LOADING), polled every",
        f"10 ms, median of {a.repeat}; DBSIZE is checked after every load. Startup with an empty",
        f"directory takes {empty['shardis']:.2f} s (shardis) and {empty['redis']:.2f} s (redis) by the same measure.", "",
        "| dataset | dataset RSS MiB shardis / redis | SAVE s shardis / redis | BGSAVE s shardis / redis | BGSAVE peak extra shardis, MiB (% of dataset) | redis peak extra COW, MiB (%) | redis peak extra RSS, MiB (%) | redis rdb_last_cow_size MiB | writes/s during BGSAVE shardis / redis |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (keys, o, t, cross) in snaps.items():
        pct = lambda x, r: f"{mib(x):,.0f} ({100 * x / r['dataset']:.1f} %)"
        lines.append(
            f"| {name} | {mib(o['dataset']):,.0f} / {mib(t['dataset']):,.0f} | {o['save']:.2f} / {t['save']:.2f} | "
            f"{o['bgsave'][0]:.2f} / {t['bgsave'][0]:.2f} | {pct(o['peak_rss'], o)} | {pct(t['peak_cow'], t)} | "
            f"{pct(t['peak_rss'], t)} | {mib(t['cow_info']) if t['cow_info'] is not None else 0:,.0f} | "
            f"{o['writes']:,.0f} / {t['writes']:,.0f} |")
    lines += ["", "| dataset | keys | dump.rdb MB shardis / redis | startup load s shardis (own file) | redis (own file) | ratio | shardis loading redis's file s |",
              "|---|---|---|---|---|---|---|"]
    for name, (keys, o, t, cross) in snaps.items():
        lines.append(f"| {name} | {keys:,} | {o['size'] / 1e6:,.1f} / {t['size'] / 1e6:,.1f} | {o['load']:.2f} | "
                     f"{t['load']:.2f} | {o['load'] / t['load']:.2f} | {cross:.2f} |")
    return lines


def machine():
    model = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--suite", choices=["strings", "collections", "messaging", "persistence", "all"], default="all")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "shardis-server", "--bins", "--examples"],
                   cwd=ROOT, check=True)
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    port_a, port_b = 16379, 16380
    suites = ["strings", "collections", "messaging", "persistence"] if a.suite == "all" else [a.suite]
    tests = [t for su in suites for t in SUITES.get(su, [])]
    sections = {}  # "## heading" (or "" for the top) -> lines; the others are kept from --out
    sections[""] = [
        "# Benchmarks", "",
        "The throughput tables run both servers side by side with `--save '' --appendonly no --bind",
        "127.0.0.1`, their runs alternating (shardis, redis, shardis, ...), with the same client:",
        "`redis-benchmark -c 50 -d 64 -r 1000000 --threads 1 -t <test> -P <p> -n <n> --csv`, where n",
        "is sized from a short calibration run so one run lasts about the run's `--seconds`; each cell",
        "is the median of `--repeat` runs by throughput. CPU is the server process's utime+stime per",
        "million requests (from /proc/<pid>/stat). The machine is shared and noisy: read the ratios,",
        "not the absolute numbers. The client and the server share the machine's cores.", "",
        "Memory rows load each shape into a fresh server of each kind through `redis-cli --pipe`; the",
        "figure is (RSS after − RSS before) / elements (keys for strings, fields or members for",
        "collections).", ""]
    if tests:
        ours, theirs = measure({"shardis": port_a, "redis": port_b}, a.seconds, a.repeat, tests)
    for suite in [su for su in ("strings", "collections") if su in suites]:
        lines = [
            f"## {suite.capitalize()}", "",
            f"Run on {datetime.date.today().isoformat()} by `python3 bench/run.py --seconds {a.seconds:g} --repeat {a.repeat} --suite {a.suite}`",
            f"on {machine()}; reference: {redis_version}.", "",
            "| test | P | shardis rps | redis rps | ratio | shardis p50/p99 ms | redis p50/p99 ms | shardis CPU s/M | redis CPU s/M |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for test in SUITES[suite]:
            for pl in PIPELINES:
                o, t = ours[(test, pl)], theirs[(test, pl)]
                lines.append(f"| {test.upper()} | {pl} | {o[0]:,.0f} | {t[0]:,.0f} | {o[0] / t[0]:.2f} | "
                             f"{o[1]:.3f} / {o[2]:.3f} | {t[1]:.3f} / {t[2]:.3f} | {o[3]:.2f} | {t[3]:.2f} |")
        lines += ["", "| shape | shardis bytes/element | redis bytes/element | ratio |", "|---|---|---|---|"]
        if suite == "strings":
            mo, mt = load_memory("shardis", port_a)[1], load_memory("redis", port_b)[1]
            lines.append(f"| 1M keys, 64-byte values | {mo:.1f} | {mt:.1f} | {mo / mt:.2f} |")
        else:
            for shape in SHAPES:
                mo, mt = shape_memory("shardis", port_a, shape), shape_memory("redis", port_b, shape)
                lines.append(f"| {shape} | {mo:.1f} | {mt:.1f} | {mo / mt:.2f} |")
        sections[f"## {suite.capitalize()}"] = lines + [""]
    if "messaging" in suites:
        mo = messaging("shardis", port_a, a.seconds, a.repeat)
        mt = messaging("redis", port_b, a.seconds, a.repeat)
        sections["## Transactions and Pub/Sub"] = [
            "## Transactions and Pub/Sub", "",
            "Measured with `target/release/examples/loadgen` (crates/shardis-server/examples), the same",
            "client for both servers: `loadgen multi <port> 50 <seconds>` runs 50 clients each looping on",
            "a pipelined `MULTI; INCR ×5; EXEC` over five keys of its own (in different shards with high",
            "probability); `loadgen fanout <port> 100 <n>` subscribes 100 connections to one channel,",
            "publishes n 64-byte messages from 4 connections pipelined 16 deep, and counts deliveries",
            f"until every subscriber has all of them. Median of {a.repeat} runs.", "",
            "| test | shardis | redis | ratio |", "|---|---|---|---|",
            f"| MULTI/EXEC 5×INCR, transactions/s | {mo[0]:,.0f} | {mt[0]:,.0f} | {mo[0] / mt[0]:.2f} |",
            f"| PUBLISH fan-out 1→100, messages delivered/s | {mo[1]:,.0f} | {mt[1]:,.0f} | {mo[1] / mt[1]:.2f} |", ""]
    if "persistence" in suites:
        sections["## Persistence"] = persistence_lines(a, redis_version, *persistence(port_a, port_b, a.seconds, a.repeat)) + [""]

    # Sections this run did not measure, and hand-written notes below the marker, survive.
    marker = "<!-- notes: kept by bench/run.py -->"
    old = open(a.out).read() if os.path.exists(a.out) else ""
    notes = old[old.index(marker):] if marker in old else marker + "\n"
    kept, head = {}, ""
    for line in (old[:old.index(marker)] if marker in old else old).split("\n"):
        if line.startswith("## "):
            head = line
        kept.setdefault(head, []).append(line)
    for h, ls in kept.items():
        while len(ls) > 1 and ls[-1] == "" and ls[-2] == "":
            ls.pop()
    order = ["", "## Strings", "## Collections", "## Transactions and Pub/Sub", "## Persistence"]
    # "## Memory" held both suites' memory rows before they moved into their suites' sections.
    order += [h for h in kept if h not in order and h != "## Memory"]
    out = []
    for h in order:
        ls = sections.get(h, kept.get(h))
        if ls:
            out += ls if ls[-1] == "" else ls + [""]
    open(a.out, "w").write("\n".join(out) + notes)
    print("\n".join(l for h in sections for l in sections[h]))


if __name__ == "__main__":
    main()
