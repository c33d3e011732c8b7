//! Connection and server commands: PING ECHO HELLO AUTH SELECT QUIT RESET, CLIENT (ID SETNAME
//! GETNAME SETINFO LIST INFO KILL NO-EVICT NO-TOUCH REPLY PAUSE UNPAUSE HELP), COMMAND (COUNT
//! INFO DOCS LIST GETKEYS HELP), INFO, CONFIG GET/SET/RESETSTAT, DBSIZE FLUSHDB FLUSHALL SWAPDB
//! TIME LASTSAVE ROLE SHUTDOWN DEBUG, and the RESP3 reply shapes after HELLO 3.
//!
//! The expected replies were recorded from a real redis-server 7.0. Setting
//! SHARDIS_TEST_AGAINST_REDIS=1 runs these same tests against redis-server instead of shardis,
//! which checks the expectations themselves (CLIENT SETINFO and NO-TOUCH are Redis 7.2
//! additions, checked only against shardis).

mod common;
use common::*;
use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The text of a bulk or verbatim string reply.
fn text(reply: &str) -> String {
    match parse(reply) {
        Reply::Str(s) => s,
        other => panic!("expected a string reply, got {other:?}"),
    }
}

fn int(reply: &str) -> i64 {
    match parse(reply) {
        Reply::Int(n) => n,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

/// A flat key/value array (CONFIG GET), as sorted pairs.
type Pairs = Vec<(String, String)>;

fn pairs(reply: &str) -> Pairs {
    let items = bulks(&parse(reply));
    let chunks = items.chunks_exact(2);
    assert!(
        chunks.remainder().is_empty(),
        "odd number of elements: {reply:?}"
    );
    let mut p: Pairs = chunks.map(|c| (c[0].clone(), c[1].clone())).collect();
    p.sort();
    p
}

fn owned(v: &[(&str, &str)]) -> Pairs {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The `# Section` headers of an INFO text, in order.
fn info_sections(info: &str) -> Vec<String> {
    info.split("\r\n")
        .filter_map(|l| l.strip_prefix("# ").map(|s| s.to_string()))
        .collect()
}

/// The `field:value` lines of an INFO text.
fn info_fields(info: &str) -> HashMap<String, String> {
    info.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One CLIENT LIST / CLIENT INFO line as ordered (field, value) pairs.
fn client_fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("bad field {kv:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// True when the field names are Redis 7.0's, optionally followed by the lib-name and lib-ver
/// that Redis 7.2 added with CLIENT SETINFO (which this server implements).
/// Redis 7.0's fields, possibly with the later additions shardis shows: `watch` after
/// `multi` (7.4, asked for by the transactions issue) and `lib-name`/`lib-ver` (7.2).
fn redis_client_fields(fields: &[(String, String)]) -> bool {
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    if let Some(i) = names.iter().position(|n| *n == "watch") {
        if i > 0 && names[i - 1] == "multi" {
            names.remove(i);
        }
    }
    names == CLIENT_FIELDS || names == [CLIENT_FIELDS, &["lib-name", "lib-ver"]].concat()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} field in {fields:?}"))
}

/// The fields of a CLIENT LIST / CLIENT INFO line, in Redis 7.0's order.
const CLIENT_FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
];

/// The address this connection is bound to locally, as the server sees it.
fn local_addr(c: &Raw) -> String {
    c.r.get_ref().local_addr().unwrap().to_string()
}

/// True when no reply arrives on `c` within `wait`.
fn silent_for(c: &mut Raw, wait: Duration) -> bool {
    let stream = c.r.get_ref();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1];
    let silent = c.r.buffer().is_empty()
        && matches!(
            stream.peek(&mut buf),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut
        );
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    silent
}

/// Checks a HELP reply: Redis's title line, the given entries (each a run of consecutive
/// lines, as Redis prints them), and the closing HELP entry.
#[track_caller]
fn check_help(s: &mut Check, cmd: &str, entries: &[&[&str]]) {
    let reply = s.cmd(&[cmd, "HELP"]);
    let lines: Vec<String> = match parse(&reply) {
        Reply::Arr(items) => items
            .into_iter()
            .map(|i| match i {
                Reply::Str(l) => l,
                other => panic!("{cmd} HELP line {other:?}"),
            })
            .collect(),
        other => panic!("{cmd} HELP replied {other:?}"),
    };
    let title = format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    s.expect(lines.first() == Some(&title), || {
        format!(
            "{cmd} HELP first line {:?}, redis: {title:?}",
            lines.first()
        )
    });
    let n = lines.len();
    s.expect(
        n >= 2 && lines[n - 2] == "HELP" && lines[n - 1] == "    Prints this help.",
        || {
            format!(
                "{cmd} HELP ends with {:?}, redis: [\"HELP\", \"    Prints this help.\"]",
                &lines[n.saturating_sub(2)..]
            )
        },
    );
    for entry in entries {
        let found = lines.windows(entry.len()).any(|w| w == *entry);
        s.expect(found, || {
            format!("{cmd} HELP lacks Redis's entry {entry:?}; it has {lines:?}")
        });
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn ping_and_echo() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["PING"], "+PONG\r\n");
    s.is(&["PING", "hello"], "$5\r\nhello\r\n");
    s.is(&["PING", ""], "$0\r\n\r\n");
    s.is(&["ping", "x"], "$1\r\nx\r\n");
    s.is(
        &["PING", "a", "b"],
        "-ERR wrong number of arguments for 'ping' command\r\n",
    );
    s.is(&["ECHO", "hi"], "$2\r\nhi\r\n");
    s.is(&["ECHO", ""], "$0\r\n\r\n");
    s.is(&["ECHO", "with space"], "$10\r\nwith space\r\n");
    s.is(
        &["ECHO"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    );
    s.is(
        &["ECHO", "a", "b"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    );
}

#[test]
fn hello_switches_protocol_and_reports_the_server() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["HELLO", "1"], "-NOPROTO unsupported protocol version\r\n");
    s.is(&["HELLO", "4"], "-NOPROTO unsupported protocol version\r\n");
    s.is(&["HELLO", "0"], "-NOPROTO unsupported protocol version\r\n");
    s.is(
        &["HELLO", "-1"],
        "-NOPROTO unsupported protocol version\r\n",
    );
    s.is(
        &["HELLO", "abc"],
        "-ERR Protocol version is not an integer or out of range\r\n",
    );
    s.is(
        &["HELLO", "2", "bogus"],
        "-ERR Syntax error in HELLO option 'bogus'\r\n",
    );
    s.is(
        &["HELLO", "2", "AUTH", "default"],
        "-ERR Syntax error in HELLO option 'AUTH'\r\n",
    );
    s.is(
        &["HELLO", "2", "AUTH"],
        "-ERR Syntax error in HELLO option 'AUTH'\r\n",
    );
    s.is(
        &["HELLO", "2", "SETNAME"],
        "-ERR Syntax error in HELLO option 'SETNAME'\r\n",
    );
    s.is(
        &["HELLO", "2", "SETNAME", "bad name"],
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    s.is(
        &["HELLO", "2", "AUTH", "nouser", "pass"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(
        &["HELLO", "3", "AUTH", "nouser", "pass"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(&["CLIENT", "GETNAME"], "$-1\r\n");
    let id = int(&s.cmd(&["CLIENT", "ID"]));
    let hello = |proto: u8| {
        let (head, n) = if proto == 3 { ("%7", 3) } else { ("*14", 2) };
        format!(
            "{head}\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
             $5\r\nproto\r\n:{n}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
             $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        )
    };
    s.is(&["HELLO"], &hello(2));
    s.is(&["HELLO", "2"], &hello(2));
    s.is(&["GET", "nokey"], "$-1\r\n");
    s.is(&["HELLO", "3"], &hello(3));
    s.is(&["GET", "nokey"], "_\r\n");
    // Without a version HELLO keeps the current protocol.
    s.is(&["HELLO"], &hello(3));
    s.is(&["HELLO", "2", "SETNAME", "myname"], &hello(2));
    s.is(&["CLIENT", "GETNAME"], "$6\r\nmyname\r\n");
    // Without requirepass any password authenticates the default user.
    s.is(
        &["HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "n2"],
        &hello(3),
    );
    s.is(&["CLIENT", "GETNAME"], "$2\r\nn2\r\n");
    s.is(
        &["HELLO", "2", "setname", "n3", "auth", "default", "x"],
        &hello(2),
    );
    s.is(&["CLIENT", "GETNAME"], "$2\r\nn3\r\n");
    // A failed HELLO changes nothing.
    s.is(
        &["HELLO", "3", "bogus"],
        "-ERR Syntax error in HELLO option 'bogus'\r\n",
    );
    s.is(&["GET", "nokey"], "$-1\r\n");
}

#[test]
fn auth_without_a_password_configured() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &["AUTH", "pass"],
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n",
    );
    s.is(&["AUTH", "default", "anything"], "+OK\r\n");
    s.is(
        &["AUTH", "nouser", "pass"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(&["AUTH", "a", "b", "c"], "-ERR syntax error\r\n");
    s.is(
        &["AUTH"],
        "-ERR wrong number of arguments for 'auth' command\r\n",
    );
}

#[test]
fn auth_hello_auth_and_reset_with_requirepass() {
    let srv = start(&["--requirepass", "secret"]);
    let mut s = Check::new(&srv);
    s.is(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    s.is(&["PING"], "-NOAUTH Authentication required.\r\n");
    s.is(&["CLIENT", "ID"], "-NOAUTH Authentication required.\r\n");
    s.is(&["SELECT", "1"], "-NOAUTH Authentication required.\r\n");
    s.is(
        &["HELLO"],
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the \
         HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
         the RESP protocol version at the same time\r\n",
    );
    s.is(
        &["HELLO", "2"],
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the \
         HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
         the RESP protocol version at the same time\r\n",
    );
    s.is(
        &["HELLO", "3", "SETNAME", "x"],
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the \
         HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
         the RESP protocol version at the same time\r\n",
    );
    s.is(
        &["HELLO", "3", "AUTH", "default", "wrong"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(
        &["AUTH", "wrong"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(
        &["AUTH", "default", "wrong"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(
        &["AUTH", "nouser", "secret"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(&["AUTH", "a", "b", "c"], "-ERR syntax error\r\n");
    s.is(
        &["AUTH"],
        "-ERR wrong number of arguments for 'auth' command\r\n",
    );
    s.is(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    s.is(&["AUTH", "secret"], "+OK\r\n");
    s.is(&["GET", "k"], "$-1\r\n");
    s.is(&["AUTH", "default", "secret"], "+OK\r\n");
    s.is(
        &["AUTH", "wrong"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    s.is(&["GET", "k"], "$-1\r\n");
    s.is(&["RESET"], "+RESET\r\n");
    s.is(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    s.is(&["AUTH", "default", "secret"], "+OK\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    // HELLO can authenticate, name the connection and switch protocol at once.
    let mut t = Check::new(&srv);
    let reply = t.cmd(&["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n1"]);
    t.expect(reply.starts_with("%7\r\n$6\r\nserver\r\n"), || {
        format!("HELLO 3 AUTH replied {reply:?}")
    });
    t.is(&["CLIENT", "GETNAME"], "$2\r\nn1\r\n");
    t.is(&["GET", "k"], "$1\r\nv\r\n");
    let mut u = Check::new(&srv);
    u.is(
        &["HELLO", "2", "AUTH", "default", "wrong"],
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    u.is(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
}

#[test]
fn select_switches_between_isolated_databases() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "db0"], "+OK\r\n");
    s.is(&["SELECT", "15"], "+OK\r\n");
    s.is(&["GET", "k"], "$-1\r\n");
    s.is(&["SET", "k", "db15"], "+OK\r\n");
    s.is(&["SELECT", "16"], "-ERR DB index is out of range\r\n");
    s.is(&["SELECT", "-1"], "-ERR DB index is out of range\r\n");
    s.is(
        &["SELECT", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SELECT", "1.5"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SELECT"],
        "-ERR wrong number of arguments for 'select' command\r\n",
    );
    s.is(
        &["SELECT", "0", "1"],
        "-ERR wrong number of arguments for 'select' command\r\n",
    );
    s.is(&["GET", "k"], "$4\r\ndb15\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(&["GET", "k"], "$3\r\ndb0\r\n");
    // The selection belongs to the connection.
    let mut other = Check::new(&srv);
    other.is(&["GET", "k"], "$3\r\ndb0\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let srv = start(&[]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["QUIT"]), "+OK\r\n");
    assert!(c.closed(), "QUIT must close the connection");
    // Commands pipelined after QUIT are not executed.
    let mut c = srv.raw();
    let mut batch = encode(&[b"SET", b"a", b"1"]);
    batch.extend(encode(&[b"QUIT"]));
    batch.extend(encode(&[b"SET", b"b", b"2"]));
    c.send(&batch);
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert!(c.closed());
    let mut d = srv.raw();
    assert_eq!(d.cmd(&["MGET", "a", "b"]), "*2\r\n$1\r\n1\r\n$-1\r\n");
}

#[test]
fn reset_restores_the_connection_defaults() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "db0"], "+OK\r\n");
    s.is(&["SELECT", "3"], "+OK\r\n");
    s.is(&["CLIENT", "SETNAME", "x"], "+OK\r\n");
    let hello = s.cmd(&["HELLO", "3"]);
    assert!(hello.starts_with("%7\r\n"), "{hello}");
    // RESET is answered even with replies switched off, and switches them back on.
    s.send_cmd(&[b"CLIENT", b"REPLY", b"OFF"]);
    s.send_cmd(&[b"RESET"]);
    if silent_for(&mut s, Duration::from_secs(1)) {
        s.expect(false, || {
            "RESET after CLIENT REPLY OFF: no reply; redis: \"+RESET\\r\\n\"".into()
        });
        s.send_cmd(&[b"PING"]);
        assert!(
            !silent_for(&mut s, Duration::from_secs(1)),
            "{:?}\nand replies stay off after RESET",
            s.diffs
        );
        assert_eq!(s.read_reply(), "+PONG\r\n");
    } else {
        let r = s.read_reply();
        s.expect(r == "+RESET\r\n", || {
            format!("RESET after CLIENT REPLY OFF: {r:?}")
        });
    }
    s.is(&["CLIENT", "GETNAME"], "$-1\r\n");
    s.is(&["GET", "k"], "$3\r\ndb0\r\n");
    s.is(&["GET", "nokey"], "$-1\r\n");
    let info = text(&s.cmd(&["CLIENT", "INFO"]));
    let f = client_fields(info.trim_end());
    for (k, v) in [("name", ""), ("db", "0"), ("flags", "N"), ("resp", "2")] {
        s.expect(field(&f, k) == v, || {
            format!("after RESET {k}={}, redis: {v}", field(&f, k))
        });
    }
    s.is(
        &["RESET", "x"],
        "-ERR wrong number of arguments for 'reset' command\r\n",
    );
}

#[test]
fn client_id_setname_getname() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    let a = int(&s.cmd(&["CLIENT", "ID"]));
    assert_eq!(int(&s.cmd(&["CLIENT", "ID"])), a, "CLIENT ID is stable");
    let mut later = srv.raw();
    let b = int(&later.cmd(&["CLIENT", "ID"]));
    assert!(b > a, "ids grow with each connection: {a} then {b}");
    s.is(&["CLIENT", "SETNAME", "foo"], "+OK\r\n");
    s.is(&["CLIENT", "GETNAME"], "$3\r\nfoo\r\n");
    s.is(&["CLIENT", "setname", "bar"], "+OK\r\n");
    s.is(&["CLIENT", "GETNAME"], "$3\r\nbar\r\n");
    s.is(&["CLIENT", "SETNAME", ""], "+OK\r\n");
    s.is(&["CLIENT", "GETNAME"], "$-1\r\n");
    s.is(
        &["CLIENT", "SETNAME", "a b"],
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    s.is(
        &["CLIENT", "SETNAME"],
        "-ERR wrong number of arguments for 'client|setname' command\r\n",
    );
    s.is(
        &["CLIENT", "SETNAME", "a", "b"],
        "-ERR wrong number of arguments for 'client|setname' command\r\n",
    );
    s.is(
        &["CLIENT", "GETNAME", "x"],
        "-ERR wrong number of arguments for 'client|getname' command\r\n",
    );
    s.is(
        &["CLIENT", "ID", "x"],
        "-ERR wrong number of arguments for 'client|id' command\r\n",
    );
    s.is(&["CLIENT", "NO-EVICT", "on"], "+OK\r\n");
    s.is(&["CLIENT", "NO-EVICT", "OFF"], "+OK\r\n");
    s.is(&["CLIENT", "NO-EVICT", "maybe"], "-ERR syntax error\r\n");
    s.is(
        &["CLIENT", "NO-EVICT"],
        "-ERR wrong number of arguments for 'client|no-evict' command\r\n",
    );
    s.is(&["CLIENT", "REPLY", "maybe"], "-ERR syntax error\r\n");
    s.is(
        &["CLIENT", "REPLY"],
        "-ERR wrong number of arguments for 'client|reply' command\r\n",
    );
    s.is(
        &["CLIENT", "PAUSE", "abc"],
        "-ERR timeout is not an integer or out of range\r\n",
    );
    s.is(&["CLIENT", "PAUSE", "-1"], "-ERR timeout is negative\r\n");
    s.is(
        &["CLIENT", "PAUSE", "10", "bogus"],
        "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
    );
    s.is(
        &["CLIENT", "PAUSE", "10", "WRITE", "extra"],
        "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT \
         HELP.\r\n",
    );
    s.is(
        &["CLIENT", "PAUSE"],
        "-ERR wrong number of arguments for 'client|pause' command\r\n",
    );
    s.is(
        &["CLIENT", "UNPAUSE", "x"],
        "-ERR wrong number of arguments for 'client|unpause' command\r\n",
    );
    s.is(&["CLIENT", "KILL", "1.2.3.4:5"], "-ERR No such client\r\n");
    s.is(&["CLIENT", "KILL", "ID", "999999"], ":0\r\n");
    s.is(
        &["CLIENT", "KILL", "ID", "0"],
        "-ERR client-id should be greater than 0\r\n",
    );
    s.is(
        &["CLIENT", "KILL", "ID", "abc"],
        "-ERR client-id should be greater than 0\r\n",
    );
    s.is(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"], ":0\r\n");
    s.is(&["CLIENT", "KILL", "LADDR", "1.2.3.4:5"], ":0\r\n");
    s.is(
        &["CLIENT", "KILL", "USER", "nouser"],
        "-ERR No such user 'nouser'\r\n",
    );
    s.is(
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["CLIENT", "KILL", "TYPE", "bogus"],
        "-ERR Unknown client type 'bogus'\r\n",
    );
    s.is(&["CLIENT", "KILL", "TYPE", "master"], ":0\r\n");
    s.is(&["CLIENT", "KILL", "TYPE", "pubsub"], ":0\r\n");
    s.is(&["CLIENT", "KILL", "ID"], "-ERR No such client\r\n");
    s.is(&["CLIENT", "KILL", "bogus", "x"], "-ERR syntax error\r\n");
    s.is(
        &["CLIENT", "KILL", "ID", "1", "ADDR"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["CLIENT", "KILL"],
        "-ERR wrong number of arguments for 'client|kill' command\r\n",
    );
    s.is(
        &["CLIENT", "LIST", "TYPE", "bogus"],
        "-ERR Unknown client type 'bogus'\r\n",
    );
    s.is(
        &["CLIENT", "LIST", "ID", "abc"],
        "-ERR Invalid client ID\r\n",
    );
    s.is(&["CLIENT", "LIST", "ID", "0"], "$0\r\n\r\n");
    s.is(&["CLIENT", "LIST", "ID", "999999"], "$0\r\n\r\n");
    s.is(&["CLIENT", "LIST", "TYPE", "pubsub"], "$0\r\n\r\n");
    s.is(&["CLIENT", "LIST", "TYPE", "master"], "$0\r\n\r\n");
    s.is(&["CLIENT", "LIST", "TYPE", "replica"], "$0\r\n\r\n");
    s.is(&["CLIENT", "LIST", "bogus"], "-ERR syntax error\r\n");
    s.is(&["CLIENT", "LIST", "ID"], "-ERR syntax error\r\n");
    s.is(
        &["CLIENT", "INFO", "x"],
        "-ERR wrong number of arguments for 'client|info' command\r\n",
    );
    s.is(
        &["CLIENT", "nosuch"],
        "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n",
    );
    s.is(
        &["CLIENT"],
        "-ERR wrong number of arguments for 'client' command\r\n",
    );
    // Names may not hold spaces, newlines or other special characters.
    for bad in ["a\nb", "a\rb", "tab\tx", "caf\u{e9}"] {
        s.is(
            &["CLIENT", "SETNAME", bad],
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        );
    }
    s.is(&["CLIENT", "SETNAME", "!~punct{}"], "+OK\r\n");
    s.is(&["CLIENT", "GETNAME"], "$9\r\n!~punct{}\r\n");
    // Another connection has its own name.
    let mut other = Check::new(&srv);
    other.is(&["CLIENT", "GETNAME"], "$-1\r\n");
}

#[test]
fn client_setinfo_and_no_touch() {
    // Redis 7.2 additions; redis-server 7.0 does not have them.
    if against_redis() {
        return;
    }
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["CLIENT", "SETINFO", "lib-name", "mylib"], "+OK\r\n");
    s.is(&["CLIENT", "SETINFO", "LIB-VER", "1.2.3"], "+OK\r\n");
    let info = text(&s.cmd(&["CLIENT", "INFO"]));
    s.expect(info.contains(" lib-name=mylib lib-ver=1.2.3"), || {
        format!("CLIENT INFO after SETINFO: {info:?}")
    });
    let bad = s.cmd(&["CLIENT", "SETINFO", "nosuch", "x"]);
    s.expect(bad.starts_with("-ERR "), || {
        format!("SETINFO nosuch replied {bad:?}")
    });
    let bad = s.cmd(&["CLIENT", "SETINFO", "lib-name", "has space"]);
    s.expect(bad.starts_with("-ERR "), || {
        format!("SETINFO with a space replied {bad:?}")
    });
    s.is(
        &["CLIENT", "SETINFO", "lib-name"],
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n",
    );

    // With NO-TOUCH on, reads leave a key's idle time alone.
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["CLIENT", "NO-TOUCH", "on"], "+OK\r\n");
    s.is(&["CLIENT", "NO-TOUCH", "maybe"], "-ERR syntax error\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while int(&s.cmd(&["OBJECT", "IDLETIME", "k"])) < 2 {
        assert!(Instant::now() < deadline, "OBJECT IDLETIME never grew");
        std::thread::sleep(Duration::from_millis(100));
    }
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    let idle = int(&s.cmd(&["OBJECT", "IDLETIME", "k"]));
    s.expect(idle >= 2, || {
        format!("GET with NO-TOUCH on reset the idle time to {idle}")
    });
    s.is(&["CLIENT", "NO-TOUCH", "OFF"], "+OK\r\n");
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    let idle = int(&s.cmd(&["OBJECT", "IDLETIME", "k"]));
    s.expect(idle <= 1, || {
        format!("GET with NO-TOUCH off left the idle time at {idle}")
    });
}

#[test]
fn client_list_and_client_info() {
    let srv = start(&[]);
    let mut a = Check::new(&srv);
    let mut b = srv.raw();
    let mut c = srv.raw();
    assert_eq!(b.cmd(&["CLIENT", "SETNAME", "bee"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK\r\n");
    let ids: Vec<i64> = [&mut a.c, &mut b, &mut c]
        .into_iter()
        .map(|x| int(&x.cmd(&["CLIENT", "ID"])))
        .collect();
    let addrs = [local_addr(&a), local_addr(&b), local_addr(&c)];
    let laddr = format!("127.0.0.1:{}", srv.port);

    let list = text(&a.cmd(&["CLIENT", "LIST"]));
    assert!(
        list.ends_with('\n'),
        "every CLIENT LIST line ends with a newline: {list:?}"
    );
    let lines: Vec<Vec<(String, String)>> = list.lines().map(client_fields).collect();
    assert_eq!(lines.len(), 3, "{list}");
    for (i, (id, addr)) in ids.iter().zip(&addrs).enumerate() {
        let l = lines
            .iter()
            .find(|l| field(l, "id") == id.to_string())
            .unwrap_or_else(|| panic!("client {id} missing from {list}"));
        a.expect(redis_client_fields(l), || {
            let names: Vec<&str> = l.iter().map(|(k, _)| k.as_str()).collect();
            format!("CLIENT LIST fields\n      redis: {CLIENT_FIELDS:?}\n      ours:  {names:?}")
        });
        let (name, db, cmd) = [
            ("", "0", "client|list"),
            ("bee", "0", "client|id"),
            ("", "3", "client|id"),
        ][i];
        for (k, v) in [
            ("addr", addr.as_str()),
            ("laddr", laddr.as_str()),
            ("name", name),
            ("db", db),
            ("cmd", cmd),
            ("flags", "N"),
            ("user", "default"),
            ("resp", "2"),
            ("multi", "-1"),
            ("sub", "0"),
            ("psub", "0"),
        ] {
            a.expect(field(l, k) == v, || {
                format!("client {id}: {k}={}, redis: {k}={v}", field(l, k))
            });
        }
        for k in [
            "fd",
            "age",
            "idle",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "tot-mem",
            "omem",
        ] {
            a.expect(field(l, k).parse::<i64>().is_ok(), || {
                format!("client {id}: {k}={} is not a number", field(l, k))
            });
        }
    }
    // Filters.
    let two = text(&a.cmd(&[
        "CLIENT",
        "LIST",
        "ID",
        &ids[1].to_string(),
        &ids[2].to_string(),
        "999999",
    ]));
    let mut got: Vec<String> = two
        .lines()
        .map(|l| field(&client_fields(l), "id").to_string())
        .collect();
    got.sort();
    let mut want = vec![ids[1].to_string(), ids[2].to_string()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        text(&a.cmd(&["CLIENT", "LIST", "TYPE", "normal"]))
            .lines()
            .count(),
        3
    );
    a.is(&["CLIENT", "LIST", "TYPE", "pubsub"], "$0\r\n\r\n");

    // CLIENT INFO describes the calling connection only.
    let info = text(&b.cmd(&["CLIENT", "INFO"]));
    assert!(
        info.ends_with('\n') && info.lines().count() == 1,
        "{info:?}"
    );
    let f = client_fields(info.trim_end());
    assert_eq!(field(&f, "id"), ids[1].to_string());
    assert_eq!(field(&f, "name"), "bee");
    assert_eq!(field(&f, "cmd"), "client|info");
    a.expect(redis_client_fields(&f), || {
        format!("CLIENT INFO fields {f:?}")
    });
    // NO-EVICT shows as the e flag.
    assert_eq!(b.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    let f = client_fields(text(&b.cmd(&["CLIENT", "INFO"])).trim_end());
    a.expect(field(&f, "flags") == "e", || {
        format!("NO-EVICT on: flags={}", field(&f, "flags"))
    });
    assert_eq!(b.cmd(&["CLIENT", "NO-EVICT", "off"]), "+OK\r\n");
    let f = client_fields(text(&b.cmd(&["CLIENT", "INFO"])).trim_end());
    a.expect(field(&f, "flags") == "N", || {
        format!("NO-EVICT off: flags={}", field(&f, "flags"))
    });
    // A closed connection leaves the list.
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(10);
    while text(&a.cmd(&["CLIENT", "LIST"])).lines().count() != 2 {
        assert!(
            Instant::now() < deadline,
            "a closed connection stays in CLIENT LIST"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn client_kill_by_addr_id_laddr_user_skipme() {
    let srv = start(&[]);
    let mut a = Check::new(&srv);
    let my_id = int(&a.cmd(&["CLIENT", "ID"]));
    let laddr = format!("127.0.0.1:{}", srv.port);

    // The old form: an address, +OK.
    let mut b = srv.raw();
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    a.is(&["CLIENT", "KILL", &local_addr(&b)], "+OK\r\n");
    assert!(b.closed(), "CLIENT KILL addr must close that connection");
    a.is(
        &["CLIENT", "KILL", &local_addr(&b)],
        "-ERR No such client\r\n",
    );

    // ID: the number of clients killed.
    let mut b = srv.raw();
    let b_id = int(&b.cmd(&["CLIENT", "ID"]));
    a.is(&["CLIENT", "KILL", "ID", &b_id.to_string()], ":1\r\n");
    assert!(b.closed(), "CLIENT KILL ID must close that connection");
    a.is(&["CLIENT", "KILL", "ID", &b_id.to_string()], ":0\r\n");

    // ADDR with the new form.
    let mut b = srv.raw();
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    a.is(&["CLIENT", "KILL", "ADDR", &local_addr(&b)], ":1\r\n");
    assert!(b.closed());

    // LADDR and USER match every client; SKIPME (default yes) spares the caller.
    let mut b = srv.raw();
    let mut c = srv.raw();
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    a.is(&["CLIENT", "KILL", "LADDR", &laddr], ":2\r\n");
    assert!(b.closed() && c.closed());
    a.is(&["PING"], "+PONG\r\n");
    let mut b = srv.raw();
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    a.is(&["CLIENT", "KILL", "USER", "default"], ":1\r\n");
    assert!(b.closed());
    a.is(
        &["CLIENT", "KILL", "LADDR", &laddr, "SKIPME", "yes"],
        ":0\r\n",
    );

    // Filters combine with AND.
    let mut b = srv.raw();
    let b_id = int(&b.cmd(&["CLIENT", "ID"]));
    a.is(
        &[
            "CLIENT",
            "KILL",
            "ID",
            &b_id.to_string(),
            "ADDR",
            "1.2.3.4:5",
        ],
        ":0\r\n",
    );
    a.is(
        &[
            "CLIENT",
            "KILL",
            "ID",
            &b_id.to_string(),
            "ADDR",
            &local_addr(&b),
            "LADDR",
            &laddr,
        ],
        ":1\r\n",
    );
    assert!(b.closed());

    // The caller itself: spared by default, killed with SKIPME no (after its reply).
    a.is(&["CLIENT", "KILL", "ID", &my_id.to_string()], ":0\r\n");
    a.is(
        &["CLIENT", "KILL", "ID", &my_id.to_string(), "SKIPME", "no"],
        ":1\r\n",
    );
    assert!(
        a.closed(),
        "killing yourself closes your connection after the reply"
    );
    // The server goes on.
    let mut d = srv.raw();
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_reply_on_off_skip() {
    let srv = start(&[]);
    let mut c = srv.raw();
    let cmds: &[&[&str]] = &[
        &["CLIENT", "REPLY", "OFF"],
        &["SET", "a", "1"],
        &["NOSUCHCOMMAND"],
        &["INCR", "a"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "a"],
        &["CLIENT", "REPLY", "SKIP"],
        &["INCR", "a"],
        &["INCR", "a"],
        // SKIP skips itself and the next command: this SKIP is skipped and skips the PING.
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "SKIP"],
        &["PING"],
        &["PING", "last"],
    ];
    let mut batch = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        batch.extend(encode(&args));
    }
    c.send(&batch);
    let mut got = Vec::new();
    while !silent_for(&mut c, Duration::from_millis(500)) {
        got.push(c.read_reply());
    }
    assert_eq!(got, ["+OK\r\n", "$1\r\n2\r\n", ":4\r\n", "$4\r\nlast\r\n"]);
    assert_eq!(c.cmd(&["GET", "a"]), "$1\r\n4\r\n");
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let srv = start(&[]);
    let mut admin = srv.raw();
    let mut writer = srv.raw();
    let mut reader = srv.raw();
    assert_eq!(admin.cmd(&["SET", "k", "before"]), "+OK\r\n");
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]),
        "+OK\r\n"
    );
    // Reads are served during a WRITE pause (a hang here fails on the 20 s read timeout,
    // long before the 100 s pause would end).
    assert_eq!(reader.cmd(&["GET", "k"]), "$6\r\nbefore\r\n");
    assert_eq!(reader.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(reader.cmd(&["EXISTS", "k"]), ":1\r\n");
    // A write waits.
    writer.send_cmd(&[b"SET", b"k", b"after"]);
    assert!(
        silent_for(&mut writer, Duration::from_millis(300)),
        "a write was executed during CLIENT PAUSE WRITE"
    );
    assert_eq!(reader.cmd(&["GET", "k"]), "$6\r\nbefore\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(writer.read_reply(), "+OK\r\n");
    assert_eq!(reader.cmd(&["GET", "k"]), "$5\r\nafter\r\n");
}

#[test]
fn client_pause_all_holds_every_command_until_it_ends() {
    let srv = start(&[]);
    let mut admin = srv.raw();
    let mut reader = srv.raw();
    assert_eq!(admin.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let t0 = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "1500", "ALL"]), "+OK\r\n");
    // Reads wait too, and so does every other command, even from the pausing client.
    reader.send_cmd(&[b"GET", b"k"]);
    admin.send_cmd(&[b"PING"]);
    if t0.elapsed() < Duration::from_millis(1000) {
        assert!(
            silent_for(&mut reader, Duration::from_millis(300)),
            "a read was served during CLIENT PAUSE ALL"
        );
    }
    assert_eq!(reader.read_reply(), "$1\r\nv\r\n");
    assert_eq!(admin.read_reply(), "+PONG\r\n");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(1400),
        "commands were not held by the 1500 ms pause: answered after {waited:?}"
    );
}

#[test]
fn client_pause_ends_by_itself_after_the_timeout() {
    let srv = start(&[]);
    let mut admin = srv.raw();
    let mut writer = srv.raw();
    let t0 = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "1000", "WRITE"]), "+OK\r\n");
    writer.send_cmd(&[b"SET", b"k", b"v"]);
    assert_eq!(writer.read_reply(), "+OK\r\n");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "the write was not held by the 1000 ms pause: answered after {waited:?}"
    );
}

#[test]
fn help_subcommands_list_redis_entries() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    check_help(
        &mut s,
        "CLIENT",
        &[
            &["GETNAME", "    Return the name of the current connection."],
            &["ID", "    Return the ID of the current connection."],
            &[
                "INFO",
                "    Return information about the current client connection.",
            ],
            &[
                "KILL <ip:port>",
                "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are:",
                "    * ADDR (<ip:port>|<unixsocket>:0)",
                "      Kill connections made from the specified address",
                "    * LADDR (<ip:port>|<unixsocket>:0)",
                "      Kill connections made to specified local address",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "      Kill connections by type.",
                "    * USER <username>",
                "      Kill connections authenticated by <username>.",
                "    * SKIPME (YES|NO)",
                "      Skip killing current connection (default: yes).",
            ],
            &[
                "LIST [options ...]",
                "    Return information about client connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "      Return clients of specified type.",
            ],
            &[
                "UNPAUSE",
                "    Stop the current client pause, resuming traffic.",
            ],
            &[
                "PAUSE <timeout> [WRITE|ALL]",
                "    Suspend all, or just write, clients for <timeout> milliseconds.",
            ],
            &[
                "REPLY (ON|OFF|SKIP)",
                "    Control the replies sent to the current connection.",
            ],
            &[
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
            ],
            &[
                "NO-EVICT (ON|OFF)",
                "    Protect current client connection from eviction.",
            ],
        ],
    );
    check_help(
        &mut s,
        "COMMAND",
        &[
            &[
                "(no subcommand)",
                "    Return details about all Redis commands.",
            ],
            &[
                "COUNT",
                "    Return the total number of commands in this Redis server.",
            ],
            &[
                "LIST",
                "    Return a list of all commands in this Redis server.",
            ],
            &[
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
            ],
            &[
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
            ],
            &[
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
            ],
        ],
    );
    check_help(
        &mut s,
        "CONFIG",
        &[
            &[
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
            ],
            &[
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
            ],
            &[
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
            ],
        ],
    );
    // Lower case works too.
    let r = s.cmd(&["client", "help"]);
    assert!(r.starts_with('*'), "{r:?}");
}

#[test]
fn command_count_list_info_docs() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &["COMMAND", "INFO", "get"],
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n\
         +@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
         +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
         *2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
         $4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
         :0\r\n*0\r\n",
    );
    s.is(
        &["COMMAND", "INFO", "GET", "nosuchcmd"],
        "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n\
         +@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
         +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
         *2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
         $4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
         :0\r\n*0\r\n$-1\r\n",
    );
    s.is(
        &["COMMAND", "DOCS", "get"],
        "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n\
         since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n\
         O(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\n\
         key\r\n$14\r\nkey_spec_index\r\n:0\r\n",
    );
    s.is(&["COMMAND", "DOCS", "nosuch"], "*0\r\n");
    s.is(
        &["COMMAND", "DOCS", "get", "nosuch"],
        "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n\
         since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n\
         O(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\n\
         key\r\n$14\r\nkey_spec_index\r\n:0\r\n",
    );
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "getr*"],
        "*1\r\n$8\r\ngetrange\r\n",
    );
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "nomatch*"],
        "*0\r\n",
    );
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat"],
        "*0\r\n",
    );
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuchmod"],
        "*0\r\n",
    );
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "bogus", "x"],
        "-ERR syntax error\r\n",
    );
    s.is(&["COMMAND", "LIST", "FILTERBY"], "-ERR syntax error\r\n");
    s.is(
        &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        "-ERR syntax error\r\n",
    );
    s.is(&["COMMAND", "LIST", "bogus"], "-ERR syntax error\r\n");
    s.is(
        &["COMMAND", "nosuch"],
        "-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n",
    );
    s.is(
        &["COMMAND", "COUNT", "x"],
        "-ERR wrong number of arguments for 'command|count' command\r\n",
    );
    s.is(
        &["COMMAND", "HELP", "x"],
        "-ERR wrong number of arguments for 'command|help' command\r\n",
    );
    let count = int(&s.cmd(&["COMMAND", "COUNT"]));
    // Bare COMMAND and COMMAND INFO describe every top-level command; COMMAND LIST names
    // every command and subcommand.
    for args in [&["COMMAND"][..], &["COMMAND", "INFO"]] {
        let Reply::Arr(all) = parse(&s.cmd(args)) else {
            panic!("{args:?} did not reply an array")
        };
        assert_eq!(all.len() as i64, count, "{args:?} vs COMMAND COUNT");
    }
    let list = bulks(&parse(&s.cmd(&["COMMAND", "LIST"])));
    let top: HashSet<&String> = list.iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(top.len() as i64, count, "COMMAND LIST vs COMMAND COUNT");
    for name in [
        "get",
        "set",
        "bitfield_ro",
        "lcs",
        "scan",
        "client|kill",
        "config|get",
        "object|freq",
        "command|getkeys",
        "hello",
        "shutdown",
        "debug",
    ] {
        assert!(list.iter().any(|n| n == name), "COMMAND LIST lacks {name}");
    }
    // FILTERBY selects by ACL category or glob pattern (the order is unspecified).
    let sorted = |s: &mut Check, args: &[&str]| -> Vec<String> {
        let mut v = bulks(&parse(&s.cmd(args)));
        v.sort();
        v
    };
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "bitmap"],
            &[
                "bitcount",
                "bitfield",
                "bitfield_ro",
                "bitop",
                "bitpos",
                "getbit",
                "setbit",
            ],
        ),
        (
            &["COMMAND", "LIST", "FILTERBY", "aclcat", "string"],
            &[
                "append",
                "decr",
                "decrby",
                "get",
                "getdel",
                "getex",
                "getrange",
                "getset",
                "incr",
                "incrby",
                "incrbyfloat",
                "lcs",
                "mget",
                "mset",
                "msetnx",
                "psetex",
                "set",
                "setex",
                "setnx",
                "setrange",
                "strlen",
                "substr",
            ],
        ),
        (
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "object*"],
            &[
                "object",
                "object|encoding",
                "object|freq",
                "object|help",
                "object|idletime",
                "object|refcount",
            ],
        ),
        (
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "*xpiretime"],
            &["expiretime", "pexpiretime"],
        ),
        (
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "?et"],
            &["get", "set"],
        ),
    ];
    for (args, want) in cases {
        let got = sorted(&mut s, args);
        s.expect(got == *want, || {
            format!("{args:?}\n      redis: {want:?}\n      ours:  {got:?}")
        });
    }
    // COMMAND INFO for a command with subcommands lists them too.
    let Reply::Arr(info) = parse(&s.cmd(&["COMMAND", "INFO", "config"])) else {
        panic!("COMMAND INFO config")
    };
    let Reply::Arr(config) = &info[0] else {
        panic!("{info:?}")
    };
    assert_eq!(config[0], Reply::Str("config".into()));
    assert_eq!(config[1], Reply::Int(-2));
    let Reply::Arr(subs) = &config[9] else {
        panic!("{config:?}")
    };
    let mut names: Vec<String> = subs
        .iter()
        .map(|c| match c {
            Reply::Arr(f) => match &f[0] {
                Reply::Str(n) => n.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    names.sort();
    for n in [
        "config|get",
        "config|help",
        "config|resetstat",
        "config|set",
    ] {
        assert!(
            names.iter().any(|x| x == n),
            "COMMAND INFO config lacks {n}: {names:?}"
        );
    }
}

#[test]
fn command_getkeys() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["COMMAND", "GETKEYS", "get", "k"], "*1\r\n$1\r\nk\r\n");
    // Keys found through key specifications: numkeys arguments and SORT's STORE.
    s.is(
        &["COMMAND", "GETKEYS", "ZUNIONSTORE", "dst", "2", "a", "b"],
        "*3\r\n$3\r\ndst\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "LMPOP", "2", "l1", "l2", "LEFT"],
        "*2\r\n$2\r\nl1\r\n$2\r\nl2\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "SORT", "k", "BY", "x", "STORE", "d"],
        "*2\r\n$1\r\nk\r\n$1\r\nd\r\n",
    );
    s.is(&["COMMAND", "GETKEYS", "GET", "K"], "*1\r\n$1\r\nK\r\n");
    s.is(
        &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "set", "k", "v", "ex", "10"],
        "*1\r\n$1\r\nk\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "lcs", "a", "b"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "del", "a", "b", "c"],
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "bitop", "and", "d", "a", "b"],
        "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "touch", "a", "b"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "rename", "a", "b"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "copy", "a", "b", "db", "1"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "object", "encoding", "k"],
        "*1\r\n$1\r\nk\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "echo", "x"],
        "-ERR The command has no key arguments\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "client", "kill", "x"],
        "-ERR The command has no key arguments\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        "-ERR Invalid number of arguments specified for command\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "object", "encoding"],
        "-ERR Invalid number of arguments specified for command\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        "-ERR Invalid command specified\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "ping"],
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "get"],
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS"],
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
    );
}

