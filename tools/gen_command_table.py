#!/usr/bin/env python3
"""Generates crates/shardis-commands/src/table.rs from a running redis-server 7.

The command table's metadata (arity, flags, key positions, ACL categories, group, since,
summary, complexity) must match Redis exactly, so it is read from Redis itself rather than
typed by hand. Run: redis-server --port 7000 & python3 tools/gen_command_table.py 7000
Handlers are named by convention: family module (from the group) :: command name.
"""
import socket, sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7000

def send(sock, args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)

def cmd3(sock, f, *args):
    send(sock, args)
    return read3(f)

def cmd(sock, f, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read(f)

def read3(f):
    """Reads a RESP3 reply as (type, value), keeping the types COMMAND INFO/DOCS use."""
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+": return ("simple", rest.decode())
    if t == b"-": raise Exception(rest.decode())
    if t == b":": return ("int", int(rest))
    if t == b"$":
        n = int(rest)
        return ("bulk", f.read(n + 2)[:-2].decode())
    if t == b"*": return ("array", [read3(f) for _ in range(int(rest))])
    if t == b"~": return ("set", [read3(f) for _ in range(int(rest))])
    if t == b"%":
        n = int(rest)
        return ("map", [(read3(f)[1], read3(f)) for _ in range(n)])
    if t == b"_": return ("null", None)
    raise Exception("unexpected reply %r" % line)

def node(v):
    """Emits a typed reply tree as a Rust `Node` constant."""
    t, x = v
    if t == "simple": return "Node::Simple(%s)" % rs(x)
    if t == "bulk": return "Node::Bulk(%s)" % rs(x)
    if t == "int": return "Node::Int(%d)" % x
    if t == "array": return "Node::Array(&[%s])" % ", ".join(node(i) for i in x)
    if t == "set": return "Node::Set(&[%s])" % ", ".join(node(i) for i in x)
    if t == "map": return "Node::Map(&[%s])" % ", ".join("(%s, %s)" % (rs(k), node(v)) for k, v in x)
    raise Exception("no node for %r" % t)

def read(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in (b"+",): return rest.decode()
    if t == b"-": raise Exception(rest.decode())
    if t == b":": return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0: return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t in (b"*", b"~", b">"):
        n = int(rest)
        if n < 0: return None
        return [read(f) for _ in range(n)]
    if t == b"%":
        n = int(rest)
        return {read(f): read(f) for _ in range(n)}
    if t == b"_": return None
    raise Exception("bad reply %r" % line)

COMMANDS = """
ping echo hello auth select quit reset
client|id client|setname client|getname client|list client|info client|kill client|no-evict
client|reply client|pause client|unpause client|help client|unblock
client|tracking client|caching client|getredir client|trackinginfo
command|count command|info command|docs command|list command|getkeys command|help
info config|get config|set config|resetstat config|help dbsize flushdb flushall swapdb time
lastsave role shutdown debug save bgsave dump restore bgrewriteaof
get set setnx setex psetex mget mset msetnx getset getdel getex append strlen incr decr incrby
decrby incrbyfloat getrange setrange substr lcs
setbit getbit bitcount bitpos bitop bitfield bitfield_ro
del unlink exists type rename renamenx keys scan randomkey expire pexpire expireat pexpireat ttl
pttl expiretime pexpiretime persist touch copy move object|encoding object|refcount
object|idletime object|freq object|help
hset hsetnx hget hmset hmget hdel hlen hstrlen hexists hgetall hkeys hvals hincrby hincrbyfloat
hrandfield hscan
lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove
rpoplpush lmpop blpop brpop blmove brpoplpush blmpop
sadd srem smembers sismember smismember scard spop srandmember smove sinter sintercard
sinterstore sunion sunionstore sdiff sdiffstore sscan
zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore
zrevrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zremrangebyrank
zremrangebyscore zremrangebylex zpopmin zpopmax zmpop bzpopmin bzpopmax bzmpop zrandmember
zunion zinter zdiff zunionstore zinterstore zdiffstore zintercard zscan
sort sort_ro
multi exec discard watch unwatch
subscribe unsubscribe psubscribe punsubscribe publish ssubscribe sunsubscribe spublish
pubsub|channels pubsub|numsub pubsub|numpat pubsub|shardchannels pubsub|shardnumsub pubsub|help
""".split()

# Added after Redis 7.0 (so absent from the reference server) but used by current clients.
EXTRA = {
    "client|setinfo": dict(arity=4, flags=["noscript", "loading", "stale"], keys=(0, 0, 0),
        acl=["@slow", "@connection"], group="connection", since="7.2.0",
        summary="Sets information specific to the client or connection.", complexity="O(1)"),
    "client|no-touch": dict(arity=3, flags=["noscript", "loading", "stale"], keys=(0, 0, 0),
        acl=["@slow", "@connection"], group="connection", since="7.2.0",
        summary="Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        complexity="O(1)"),
}

RENAME = {"type": "type_", "move": "move_", "copy": "copy_"}
# Later Redis versions widened these; the issues ask for the newer forms (ZRANK … WITHSCORE).
ARITY = {"zrank": -3, "zrevrank": -3}
FAMILY = {"string": "string", "generic": "keys", "connection": "connection", "server": "server",
          "hash": "hash", "list": "list", "set": "set", "sorted-set": "zset",
          "bitmap": "bitmap", "transactions": "multi",
          "pubsub": "pubsub"}
# Commands whose file is not their Redis group's.
FAMILY_OF = {"sort": "sort", "sort_ro": "sort", "save": "persist", "bgsave": "persist",
             "lastsave": "persist", "dump": "persist", "restore": "persist",
             "bgrewriteaof": "aof_files"}

def fam_of(name, sp):
    return FAMILY_OF.get(name, FAMILY[sp["group"]])

def rs(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

def main():
    s = socket.create_connection(("127.0.0.1", PORT))
    f = s.makefile("rb")
    specs = {}
    for name in COMMANDS:
        info = cmd(s, f, "COMMAND", "INFO", name)[0]
        docs = cmd(s, f, "COMMAND", "DOCS", name)
        if info is None:
            raise SystemExit("redis does not know " + name)
        d = docs[name] if isinstance(docs, dict) else dict(zip(docs[::2], docs[1::2]))[name]
        d = d if isinstance(d, dict) else dict(zip(d[::2], d[1::2]))
        specs[name] = dict(arity=info[1], flags=info[2], keys=(info[3], info[4], info[5]), acl=info[6],
                           group=d.get("group", ""), since=d.get("since", ""), summary=d.get("summary", ""),
                           complexity=d.get("complexity", ""))
    s3 = socket.create_connection(("127.0.0.1", PORT))
    f3 = s3.makefile("rb")
    cmd(s3, f3, "HELLO", "3")
    def typed(name):
        info = cmd3(s3, f3, "COMMAND", "INFO", name)[1][0][1]
        docs = dict(cmd3(s3, f3, "COMMAND", "DOCS", name)[1])[name]
        # Subcommands are listed from our own table, which implements only some of them.
        docs = ("map", [(k, v) for k, v in docs[1] if k != "subcommands"])
        return dict(tips=node(info[7]), key_specs=node(info[8]), docs=node(docs))
    for name in specs:
        specs[name].update(typed(name))
    for name, e in EXTRA.items():
        e.update(tips="Node::Set(&[])", key_specs="Node::Set(&[])", docs="Node::Map(&[(\"summary\", Node::Bulk(%s)), (\"since\", Node::Bulk(%s)), (\"group\", Node::Bulk(%s)), (\"complexity\", Node::Bulk(%s))])" % (rs(e["summary"]), rs(e["since"]), rs(e["group"]), rs(e["complexity"])))
    specs.update(EXTRA)
    for name, arity in ARITY.items():
        if name in specs:
            specs[name]["arity"] = arity
    # A command enters the table only once its handler is written: `pub fn <name>(` in its
    # family's file. Work in progress never shows up as a command that fails.
    import os, re
    src = os.environ.get("SHARDIS_SRC") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "crates", "shardis-commands", "src")
    def implemented(name, sp):
        fam = fam_of(name, sp)
        fn = RENAME.get(name, name.replace("|", "_").replace("-", "_"))
        path = os.path.join(src, fam + ".rs")
        return os.path.exists(path) and re.search(r"pub fn %s\(" % re.escape(fn), open(path).read())
    specs = {n: sp for n, sp in specs.items() if implemented(n, sp)}
    parents = {}
    for name in specs:
        if "|" in name:
            parents.setdefault(name.split("|")[0], []).append(name)
    out = ["//! The command table, generated by tools/gen_command_table.py from redis-server 7.0's own",
           "//! COMMAND INFO and COMMAND DOCS; edit the script, not this file.",
           "", "use crate::spec::{CommandSpec, Node};",
           "use crate::{%s};" % ", ".join(sorted({fam_of(n, sp) for n, sp in specs.items()})), ""]
    def entry(name, sp, subs=None, indent="    "):
        fam = fam_of(name, sp)
        fn = RENAME.get(name, name.replace("|", "_").replace("-", "_"))
        # Containers dispatch to subcommands; COMMAND alone is also a command of its own.
        handler = "None" if subs is not None and name != "command" else "Some(%s::%s)" % (fam, fn)
        return (f"{indent}CommandSpec {{ name: {rs(name)}, arity: {sp['arity']}, "
                f"flags: &[{', '.join(rs(x) for x in sp['flags'])}], first_key: {sp['keys'][0]}, "
                f"last_key: {sp['keys'][1]}, step: {sp['keys'][2]}, acl: &[{', '.join(rs(x) for x in sp['acl'])}], "
                f"group: {rs(sp['group'])}, since: {rs(sp['since'])}, summary: {rs(sp['summary'])}, "
                f"complexity: {rs(sp['complexity'])}, tips: {sp['tips']}, key_specs: {sp['key_specs']}, "
                f"docs: {sp['docs']}, handler: {handler}, "
                f"subcommands: {subs if subs else '&[]'} }},")
    for parent, subs in sorted(parents.items()):
        info = cmd(s, f, "COMMAND", "INFO", parent)[0]
        docs = cmd(s, f, "COMMAND", "DOCS", parent)
        d = docs[parent] if isinstance(docs, dict) else dict(zip(docs[::2], docs[1::2]))[parent]
        d = d if isinstance(d, dict) else dict(zip(d[::2], d[1::2]))
        out.append(f"static {parent.upper()}_SUBCOMMANDS: &[CommandSpec] = &[")
        for sub in sorted(subs):
            out.append(entry(sub, specs[sub]))
        out.append("];")
        out.append("")
        specs[parent] = dict(arity=info[1], flags=info[2], keys=(info[3], info[4], info[5]), acl=info[6],
                             group=d.get("group", ""), since=d.get("since", ""), summary=d.get("summary", ""),
                             complexity=d.get("complexity", ""), container=f"{parent.upper()}_SUBCOMMANDS")
        specs[parent].update(typed(parent))
    out.append("/// Every top-level command, sorted by name.")
    out.append("pub static COMMANDS: &[CommandSpec] = &[")
    for name in sorted(specs):
        if "|" in name:
            continue
        sp = specs[name]
        out.append(entry(name, sp, sp.get("container")))
    out.append("];")
    path = os.environ.get("SHARDIS_TABLE_OUT") or "crates/shardis-commands/src/table.rs"
    open(path, "w").write("\n".join(out) + "\n")
    import subprocess
    subprocess.run(["rustfmt", "--edition", "2021", path], check=True)

main()
