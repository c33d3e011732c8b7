"""redis-py against a server: PubSub, transactional pipelines with WATCH, keyspace
notifications and the RESP3 client-side cache. Usage: redis_py_check.py <port>.
Exits non-zero (with a traceback) on the first thing that does not behave as with Redis."""
import sys, threading, time
import redis
from redis.cache import CacheConfig

port = int(sys.argv[1])
r = redis.Redis(port=port, decode_responses=True)
r.flushall()

# PubSub: channel and pattern subscriptions, messages in order, unsubscribe.
p = r.pubsub()
p.subscribe("news")
p.psubscribe("n*")
assert p.get_message(timeout=2)["type"] == "subscribe"
assert p.get_message(timeout=2)["type"] == "psubscribe"
for i in range(100):
    assert r.publish("news", f"m{i}") == 2
got = []
while len(got) < 200:
    m = p.get_message(timeout=2)
    assert m is not None, f"only {len(got)} messages arrived"
    got.append((m["type"], m["data"]))
assert [d for t, d in got if t == "message"] == [f"m{i}" for i in range(100)]
assert [d for t, d in got if t == "pmessage"] == [f"m{i}" for i in range(100)]
assert r.pubsub_numsub("news") == [("news", 1)]
p.unsubscribe("news")
p.punsubscribe("n*")
p.close()

# A PubSub worker thread with a handler.
seen = []
p = r.pubsub()
p.subscribe(**{"jobs": lambda m: seen.append(m["data"])})
t = p.run_in_thread(sleep_time=0.01)
time.sleep(0.1)
for i in range(10):
    r.publish("jobs", str(i))
deadline = time.time() + 5
while len(seen) < 10 and time.time() < deadline:
    time.sleep(0.01)
t.stop()
assert seen == [str(i) for i in range(10)], seen

# Transactions: pipeline(transaction=True), and WATCH-based check-and-set with retries.
with r.pipeline(transaction=True) as pipe:
    res = pipe.set("a", 1).incr("a").lpush("l", "x").get("a").execute()
assert res == [True, 2, 1, "2"], res
with r.pipeline(transaction=True) as pipe:
    pipe.set("s", "str").lpush("s", "x").get("s")
    try:
        pipe.execute()
        raise AssertionError("a WRONGTYPE inside EXEC must raise")
    except redis.ResponseError:
        pass
assert r.get("s") == "str"

def cas_increment(n):
    for _ in range(n):
        with r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch("counter")
                    v = int(pipe.get("counter") or 0)
                    pipe.multi()
                    pipe.set("counter", v + 1)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue

threads = [threading.Thread(target=cas_increment, args=(200,)) for _ in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
assert r.get("counter") == "800", r.get("counter")

# A WATCHed key changed by someone else fails the transaction.
with r.pipeline() as pipe:
    pipe.watch("w")
    redis.Redis(port=port).set("w", "other")
    pipe.multi()
    pipe.set("w", "mine")
    try:
        pipe.execute()
        raise AssertionError("WATCH must fail the transaction")
    except redis.WatchError:
        pass

# Keyspace notifications through a PubSub object.
r.config_set("notify-keyspace-events", "KEA")
p = r.pubsub()
p.psubscribe("__keyevent@0__:*")
assert p.get_message(timeout=2)["type"] == "psubscribe"
r.set("k1", "v")
r.delete("k1")
events = []
while len(events) < 2:
    m = p.get_message(timeout=2)
    assert m is not None, events
    events.append((m["channel"], m["data"]))
assert events == [("__keyevent@0__:set", "k1"), ("__keyevent@0__:del", "k1")], events
p.close()
r.config_set("notify-keyspace-events", "")

# RESP3 client-side cache: a cached read is served locally until another client's write
# invalidates it. redis-py 5.2 enables its cache only for servers reporting 7.4 or later (a
# version gate; CLIENT TRACKING and RESP3 invalidations are Redis 6 features), and both
# redis-server 7.0 and shardis report 7.0.15, so the gate is lowered here.
redis.connection.CacheProxyConnection.MIN_ALLOWED_VERSION = "7.0.0"
c = redis.Redis(port=port, protocol=3, cache_config=CacheConfig(), decode_responses=True)
c.set("cached", "1")
assert c.get("cached") == "1"
before = int(r.info("commandstats")["cmdstat_get"]["calls"])
for _ in range(10):
    assert c.get("cached") == "1"
after = int(r.info("commandstats")["cmdstat_get"]["calls"])
assert after == before, f"cache hits reached the server: {after - before} GETs"
r.set("cached", "2")
deadline = time.time() + 5
while c.get("cached") != "2":
    assert time.time() < deadline, "the cache was never invalidated"
    time.sleep(0.01)
print("redis-py OK")