#[test]
fn info_sections_and_fields() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    let _b = srv.raw();
    let _c = srv.raw();
    s.is(&["SET", "a", "1"], "+OK\r\n");
    s.is(&["SET", "b", "2", "EX", "100"], "+OK\r\n");
    s.is(&["SELECT", "2"], "+OK\r\n");
    s.is(&["SET", "c", "3"], "+OK\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");

    let default_sections = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    let all_sections = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Commandstats",
        "Errorstats",
        "Latencystats",
        "Cluster",
        "Keyspace",
    ];
    let cases: &[(&[&str], &[&str])] = &[
        (&["INFO"], &default_sections),
        (&["INFO", "default"], &default_sections),
        (&["INFO", "all"], &all_sections),
        (&["INFO", "everything"], &all_sections),
        (&["INFO", "server"], &["Server"]),
        (&["INFO", "SERVER"], &["Server"]),
        (&["INFO", "clients"], &["Clients"]),
        (&["INFO", "memory"], &["Memory"]),
        (&["INFO", "persistence"], &["Persistence"]),
        (&["INFO", "stats"], &["Stats"]),
        (&["INFO", "replication"], &["Replication"]),
        (&["INFO", "cpu"], &["CPU"]),
        (&["INFO", "keyspace"], &["Keyspace"]),
        (&["INFO", "commandstats"], &["Commandstats"]),
        (&["INFO", "server", "clients"], &["Server", "Clients"]),
        (&["INFO", "keyspace", "server"], &["Server", "Keyspace"]),
    ];
    for (args, want) in cases {
        let info = text(&s.cmd(args));
        // Every line ends in CRLF and is a header, a field, or the blank line after a section.
        s.expect(info.ends_with("\r\n"), || {
            format!("{args:?} does not end in CRLF")
        });
        for line in info.split("\r\n") {
            s.expect(
                line.is_empty() || line.starts_with("# ") || line.contains(':'),
                || format!("{args:?}: odd line {line:?}"),
            );
        }
        let got = info_sections(&info);
        s.expect(got == *want, || {
            format!("{args:?} sections\n      redis: {want:?}\n      ours:  {got:?}")
        });
    }
    s.is(&["INFO", "nosuchsection"], "$0\r\n\r\n");

    let info = text(&s.cmd(&["INFO", "everything"]));
    let f = info_fields(&info);
    let expect_field = |s: &mut Check, k: &str, ok: &dyn Fn(&str) -> bool| {
        let v = f.get(k).cloned();
        s.expect(v.as_deref().is_some_and(ok), || {
            format!("INFO field {k}: {v:?}")
        });
    };
    let num = |v: &str| v.parse::<f64>().is_ok();
    let port = srv.port.to_string();
    expect_field(&mut s, "redis_version", &|v| v == "7.0.15");
    expect_field(&mut s, "redis_mode", &|v| v == "standalone");
    expect_field(&mut s, "tcp_port", &|v| v == port);
    expect_field(&mut s, "process_id", &|v| v == srv.pid().to_string());
    expect_field(&mut s, "run_id", &|v| {
        v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit())
    });
    expect_field(&mut s, "arch_bits", &|v| v == "64");
    expect_field(&mut s, "uptime_in_seconds", &num);
    expect_field(&mut s, "uptime_in_days", &|v| v == "0");
    expect_field(&mut s, "connected_clients", &|v| v == "3");
    expect_field(&mut s, "blocked_clients", &|v| v == "0");
    expect_field(&mut s, "maxclients", &|v| v == "10000");
    expect_field(&mut s, "used_memory", &|v| {
        v.parse::<u64>().is_ok_and(|n| n > 0)
    });
    expect_field(&mut s, "used_memory_human", &|v| {
        v.ends_with(['B', 'K', 'M', 'G'])
    });
    expect_field(&mut s, "used_memory_rss", &|v| {
        v.parse::<u64>().is_ok_and(|n| n > 0)
    });
    expect_field(&mut s, "maxmemory", &|v| v == "0");
    expect_field(&mut s, "maxmemory_policy", &|v| v == "noeviction");
    expect_field(&mut s, "loading", &|v| v == "0");
    expect_field(&mut s, "rdb_changes_since_last_save", &num);
    expect_field(&mut s, "rdb_last_save_time", &num);
    expect_field(&mut s, "aof_enabled", &|v| v == "0");
    expect_field(&mut s, "total_connections_received", &|v| {
        v.parse::<u64>().is_ok_and(|n| n >= 3)
    });
    expect_field(&mut s, "total_commands_processed", &|v| {
        v.parse::<u64>().is_ok_and(|n| n >= 5)
    });
    expect_field(&mut s, "expired_keys", &|v| v == "0");
    expect_field(&mut s, "evicted_keys", &|v| v == "0");
    expect_field(&mut s, "keyspace_hits", &num);
    expect_field(&mut s, "keyspace_misses", &num);
    expect_field(&mut s, "role", &|v| v == "master");
    expect_field(&mut s, "connected_slaves", &|v| v == "0");
    expect_field(&mut s, "master_repl_offset", &num);
    expect_field(&mut s, "used_cpu_sys", &num);
    expect_field(&mut s, "used_cpu_user", &num);
    expect_field(&mut s, "cluster_enabled", &|v| v == "0");
    expect_field(&mut s, "db0", &|v| {
        v.starts_with("keys=2,expires=1,avg_ttl=")
    });
    expect_field(&mut s, "db2", &|v| v == "keys=1,expires=0,avg_ttl=0");
    s.expect(!f.contains_key("db1"), || "INFO lists the empty db1".into());
}

