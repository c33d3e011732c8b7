//! Wire-level behaviour over raw RESP: replies byte for byte, inline commands, pipelining,
//! protocol errors and input limits.

mod common;
use common::*;
use std::io::Write;

#[test]
fn basic_replies_are_byte_exact() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["ping", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["GET", "nope"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["foo", "a", "b"]),
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        c.cmd(&["INCR", "k"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "XX", "NX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "nosuch"]),
        "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL"]),
        "-ERR wrong number of arguments for 'client|kill' command\r\n"
    );
    assert_eq!(c.cmd(&["MGET", "k", "nope"]), "*2\r\n$1\r\nv\r\n$-1\r\n");
}

#[test]
fn inline_commands() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    c.send(b"SET greeting \"hello world\"\r\nGET greeting\nPING\r\n\r\n");
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), "$11\r\nhello world\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
    c.send(b"SET a \"unbalanced\r\n");
    assert_eq!(
        c.read_reply(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(c.closed());
}

#[test]
fn pipeline_of_ten_thousand_commands() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let mut batch = Vec::new();
    for i in 0..10_000 {
        batch.extend(encode(&[b"INCR", b"counter"]));
        if i % 1000 == 0 {
            batch.extend(encode(&[b"SET", format!("k{i}").as_bytes(), b"x"]));
        }
    }
    c.send(&batch);
    let mut n = 0;
    for i in 0..10_000 {
        n += 1;
        assert_eq!(c.read_reply(), format!(":{n}\r\n"));
        if i % 1000 == 0 {
            assert_eq!(c.read_reply(), "+OK\r\n");
        }
    }
    assert_eq!(c.cmd(&["GET", "counter"]), "$5\r\n10000\r\n");
}

#[test]
fn a_command_split_across_many_writes() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let cmd = encode(&[b"SET", b"split", &vec![b'x'; 100_000]]);
    for chunk in cmd.chunks(777) {
        c.send(chunk);
        c.r.get_mut().flush().unwrap();
    }
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "split"]), ":100000\r\n");
}

fn protocol_error(input: &[u8], expected: &str) {
    let s = Server::start(&[]);
    let mut c = s.raw();
    c.send(input);
    assert_eq!(
        c.read_reply(),
        format!("-ERR Protocol error: {expected}\r\n"),
        "input {input:?}"
    );
    assert!(c.closed(), "connection must close after a protocol error");
    // The server and other clients are unaffected.
    let mut other = s.raw();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn protocol_errors_close_only_that_connection() {
    protocol_error(b"*1\r\n+PING\r\n", "expected '$', got '+'");
    protocol_error(b"*abc\r\n", "invalid multibulk length");
    protocol_error(b"*1\r\n$abc\r\n", "invalid bulk length");
    protocol_error(b"*1\r\n$-3\r\n", "invalid bulk length");
    protocol_error(b"*3000000000\r\n", "invalid multibulk length");
    protocol_error(&vec![b'a'; 70 * 1024], "too big inline request");
    let mut big = b"*".to_vec();
    big.extend(vec![b'1'; 70 * 1024]);
    protocol_error(&big, "too big mbulk count string");
}

#[test]
fn proto_max_bulk_len_is_enforced() {
    let s = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = s.raw();
    c.send(b"*2\r\n$3\r\nGET\r\n$2000000\r\n");
    assert_eq!(
        c.read_reply(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn declared_huge_bulk_does_not_allocate() {
    let s = Server::start(&[]);
    let before = s.rss();
    let mut conns = Vec::new();
    // Ten clients each declare a 500 MB bulk and send only a few bytes of it.
    for _ in 0..10 {
        let mut c = s.raw();
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\nabc");
        conns.push(c);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut other = s.raw();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    let after = s.rss();
    assert!(
        after < before + 64 * 1024 * 1024,
        "RSS grew from {before} to {after}"
    );
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let s = Server::start(&["--client-query-buffer-limit", "1mb"]);
    let mut c = s.raw();
    // A bulk larger than the query buffer limit, sent in full: the client is dropped.
    let mut data = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n".to_vec();
    data.extend(vec![b'x'; 3_000_000]);
    let _ = c.r.get_mut().write_all(&data);
    assert!(c.closed());
    assert_eq!(s.raw().cmd(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn resp3_after_hello() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(
        hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello}"
    );
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"), "{hello}");
    assert_eq!(c.cmd(&["GET", "nope"]), "_\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    );
    let info = c.cmd(&["CLIENT", "INFO"]);
    assert!(info.starts_with('=') && info.contains("txt:id="), "{info}");
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(c.cmd(&["HELLO", "2"]).lines().next(), Some("*14"));
    assert_eq!(c.cmd(&["GET", "nope"]), "$-1\r\n");
}

#[test]
fn requirepass_gates_everything_but_auth() {
    let s = Server::start(&["--requirepass", "sekret"]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["HELLO", "3"]).split("\r\n").next(), Some("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    assert_eq!(c.cmd(&["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    let mut d = s.raw();
    assert!(d
        .cmd(&["HELLO", "2", "AUTH", "default", "sekret"])
        .starts_with("*14\r\n"));
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
    // Before authentication only tiny requests are accepted.
    let mut e = s.raw();
    e.send(b"*100\r\n");
    assert_eq!(
        e.read_reply(),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut f = s.raw();
    f.send(b"*2\r\n$4\r\nAUTH\r\n$100000\r\n");
    assert_eq!(
        f.read_reply(),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    let mut g = s.raw();
    assert_eq!(g.cmd(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
}

#[test]
fn auth_without_password_configured() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn maxclients_refuses_the_extra_client() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.raw();
    // Wait until the harness's start-up probe connections are gone and `a` is alone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while a.cmd(&["CLIENT", "LIST"]).matches("id=").count() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "probe connections linger"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut b = s.raw();
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    let mut c = s.raw();
    assert_eq!(c.read_reply(), "-ERR max number of clients reached\r\n");
    assert!(c.closed());
    drop(a);
    // A freed slot is usable again once the server notices the close.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut d = s.raw();
        d.send(b"PING\r\n");
        if d.read_reply() == "+PONG\r\n" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slot never freed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let stats = b.cmd(&["INFO", "stats"]);
    assert!(!stats.contains("rejected_connections:0\r\n"), "{stats}");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.raw();
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    let start = std::time::Instant::now();
    assert!(idle.closed(), "idle client must be closed");
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
}
