#!/usr/bin/env python3
"""Side-by-side benchmark of shardis and redis-server; writes BENCHMARKS.md.

Usage: python3 bench/run.py [--seconds 10] [--repeat 3] [--out BENCHMARKS.md]

Builds shardis in release mode, then runs the two servers one after the other with the same
settings (no persistence, loopback only). For each it runs redis-benchmark
`-c 50 -d 64 -r 1000000 --threads 1` for SET, GET, INCR and MSET at pipeline 1 and 16, each
run sized to last about --seconds, repeated --repeat times (the median is reported). It also
loads 1,000,000 keys with 64-byte values into a fresh server and reports RSS growth per key,
and the server's CPU seconds per million requests (utime+stime from /proc).
"""
import argparse, csv, io, os, platform, socket, statistics, subprocess, sys, time, datetime

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


def start(kind, port):
    common = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    cmd = [SHARDIS, *common, "--loglevel", "warning"] if kind == "shardis" else ["redis-server", *common]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def measure(kind, port, seconds, repeat, tests):
    p = start(kind, port)
    results = {}
    try:
        for test in tests:
            for pl in PIPELINES:
                # Size each run from a short calibration so it lasts about `seconds`.
                rps, _, _ = run_bench(port, test, pl, 20000 * pl)
                n = max(int(rps * seconds), 50000)
                runs = []
                for _ in range(repeat):
                    c0 = cpu_seconds(p.pid)
                    rps, p50, p99 = run_bench(port, test, pl, n)
                    cpu = cpu_seconds(p.pid) - c0
                    runs.append((rps, p50, p99, cpu / n * 1e6))
                    print(f"{kind:8} {test:5} P={pl:<3} {rps:>12.0f} rps p50={p50} p99={p99}", flush=True)
                med = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
                results[(test, pl)] = med + (n,)
    finally:
        stop(p)
    return results


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


def pipe_load(port, commands):
    """Sends RESP commands through `redis-cli --pipe`, the fastest way to load a server."""
    buf = bytearray()
    for args in commands:
        buf += b"*%d\r\n" % len(args)
        for a in args:
            buf += b"$%d\r\n%s\r\n" % (len(a), a)
    r = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=bytes(buf), capture_output=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr.decode())


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
    ap.add_argument("--suite", choices=["strings", "collections", "messaging", "all"], default="all")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "shardis-server", "--bins", "--examples"],
                   cwd=ROOT, check=True)
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    port_a, port_b = 16379, 16380
    suites = ["strings", "collections", "messaging"] if a.suite == "all" else [a.suite]
    tests = [t for su in suites for t in SUITES.get(su, [])]
    ours = measure("shardis", port_a, a.seconds, a.repeat, tests)
    theirs = measure("redis", port_b, a.seconds, a.repeat, tests)

    lines = [
        "# Benchmarks", "",
        f"Run on {datetime.date.today().isoformat()} by `python3 bench/run.py --seconds {a.seconds:g} --repeat {a.repeat} --suite {a.suite}`",
        f"on {machine()}; reference: {redis_version}.", "",
        "Both servers run one after the other with `--save '' --appendonly no --bind 127.0.0.1` and",
        "the same client: `redis-benchmark -c 50 -d 64 -r 1000000 --threads 1 -t <test> -P <p> -n <n> --csv`,",
        f"where n is sized from a short calibration run so one run lasts about {a.seconds:g} s; each",
        f"cell is the median of {a.repeat} runs by throughput. CPU is the server process's utime+stime",
        "per million requests (from /proc/<pid>/stat). The machine is shared and noisy: read the ratios,",
        "not the absolute numbers. The client and the server share the machine's cores.", "",
        "| test | P | shardis rps | redis rps | ratio | shardis p50/p99 ms | redis p50/p99 ms | shardis CPU s/M | redis CPU s/M |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test in tests:
        for pl in PIPELINES:
            o, t = ours[(test, pl)], theirs[(test, pl)]
            lines.append(f"| {test.upper()} | {pl} | {o[0]:,.0f} | {t[0]:,.0f} | {o[0] / t[0]:.2f} | "
                         f"{o[1]:.3f} / {o[2]:.3f} | {t[1]:.3f} / {t[2]:.3f} | {o[3]:.2f} | {t[3]:.2f} |")
    lines += ["", "## Memory", "",
              "Each shape is loaded into a fresh server of each kind through `redis-cli --pipe`; the",
              "figure is (RSS after − RSS before) / elements (keys for strings, fields or members for",
              "collections).", "",
              "| shape | shardis bytes/element | redis bytes/element | ratio |", "|---|---|---|---|"]
    if "strings" in suites:
        mo, mt = load_memory("shardis", port_a)[1], load_memory("redis", port_b)[1]
        lines.append(f"| 1M keys, 64-byte values | {mo:.1f} | {mt:.1f} | {mo / mt:.2f} |")
    if "collections" in suites:
        for shape in SHAPES:
            mo, mt = shape_memory("shardis", port_a, shape), shape_memory("redis", port_b, shape)
            lines.append(f"| {shape} | {mo:.1f} | {mt:.1f} | {mo / mt:.2f} |")
    if "messaging" in suites:
        mo = messaging("shardis", port_a, a.seconds, a.repeat)
        mt = messaging("redis", port_b, a.seconds, a.repeat)
        lines += ["", "## Transactions and Pub/Sub", "",
                  "Measured with `target/release/examples/loadgen` (crates/shardis-server/examples), the same",
                  "client for both servers: `loadgen multi <port> 50 <seconds>` runs 50 clients each looping on",
                  "a pipelined `MULTI; INCR ×5; EXEC` over five keys of its own (in different shards with high",
                  "probability); `loadgen fanout <port> 100 <n>` subscribes 100 connections to one channel,",
                  "publishes n 64-byte messages from 4 connections pipelined 16 deep, and counts deliveries",
                  f"until every subscriber has all of them. Median of {a.repeat} runs.", "",
                  "| test | shardis | redis | ratio |", "|---|---|---|---|",
                  f"| MULTI/EXEC 5×INCR, transactions/s | {mo[0]:,.0f} | {mt[0]:,.0f} | {mo[0] / mt[0]:.2f} |",
                  f"| PUBLISH fan-out 1→100, messages delivered/s | {mo[1]:,.0f} | {mt[1]:,.0f} | {mo[1] / mt[1]:.2f} |"]
    lines.append("")
    # Hand-written notes below the marker survive a new run.
    marker = "<!-- notes: kept by bench/run.py -->"
    old = open(a.out).read() if os.path.exists(a.out) else ""
    notes = old[old.index(marker):] if marker in old else marker + "\n"
    open(a.out, "w").write("\n".join(lines) + "\n" + notes)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