#[test]
fn info_stats_and_commandstats_after_config_resetstat() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "s", "abc"], "+OK\r\n");
    s.is(&["GET", "s"], "$3\r\nabc\r\n");
    s.is(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    s.is(&["GET", "s"], "$3\r\nabc\r\n");
    s.is(&["GET", "nokey"], "$-1\r\n");
    s.is(&["GET", "nokey2"], "$-1\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["GET"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    let stats = info_fields(&text(&s.cmd(&["INFO", "stats"])));
    for (k, v) in [
        ("keyspace_hits", "1"),
        ("keyspace_misses", "2"),
        // CONFIG RESETSTAT, three GETs and INCR; the rejected GET does not count.
        ("total_commands_processed", "5"),
        ("total_error_replies", "2"),
        ("expired_keys", "0"),
    ] {
        let got = stats.get(k).map(|s| s.as_str());
        s.expect(got == Some(v), || {
            format!("INFO stats {k}: {got:?}, redis: {v}")
        });
    }
    let cs = text(&s.cmd(&["INFO", "commandstats"]));
    let lines: HashMap<String, String> = info_fields(&cs);
    let stat = |name: &str| lines.get(&format!("cmdstat_{name}")).cloned();
    // calls, usec and usec_per_call vary; the rest is exact.
    for (name, calls, rejected, failed) in [
        ("get", 3, 1, 0),
        ("incr", 1, 0, 1),
        ("config|resetstat", 1, 0, 0),
        ("info", 1, 0, 0),
    ] {
        let v = stat(name);
        let ok = v.as_deref().is_some_and(|v| {
            v.starts_with(&format!("calls={calls},usec="))
                && v.contains(",usec_per_call=")
                && v.ends_with(&format!(",rejected_calls={rejected},failed_calls={failed}"))
        });
        s.expect(ok, || {
            format!(
                "cmdstat_{name}: {v:?}, redis: \
                 calls={calls},...,rejected_calls={rejected},failed_calls={failed}"
            )
        });
    }
    s.expect(stat("set").is_none(), || {
        "cmdstat_set survived CONFIG RESETSTAT".into()
    });
    let es = info_fields(&text(&s.cmd(&["INFO", "errorstats"])));
    s.expect(
        es.get("errorstat_ERR").map(|s| s.as_str()) == Some("count=2"),
        || format!("errorstat_ERR: {:?}", es.get("errorstat_ERR")),
    );
}

#[test]
fn config_get_patterns_and_several_parameters() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory-policy"],
        "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n",
    );
    s.is(
        &["CONFIG", "GET", "MAXMEMORY-POLICY"],
        "*2\r\n$16\r\nMAXMEMORY-POLICY\r\n$10\r\nnoeviction\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory-p*"],
        "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n",
    );
    s.is(&["CONFIG", "GET", "nosuch"], "*0\r\n");
    s.is(
        &["CONFIG", "GET", "maxmemory", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    s.is(
        &["CONFIG", "GET", "databases"],
        "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n",
    );
    s.is(
        &["CONFIG", "GET", "proto-max-bulk-len"],
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n",
    );
    s.is(
        &["CONFIG", "GET"],
        "-ERR wrong number of arguments for 'config|get' command\r\n",
    );
    s.is(&["CONFIG", "SET", "maxmemory", "10mb"], "+OK\r\n");
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n",
    );
    s.is(&["CONFIG", "SET", "maxmemory", "0"], "+OK\r\n");
    s.is(
        &["CONFIG", "SET", "nosuch", "1"],
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "abc"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be \
         a memory value\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate \
         parameter\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory"],
        "-ERR wrong number of arguments for 'config|set' command\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "1", "maxmemory-policy"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["CONFIG", "SET", "databases", "5"],
        "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
         immutable config\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "bogus"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
         argument(s) must be one of the following: volatile-lru, volatile-lfu, \
         volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
         noeviction\r\n",
    );
    s.is(
        &["CONFIG", "SET", "timeout", "abc"],
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't \
         be parsed into an integer\r\n",
    );
    s.is(
        &["CONFIG", "SET", "MAXMEMORY-POLICY", "allkeys-lru"],
        "+OK\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory-policy"],
        "*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        "+OK\r\n",
    );
    s.is(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    s.is(
        &["CONFIG", "RESETSTAT", "x"],
        "-ERR wrong number of arguments for 'config|resetstat' command\r\n",
    );
    s.is(
        &["CONFIG", "HELP", "x"],
        "-ERR wrong number of arguments for 'config|help' command\r\n",
    );
    s.is(
        &["CONFIG", "nosuch"],
        "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.\r\n",
    );
    s.is(
        &["CONFIG"],
        "-ERR wrong number of arguments for 'config' command\r\n",
    );
    let port = srv.port.to_string();
    let cases: &[(&[&str], Pairs)] = &[
        (
            &["CONFIG", "GET", "*bulk*", "p[o]rt", "time*", "h?"],
            owned(&[
                ("hz", "10"),
                ("port", &port),
                ("proto-max-bulk-len", "536870912"),
                ("timeout", "0"),
            ]),
        ),
        (
            &["CONFIG", "GET", "maxmemory", "maxmemory-policy"],
            owned(&[("maxmemory", "0"), ("maxmemory-policy", "noeviction")]),
        ),
        // A parameter matched by several patterns is listed once.
        (
            &[
                "CONFIG",
                "GET",
                "maxmemory-policy",
                "maxmemory-pol*",
                "*-policy",
            ],
            owned(&[("maxmemory-policy", "noeviction")]),
        ),
        (
            &["CONFIG", "GET", "lazyfree-lazy-user*", "nosuch*"],
            owned(&[
                ("lazyfree-lazy-user-del", "no"),
                ("lazyfree-lazy-user-flush", "no"),
            ]),
        ),
        (
            &["CONFIG", "GET", "appendonly"],
            owned(&[("appendonly", "no")]),
        ),
        (&["CONFIG", "GET", "bind"], owned(&[("bind", "127.0.0.1")])),
        (
            &["CONFIG", "GET", "requirepass"],
            owned(&[("requirepass", "")]),
        ),
    ];
    for (args, want) in cases {
        let got = pairs(&s.cmd(args));
        s.expect(&got == want, || {
            format!("{args:?}\n      redis: {want:?}\n      ours:  {got:?}")
        });
    }
}

#[test]
fn config_set_applies_all_pairs_or_none() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &[
            "CONFIG",
            "SET",
            "timeout",
            "100",
            "maxmemory-policy",
            "bogus",
        ],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
         argument(s) must be one of the following: volatile-lru, volatile-lfu, \
         volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
         noeviction\r\n",
    );
    s.is(
        &["CONFIG", "GET", "timeout"],
        "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n",
    );
    s.is(
        &["CONFIG", "SET", "timeout", "100", "maxmemory", "1mb"],
        "+OK\r\n",
    );
    s.is(
        &["CONFIG", "GET", "timeout"],
        "*2\r\n$7\r\ntimeout\r\n$3\r\n100\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "2mb", "nosuch", "1"],
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "3mb", "timeout", "abc"],
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't \
         be parsed into an integer\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory", "3mb", "databases", "4"],
        "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
         immutable config\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n",
    );
    s.is(
        &["CONFIG", "SET", "timeout", "0", "maxmemory", "0"],
        "+OK\r\n",
    );
    s.is(
        &["CONFIG", "GET", "timeout"],
        "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    // The new values take effect: timeout closes idle clients.
    s.is(&["CONFIG", "SET", "timeout", "1"], "+OK\r\n");
    let mut idle = srv.raw();
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = [0u8; 1];
    idle.r
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    loop {
        match idle.r.get_mut().read(&mut buf) {
            Ok(0) => break,
            Ok(_) => panic!("unexpected data on an idle connection"),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        assert!(
            Instant::now() < deadline,
            "CONFIG SET timeout 1 did not close an idle client"
        );
    }
}

#[test]
fn dbsize_flushdb_flushall_swapdb() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "a", "1"], "+OK\r\n");
    s.is(&["DBSIZE"], ":1\r\n");
    s.is(&["SWAPDB", "0", "1"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["GET", "a"], "$-1\r\n");
    s.is(&["SELECT", "1"], "+OK\r\n");
    s.is(&["DBSIZE"], ":1\r\n");
    s.is(&["GET", "a"], "$1\r\n1\r\n");
    s.is(&["SWAPDB", "1", "0"], "+OK\r\n");
    s.is(&["GET", "a"], "$-1\r\n");
    s.is(&["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n");
    s.is(&["SWAPDB", "0", "-1"], "-ERR DB index is out of range\r\n");
    s.is(&["SWAPDB", "a", "1"], "-ERR invalid first DB index\r\n");
    s.is(&["SWAPDB", "0", "b"], "-ERR invalid second DB index\r\n");
    s.is(&["SWAPDB", "1", "1"], "+OK\r\n");
    s.is(
        &["SWAPDB", "0"],
        "-ERR wrong number of arguments for 'swapdb' command\r\n",
    );
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(&["GET", "a"], "$1\r\n1\r\n");
    s.is(&["SET", "b", "2"], "+OK\r\n");
    s.is(&["FLUSHDB"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["SET", "x", "1"], "+OK\r\n");
    s.is(&["FLUSHDB", "ASYNC"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["SET", "x", "1"], "+OK\r\n");
    s.is(&["FLUSHDB", "sync"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["FLUSHDB", "bogus"], "-ERR syntax error\r\n");
    s.is(&["FLUSHDB", "SYNC", "ASYNC"], "-ERR syntax error\r\n");
    s.is(&["SET", "x", "1"], "+OK\r\n");
    s.is(&["SELECT", "3"], "+OK\r\n");
    s.is(&["SET", "y", "1"], "+OK\r\n");
    s.is(&["FLUSHALL"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["SET", "x", "1"], "+OK\r\n");
    s.is(&["FLUSHALL", "ASYNC"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    s.is(&["FLUSHALL", "SYNC"], "+OK\r\n");
    s.is(&["FLUSHALL", "bogus"], "-ERR syntax error\r\n");
    s.is(&["FLUSHALL", "SYNC", "ASYNC"], "-ERR syntax error\r\n");
    s.is(
        &["DBSIZE", "x"],
        "-ERR wrong number of arguments for 'dbsize' command\r\n",
    );
    // SWAPDB is visible to other connections at once.
    s.is(&["SET", "only0", "x"], "+OK\r\n");
    let mut other = Check::new(&srv);
    other.is(&["SELECT", "1"], "+OK\r\n");
    other.is(&["EXISTS", "only0"], ":0\r\n");
    s.is(&["SWAPDB", "0", "1"], "+OK\r\n");
    other.is(&["EXISTS", "only0"], ":1\r\n");
    s.is(&["EXISTS", "only0"], ":0\r\n");
    // A big FLUSHALL ASYNC empties the keyspace at once.
    let mut batch = Vec::new();
    for i in 0..20_000 {
        batch.extend(encode(&[b"SET", format!("k{i}").as_bytes(), b"v"]));
    }
    s.send(&batch);
    for _ in 0..20_000 {
        assert_eq!(s.read_reply(), "+OK\r\n");
    }
    s.is(&["DBSIZE"], ":20000\r\n");
    s.is(&["FLUSHALL", "ASYNC"], "+OK\r\n");
    s.is(&["DBSIZE"], ":0\r\n");
    other.is(&["DBSIZE"], ":0\r\n");
    s.is(&["GET", "k1"], "$-1\r\n");
}

#[test]
fn time_lastsave_role() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    let before = unix_now();
    let t = bulks(&parse(&s.cmd(&["TIME"])));
    let after = unix_now();
    assert_eq!(t.len(), 2, "{t:?}");
    let secs: i64 = t[0].parse().unwrap();
    let usecs: i64 = t[1].parse().unwrap();
    assert!(
        (before - 1..=after + 1).contains(&secs),
        "TIME {secs}, clock {before}"
    );
    assert!((0..1_000_000).contains(&usecs), "TIME microseconds {usecs}");
    let t2 = bulks(&parse(&s.cmd(&["TIME"])));
    let (a, b) = (
        secs * 1_000_000 + usecs,
        t2[0].parse::<i64>().unwrap() * 1_000_000 + t2[1].parse::<i64>().unwrap(),
    );
    assert!(b >= a, "TIME went backwards: {a} then {b}");
    let last = int(&s.cmd(&["LASTSAVE"]));
    assert!(last <= after + 1 && last > after - 3600, "LASTSAVE {last}");
    s.is(
        &["TIME", "x"],
        "-ERR wrong number of arguments for 'time' command\r\n",
    );
    s.is(
        &["LASTSAVE", "x"],
        "-ERR wrong number of arguments for 'lastsave' command\r\n",
    );
    s.is(&["ROLE"], "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    s.is(
        &["ROLE", "x"],
        "-ERR wrong number of arguments for 'role' command\r\n",
    );
    s.is(&["SHUTDOWN", "bogus"], "-ERR syntax error\r\n");
    s.is(&["SHUTDOWN", "NOSAVE", "SAVE"], "-ERR syntax error\r\n");
    s.is(&["SHUTDOWN", "ABORT"], "-ERR No shutdown in progress.\r\n");
    s.is(&["SHUTDOWN", "NOSAVE", "ABORT"], "-ERR syntax error\r\n");
}

#[test]
fn shutdown_stops_the_server_with_status_0() {
    let mut srv = start(&[]);
    let mut bystander = srv.raw();
    assert_eq!(bystander.cmd(&["PING"]), "+PONG\r\n");
    let mut c = srv.raw();
    c.send_cmd(&[b"SHUTDOWN"]);
    assert!(
        c.closed(),
        "SHUTDOWN must close the connection without a reply"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = srv.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server is still running after SHUTDOWN"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(bystander.closed(), "other clients are disconnected");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", srv.port)).is_err(),
        "still listening"
    );
}

#[test]
fn shutdown_nosave_stops_the_server_with_status_0() {
    let mut srv = start(&[]);
    let mut c = srv.raw();
    c.send_cmd(&[b"shutdown", b"nosave", b"now"]);
    assert!(c.closed());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = srv.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server is still running after SHUTDOWN NOSAVE"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn debug_sleep_object_and_errors() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "a", "hello"], "+OK\r\n");
    s.is(&["DEBUG", "SLEEP", "0"], "+OK\r\n");
    s.is(&["DEBUG", "SLEEP", "0.01"], "+OK\r\n");
    s.is(&["DEBUG", "SLEEP", "abc"], "+OK\r\n");
    s.is(&["DEBUG", "OBJECT", "nokey"], "-ERR no such key\r\n");
    s.is(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"], "+OK\r\n");
    s.is(&["DEBUG", "SET-ACTIVE-EXPIRE", "abc"], "+OK\r\n");
    s.is(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"], "+OK\r\n");
    s.is(
        &["DEBUG", "nosuch"],
        "-ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG \
         HELP.\r\n",
    );
    s.is(
        &["DEBUG", "SLEEP"],
        "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG \
         HELP.\r\n",
    );
    s.is(
        &["DEBUG", "OBJECT"],
        "-ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG \
         HELP.\r\n",
    );
    s.is(
        &["DEBUG"],
        "-ERR wrong number of arguments for 'debug' command\r\n",
    );
    let t0 = Instant::now();
    s.is(&["DEBUG", "SLEEP", "0.3"], "+OK\r\n");
    assert!(
        t0.elapsed() >= Duration::from_millis(290),
        "DEBUG SLEEP 0.3 returned after {:?}",
        t0.elapsed()
    );
    s.is(&["SET", "n", "12345"], "+OK\r\n");
    for (key, tail) in [
        ("a", " refcount:1 encoding:embstr serializedlength:6 lru:"),
        ("n", " refcount:1 encoding:int serializedlength:3 lru:"),
    ] {
        let r = s.cmd(&["DEBUG", "OBJECT", key]);
        let ok = r
            .strip_prefix("+Value at:0x")
            .and_then(|r| r.split_once(' '))
            .is_some_and(|(addr, rest)| {
                addr.bytes().all(|b| b.is_ascii_hexdigit())
                    && format!(" {rest}").starts_with(tail)
                    && (rest.ends_with(" lru_seconds_idle:0\r\n")
                        || rest.ends_with(" lru_seconds_idle:1\r\n"))
            });
        s.expect(ok, || {
            format!(
                "DEBUG OBJECT {key}: {r:?}, redis: \
                 \"+Value at:0x<addr>{tail}<n> lru_seconds_idle:0\\r\\n\""
            )
        });
    }
}

#[test]
fn debug_sleep_blocks_the_whole_server() {
    let srv = start(&[]);
    let mut sleeper = srv.raw();
    let mut other = srv.raw();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    sleeper.send_cmd(&[b"DEBUG", b"SLEEP", b"1"]);
    std::thread::sleep(Duration::from_millis(100));
    // The sleep has begun; a command from another client is served only after it.
    let t0 = Instant::now();
    other.send_cmd(&[b"PING"]);
    assert_eq!(other.read_reply(), "+PONG\r\n");
    let waited = t0.elapsed();
    assert_eq!(sleeper.read_reply(), "+OK\r\n");
    assert!(
        waited >= Duration::from_millis(500),
        "PING was answered during DEBUG SLEEP 1 (after {waited:?})"
    );
}

#[test]
fn resp3_reply_shapes_after_hello_3() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    let id = int(&s.cmd(&["CLIENT", "ID"]));
    s.is(
        &["HELLO", "3"],
        &format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
             $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
             $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        ),
    );
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    s.is(
        &["CONFIG", "GET", "maxmemory-policy"],
        "%1\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n",
    );
    s.is(&["CONFIG", "GET", "nosuch"], "%0\r\n");
    s.is(&["GET", "nokey"], "_\r\n");
    s.is(&["MGET", "nokey", "k"], "*2\r\n_\r\n_\r\n");
    s.is(&["CLIENT", "GETNAME"], "_\r\n");
    s.is(&["OBJECT", "ENCODING", "nokey"], "_\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["SET", "k", "v", "GET"], "$1\r\nv\r\n");
    s.is(&["SET", "k", "v", "NX"], "_\r\n");
    s.is(&["GETEX", "nokey"], "_\r\n");
    s.is(
        &["LCS", "k", "k", "IDX"],
        "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:0\r\n*2\r\n:0\r\n:0\r\n$3\r\nlen\r\n\
         :1\r\n",
    );
    s.is(&["COMMAND", "DOCS", "nosuch"], "%0\r\n");
    s.is(&["COMMAND", "INFO", "nosuch"], "*1\r\n_\r\n");
    s.is(
        &[
            "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10",
        ],
        "*1\r\n_\r\n",
    );
    s.is(&["INCRBYFLOAT", "f", "1.5"], "$3\r\n1.5\r\n");
    s.is(&["ROLE"], "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    s.is(&["PING"], "+PONG\r\n");
    s.is(&["ECHO", "x"], "$1\r\nx\r\n");
    s.is(&["TTL", "nokey"], ":-2\r\n");
    s.is(&["EXISTS", "k"], ":1\r\n");
    s.is(
        &["SCAN", "0", "MATCH", "k", "COUNT", "100"],
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n",
    );
    s.is(&["COMMAND", "GETKEYS", "get", "k"], "*1\r\n$1\r\nk\r\n");
    // Keys found through key specifications: numkeys arguments and SORT's STORE.
    s.is(
        &["COMMAND", "GETKEYS", "ZUNIONSTORE", "dst", "2", "a", "b"],
        "*3\r\n$3\r\ndst\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "LMPOP", "2", "l1", "l2", "LEFT"],
        "*2\r\n$2\r\nl1\r\n$2\r\nl2\r\n",
    );
    s.is(
        &["COMMAND", "GETKEYS", "SORT", "k", "BY", "x", "STORE", "d"],
        "*2\r\n$1\r\nk\r\n$1\r\nd\r\n",
    );
    s.is(&["KEYS", "nomatch"], "*0\r\n");
    // Maps: CONFIG GET with several parameters (order unspecified).
    let r = s.cmd(&["CONFIG", "GET", "maxmemory", "maxmemory-policy"]);
    s.expect(r.starts_with("%2\r\n"), || {
        format!("CONFIG GET (2) in RESP3: {r:?}")
    });
    s.expect(
        pairs(&r) == owned(&[("maxmemory", "0"), ("maxmemory-policy", "noeviction")]),
        || format!("CONFIG GET (2) in RESP3: {r:?}"),
    );
    // Verbatim strings: INFO, CLIENT INFO, CLIENT LIST.
    for args in [
        &["INFO"][..],
        &["INFO", "server"],
        &["CLIENT", "INFO"],
        &["CLIENT", "LIST"],
    ] {
        let r = s.cmd(args);
        let ok = r.split_once("\r\n").is_some_and(|(head, body)| {
            head.strip_prefix('=').and_then(|n| n.parse::<usize>().ok()) == Some(body.len() - 2)
                && body.starts_with("txt:")
        });
        s.expect(ok, || {
            format!("{args:?} in RESP3 is not a txt verbatim string: {r:?}")
        });
    }
    s.is(&["INFO", "nosuchsection"], "=4\r\ntxt:\r\n");
    s.is(
        &["COMMAND", "INFO", "get"],
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n\
         +@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n\
         +access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
         %1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
         $4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
         :0\r\n~0\r\n",
    );
    s.is(
        &["COMMAND", "DOCS", "get"],
        "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n\
         since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n\
         O(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\n\
         key\r\n$14\r\nkey_spec_index\r\n:0\r\n",
    );
    // HELLO 2 switches back.
    let r = s.cmd(&["HELLO", "2"]);
    s.expect(r.starts_with("*14\r\n"), || format!("HELLO 2: {r:?}"));
    s.is(&["GET", "nokey"], "$-1\r\n");
    s.is(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    // RESET also returns to RESP2.
    s.is(
        &["HELLO", "3"],
        &format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
         $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        ),
    );
    s.is(&["GET", "nokey"], "_\r\n");
    s.is(&["RESET"], "+RESET\r\n");
    s.is(&["GET", "nokey"], "$-1\r\n");
}

#[test]
fn server_commands_through_the_redis_crate() {
    let srv = start(&[]);
    let mut con = srv.client();
    let () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("rusty")
        .query(&mut con)
        .unwrap();
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name.as_deref(), Some("rusty"));
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let info: redis::InfoDict = redis::cmd("INFO").query(&mut con).unwrap();
    assert_eq!(
        info.get::<String>("redis_version").as_deref(),
        Some("7.0.15")
    );
    assert_eq!(info.get::<String>("role").as_deref(), Some("master"));
    assert_eq!(
        info.get::<String>("redis_mode").as_deref(),
        Some("standalone")
    );
    let cfg: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory*policy")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        cfg.get("maxmemory-policy").map(|s| s.as_str()),
        Some("noeviction")
    );
    let (secs, _usecs): (u64, u64) = redis::cmd("TIME").query(&mut con).unwrap();
    assert!((secs as i64 - unix_now()).abs() <= 2);
    let (echo, db, size, role): (String, String, usize, (String, i64, Vec<String>)) = redis::pipe()
        .cmd("ECHO")
        .arg("hi")
        .cmd("SELECT")
        .arg(4)
        .cmd("DBSIZE")
        .cmd("ROLE")
        .query(&mut con)
        .unwrap();
    assert_eq!((echo.as_str(), db.as_str(), size), ("hi", "OK", 0));
    assert_eq!(role, ("master".to_string(), 0, vec![]));

    // The same through a RESP3 connection: HELLO 3 is sent by the crate, and maps decode.
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", srv.port)).unwrap();
    let mut con3 = client.get_connection().unwrap();
    let cfg: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .arg("maxmemory-policy")
        .query(&mut con3)
        .unwrap();
    assert_eq!(cfg.len(), 2);
    assert_eq!(cfg["maxmemory"], "0");
    let v: Option<String> = redis::cmd("GET").arg("nokey").query(&mut con3).unwrap();
    assert_eq!(v, None);
    let info: redis::InfoDict = redis::cmd("INFO").arg("server").query(&mut con3).unwrap();
    assert_eq!(
        info.get::<String>("redis_version").as_deref(),
        Some("7.0.15")
    );
    let proto: i64 = {
        let line = redis::cmd("CLIENT")
            .arg("INFO")
            .query::<String>(&mut con3)
            .unwrap();
        client_fields(line.trim_end())
            .iter()
            .find(|(k, _)| k == "resp")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap()
    };
    assert_eq!(proto, 3);
}
