//! Pub/Sub: exact replies and messages against redis-server in RESP2 and RESP3, subscribed
//! mode, fan-out order, the `redis` crate's async subscriber, cleanup on disconnect, RESET and
//! CLIENT KILL, and cutting off a subscriber that does not read.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends the same command to both servers over the given connections and asserts identical
/// replies.
#[track_caller]
fn same(a: &mut Raw, b: &mut Raw, args: &[&str]) -> String {
    let (ra, rb) = (a.cmd(args), b.cmd(args));
    assert_eq!(ra, rb, "{args:?}: redis vs shardis");
    ra
}

/// Reads one reply from both connections (a message) and asserts it is identical.
#[track_caller]
fn same_message(a: &mut Raw, b: &mut Raw) -> String {
    let (ra, rb) = (a.read_reply(), b.read_reply());
    assert_eq!(ra, rb, "message: redis vs shardis");
    ra
}

const CONTEXT_ERR: &str =
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

#[test]
fn resp2_replies_and_messages_match_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let (mut pa, mut pb) = (p.redis.raw(), p.ours.raw());
    let (a, b) = (&mut p.a, &mut p.b);
    let r = same(a, b, &["SUBSCRIBE", "a"]);
    assert_eq!(r, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    same(a, b, &["PSUBSCRIBE", "p*"]);
    let r = same(a, b, &["GET", "x"]);
    assert_eq!(r, format!("-ERR Can't execute 'get': {CONTEXT_ERR}\r\n"));
    same(a, b, &["CLIENT", "INFO"]);
    same(a, b, &["GET"]);
    assert_eq!(same(a, b, &["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    same(a, b, &["PING", "hi"]);
    same(a, b, &["PING", "a", "b"]);
    same(a, b, &["SSUBSCRIBE", "s"]);
    // Subscribing twice confirms twice.
    same(a, b, &["SUBSCRIBE", "a", "a"]);
    same_message(a, b);
    same(a, b, &["SUBSCRIBE"]);
    // Messages: direct, through a pattern, and on a shard channel.
    assert_eq!(same(&mut pa, &mut pb, &["PUBLISH", "a", "hello"]), ":1\r\n");
    let m = same_message(a, b);
    assert_eq!(m, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n");
    assert_eq!(same(&mut pa, &mut pb, &["PUBLISH", "px", "y"]), ":1\r\n");
    same_message(a, b);
    assert_eq!(same(&mut pa, &mut pb, &["PUBLISH", "p", ""]), ":1\r\n");
    same_message(a, b);
    assert_eq!(same(&mut pa, &mut pb, &["SPUBLISH", "s", "z"]), ":1\r\n");
    same_message(a, b);
    assert_eq!(same(&mut pa, &mut pb, &["PUBLISH", "none", "z"]), ":0\r\n");
    same(&mut pa, &mut pb, &["SPUBLISH", "a", "z"]);
    same(&mut pa, &mut pb, &["PUBLISH", "a"]);
    // Unsubscribing: one name, unknown names, and all of a kind.
    same(a, b, &["UNSUBSCRIBE", "a"]);
    same(a, b, &["UNSUBSCRIBE", "zz"]);
    same(a, b, &["PUNSUBSCRIBE", "zz"]);
    same(a, b, &["PUNSUBSCRIBE"]);
    // Still subscribed to a shard channel: still in subscribed mode.
    same(a, b, &["GET", "x"]);
    same(a, b, &["SUNSUBSCRIBE", "zz"]);
    same(a, b, &["SUNSUBSCRIBE"]);
    assert_eq!(
        same(a, b, &["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    same(a, b, &["PUNSUBSCRIBE"]);
    same(a, b, &["SUNSUBSCRIBE"]);
    // Out of subscribed mode again.
    assert_eq!(same(a, b, &["GET", "x"]), "$-1\r\n");
    assert_eq!(same(a, b, &["PING"]), "+PONG\r\n");
    // RESET leaves subscribed mode silently.
    same(a, b, &["SUBSCRIBE", "a"]);
    same(a, b, &["PSUBSCRIBE", "q*"]);
    assert_eq!(same(a, b, &["RESET"]), "+RESET\r\n");
    same(a, b, &["GET", "x"]);
    assert_eq!(
        same(&mut pa, &mut pb, &["PUBSUB", "NUMSUB", "a"]),
        "*2\r\n$1\r\na\r\n:0\r\n"
    );
    same(&mut pa, &mut pb, &["PUBSUB", "NUMPAT"]);
    same(a, b, &["SUBSCRIBE", "a"]);
    assert_eq!(same(a, b, &["QUIT"]), "+OK\r\n");
}

#[test]
fn resp3_pushes_interleave_with_replies_like_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let (mut pa, mut pb) = (p.redis.raw(), p.ours.raw());
    let (a, b) = (&mut p.a, &mut p.b);
    // The HELLO reply holds the client id, which differs between the servers.
    a.cmd(&["HELLO", "3"]);
    b.cmd(&["HELLO", "3"]);
    let r = same(a, b, &["SUBSCRIBE", "a"]);
    assert_eq!(r, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    same(a, b, &["PSUBSCRIBE", "a*"]);
    same(a, b, &["SSUBSCRIBE", "s"]);
    // Normal commands run in RESP3 subscribed mode.
    assert_eq!(same(a, b, &["SET", "x", "1"]), "+OK\r\n");
    assert_eq!(same(a, b, &["PING"]), "+PONG\r\n");
    // A message published before a command arrives ahead of its reply.
    assert_eq!(same(&mut pa, &mut pb, &["PUBLISH", "a", "m"]), ":2\r\n");
    let r = same(a, b, &["GET", "x"]);
    assert_eq!(r, ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n");
    let r = same_message(a, b);
    assert_eq!(
        r,
        ">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$1\r\nm\r\n"
    );
    assert_eq!(same_message(a, b), "$1\r\n1\r\n");
    // Publishing to oneself: the pushes come before PUBLISH's own reply.
    same(a, b, &["PUBLISH", "a", "self"]);
    same_message(a, b);
    assert_eq!(same_message(a, b), ":2\r\n");
    same(a, b, &["SPUBLISH", "s", "self"]);
    same_message(a, b);
    same(a, b, &["UNSUBSCRIBE"]);
    same(a, b, &["PUNSUBSCRIBE"]);
    same(a, b, &["SUNSUBSCRIBE"]);
    assert_eq!(
        same(a, b, &["UNSUBSCRIBE"]),
        ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
    );
    same(a, b, &["PUBSUB", "NUMSUB", "a", "b"]);
    same(a, b, &["PUBSUB", "SHARDNUMSUB", "s"]);
}

#[test]
fn pubsub_introspection_matches_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let (a, b) = (&mut p.a, &mut p.b);
    same(a, b, &["PUBSUB", "CHANNELS"]);
    same(a, b, &["PUBSUB", "NUMPAT"]);
    same(a, b, &["PUBSUB", "NUMSUB"]);
    same(a, b, &["PUBSUB", "SHARDCHANNELS"]);
    same(a, b, &["PUBSUB", "SHARDNUMSUB"]);
    same(a, b, &["PUBSUB", "HELP"]);
    same(a, b, &["PUBSUB", "help"]);
    same(a, b, &["PUBSUB", "FOO"]);
    same(a, b, &["PUBSUB"]);
    same(a, b, &["PUBSUB", "CHANNELS", "a", "b"]);
    same(a, b, &["PUBSUB", "SHARDCHANNELS", "a", "b"]);
    same(a, b, &["PUBSUB", "NUMPAT", "x"]);
    let mut subs = Vec::new();
    for (i, chans) in [&["news", "nets", "x"][..], &["news"], &["other"]]
        .iter()
        .enumerate()
    {
        let (mut sa, mut sb) = (p.redis.raw(), p.ours.raw());
        let mut args = vec!["SUBSCRIBE"];
        args.extend_from_slice(chans);
        sa.send_cmd(&args.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        sb.send_cmd(&args.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        for _ in 0..chans.len() {
            same_message(&mut sa, &mut sb);
        }
        let pats: &[&str] = if i == 0 { &["n*", "o*"] } else { &["n*"] };
        for pat in pats {
            same(&mut sa, &mut sb, &["PSUBSCRIBE", pat]);
        }
        same(&mut sa, &mut sb, &["SSUBSCRIBE", "sh1", "sh2"]);
        subs.push((sa, sb));
    }
    let (a, b) = (&mut p.a, &mut p.b);
    for args in [
        &["PUBSUB", "CHANNELS"][..],
        &["PUBSUB", "CHANNELS", "n*"],
        &["PUBSUB", "SHARDCHANNELS"],
        &["PUBSUB", "SHARDCHANNELS", "*2"],
    ] {
        let (ra, rb) = (a.cmd(args), b.cmd(args));
        assert_eq!(sorted_reply(&ra), sorted_reply(&rb), "{args:?}");
    }
    assert_eq!(
        same(a, b, &["PUBSUB", "CHANNELS", "new?"]),
        "*1\r\n$4\r\nnews\r\n"
    );
    same(a, b, &["PUBSUB", "CHANNELS", "nothing*"]);
    assert_eq!(
        same(a, b, &["PUBSUB", "NUMSUB", "news", "x", "nope", "news"]),
        "*8\r\n$4\r\nnews\r\n:2\r\n$1\r\nx\r\n:1\r\n$4\r\nnope\r\n:0\r\n$4\r\nnews\r\n:2\r\n"
    );
    assert_eq!(same(a, b, &["PUBSUB", "NUMPAT"]), ":2\r\n");
    same(a, b, &["PUBSUB", "SHARDNUMSUB", "sh1", "news"]);
    // A client matching through two patterns counts twice.
    assert_eq!(same(a, b, &["PUBLISH", "news", "m"]), ":5\r\n");
    assert_eq!(same(a, b, &["SPUBLISH", "sh2", "m"]), ":3\r\n");
    let info_a = a.cmd(&["INFO", "stats"]);
    let info_b = b.cmd(&["INFO", "stats"]);
    for field in [
        "pubsub_channels:4\r\n",
        "pubsub_patterns:2\r\n",
        "pubsubshard_channels:2\r\n",
    ] {
        assert!(info_a.contains(field), "redis lacks {field}");
        assert!(info_b.contains(field), "shardis lacks {field}");
    }
    // Every subscriber got the same messages, in the same order, before its PING reply.
    for (sa, sb) in subs.iter_mut() {
        sa.send_cmd(&[b"PING"]);
        sb.send_cmd(&[b"PING"]);
        let mut n = 0;
        while !same_message(sa, sb).starts_with("*2\r\n$4\r\npong") {
            n += 1;
        }
        assert!(n >= 2, "each subscriber got messages");
    }
}

#[test]
fn config_client_output_buffer_limit_matches_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let (a, b) = (&mut p.a, &mut p.b);
    let r = same(a, b, &["CONFIG", "GET", "client-output-buffer-limit"]);
    assert!(r.contains("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"));
    for v in [
        "pubsub 1mb 512kb 60",
        "normal 1 2 3 replica 4 5 6",
        "foo 1 2 3",
        "pubsub 1 2",
        "pubsub x 1 1",
        "pubsub 1 2 -1",
    ] {
        same(a, b, &["CONFIG", "SET", "client-output-buffer-limit", v]);
        same(a, b, &["CONFIG", "GET", "client-output-buffer-limit"]);
    }
}

#[test]
fn client_list_shows_subscriptions_and_cleanup_on_disconnect_and_kill() {
    let s = start(&[]);
    let mut admin = s.raw();
    let mut sub = s.raw();
    let id = sub.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim().to_string();
    sub.cmd(&["SUBSCRIBE", "a", "b"]);
    // One confirmation per channel: read the second before going on.
    sub.read_reply();
    sub.cmd(&["PSUBSCRIBE", "p*"]);
    sub.cmd(&["SSUBSCRIBE", "s"]);
    let list = admin.cmd(&["CLIENT", "LIST", "ID", &id]);
    assert!(
        list.contains(" flags=P db=0 sub=2 psub=1 ssub=1 "),
        "{list}"
    );
    let typed = admin.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert!(typed.contains(&format!("id={id} ")), "{typed}");
    assert!(!admin
        .cmd(&["CLIENT", "LIST", "TYPE", "normal"])
        .contains(&format!("id={id} ")));
    // Disconnecting drops every subscription.
    drop(sub);
    wait_for(
        &mut admin,
        &["PUBSUB", "NUMSUB", "a"],
        "*2\r\n$1\r\na\r\n:0\r\n",
    );
    assert_eq!(admin.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");
    assert_eq!(admin.cmd(&["PUBSUB", "SHARDCHANNELS"]), "*0\r\n");
    assert_eq!(admin.cmd(&["PUBLISH", "a", "x"]), ":0\r\n");
    // So does CLIENT KILL TYPE pubsub, which spares normal clients.
    let mut sub = s.raw();
    sub.cmd(&["SUBSCRIBE", "a"]);
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":1\r\n");
    assert!(sub.closed());
    wait_for(&mut admin, &["PUBSUB", "CHANNELS"], "*0\r\n");
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
    let info = admin.cmd(&["INFO", "stats"]);
    assert!(info.contains("pubsub_channels:0\r\n"), "{info}");
}

/// Repeats `args` until the reply is `want` (cleanup after a disconnect is asynchronous).
#[track_caller]
fn wait_for(c: &mut Raw, args: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = c.cmd(args);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{args:?} stayed {got:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn redis_crate_async_subscriber_receives_messages() {
    use futures_util::StreamExt;
    let s = start(&[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", s.port)).unwrap();
        let mut ps = client.get_async_pubsub().await.unwrap();
        ps.subscribe("news").await.unwrap();
        ps.psubscribe("ev.*").await.unwrap();
        let mut publisher = client.get_multiplexed_async_connection().await.unwrap();
        for (ch, msg) in [
            ("news", "one"),
            ("ev.start", "two"),
            ("other", "x"),
            ("news", "three"),
        ] {
            let _: i64 = redis::cmd("PUBLISH")
                .arg(ch)
                .arg(msg)
                .query_async(&mut publisher)
                .await
                .unwrap();
        }
        let mut stream = ps.on_message();
        let mut got = Vec::new();
        for _ in 0..3 {
            let m = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a message in time")
                .expect("stream open");
            let pattern: Option<String> = m.get_pattern().ok();
            got.push((
                m.get_channel_name().to_string(),
                m.get_payload::<String>().unwrap(),
                pattern,
            ));
        }
        assert_eq!(
            got,
            vec![
                ("news".into(), "one".into(), None),
                ("ev.start".into(), "two".into(), Some("ev.*".into())),
                ("news".into(), "three".into(), None),
            ]
        );
    });
}

/// The exact bytes of a RESP2 `message` push.
fn message_bytes(ch: &str, payload: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{ch}\r\n${}\r\n",
        ch.len(),
        payload.len()
    )
    .into_bytes();
    m.extend_from_slice(payload);
    m.extend_from_slice(b"\r\n");
    m
}

/// A raw subscriber connection: subscribes and consumes the confirmation.
fn subscriber(port: u16, ch: &str) -> BufReader<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut r = BufReader::new(s);
    r.get_mut()
        .write_all(&encode(&[b"SUBSCRIBE", ch.as_bytes()]))
        .unwrap();
    let want = format!("*3\r\n$9\r\nsubscribe\r\n${}\r\n{ch}\r\n:1\r\n", ch.len());
    let mut got = vec![0; want.len()];
    r.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), want);
    r
}

/// Sends PUBLISH commands in pipelined batches and returns every reply line.
fn publish_all(c: &mut Raw, ch: &str, payloads: impl Iterator<Item = Vec<u8>>) -> Vec<String> {
    let mut replies = Vec::new();
    let mut batch = Vec::new();
    let mut n = 0;
    let mut flush = |c: &mut Raw, batch: &mut Vec<u8>, n: &mut usize| {
        c.send(batch);
        batch.clear();
        for _ in 0..*n {
            let mut line = String::new();
            c.r.read_line(&mut line).unwrap();
            replies.push(line);
        }
        *n = 0;
    };
    for p in payloads {
        batch.extend_from_slice(&encode(&[b"PUBLISH", ch.as_bytes(), &p]));
        n += 1;
        if n == 100 {
            flush(c, &mut batch, &mut n);
        }
    }
    flush(c, &mut batch, &mut n);
    replies
}

#[test]
fn fifty_subscribers_receive_ten_thousand_messages_in_order() {
    const SUBS: usize = 50;
    const MSGS: usize = 10_000;
    let s = start(&[]);
    let readers: Vec<_> = (0..SUBS)
        .map(|_| {
            let mut r = subscriber(s.port, "fan");
            std::thread::spawn(move || {
                for i in 0..MSGS {
                    let want = message_bytes("fan", format!("m{i}").as_bytes());
                    let mut got = vec![0; want.len()];
                    r.read_exact(&mut got).unwrap();
                    assert_eq!(got, want, "message {i}");
                }
            })
        })
        .collect();
    let mut p = s.raw();
    let replies = publish_all(
        &mut p,
        "fan",
        (0..MSGS).map(|i| format!("m{i}").into_bytes()),
    );
    assert_eq!(replies.len(), MSGS);
    assert!(replies.iter().all(|r| r == &format!(":{SUBS}\r\n")));
    for r in readers {
        r.join().unwrap();
    }
}

#[test]
fn a_subscriber_that_never_reads_is_cut_off_at_the_limit() {
    const MSG: usize = 64 * 1024;
    const BATCH: usize = 4;
    const COUNT: usize = 1280;
    let s = Server::start(&[]);
    let mut p = s.raw();
    assert_eq!(
        p.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb 60"
        ]),
        "+OK\r\n"
    );
    let mut slow = s.raw();
    let slow_id = slow.cmd(&["CLIENT", "ID"]);
    let slow_id = slow_id.trim_start_matches(':').trim().to_string();
    assert_eq!(
        slow.cmd(&["SUBSCRIBE", "big"]),
        "*3\r\n$9\r\nsubscribe\r\n$3\r\nbig\r\n:1\r\n"
    );
    // The reading subscriber reports each message it got, so the publisher can stay within
    // the limit of what a reader that keeps up may lag behind.
    let mut fast = subscriber(s.port, "big");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for i in 0..COUNT {
            let want = message_bytes("big", &payload(i, MSG));
            let mut got = vec![0; want.len()];
            fast.read_exact(&mut got).unwrap();
            assert!(got == want, "message {i} differs");
            done_tx.send(i).unwrap();
        }
        // Kept open: the subscriber must still be counted below.
        fast
    });
    let rss_before = s.rss();
    let mut replies = Vec::new();
    let mut slowest = Duration::ZERO;
    for b in 0..COUNT / BATCH {
        let started = Instant::now();
        let r = publish_all(
            &mut p,
            "big",
            (b * BATCH..(b + 1) * BATCH).map(|i| payload(i, MSG)),
        );
        slowest = slowest.max(started.elapsed());
        replies.extend(r);
        let last = (b + 1) * BATCH - 1;
        while done_rx.recv().expect("the reading subscriber failed") < last {}
    }
    let _fast = reader.join().unwrap();
    // 80 MB went out, and no PUBLISH ever waited for the stuck subscriber.
    assert!(
        slowest < Duration::from_secs(5),
        "a PUBLISH batch took {slowest:?}"
    );
    assert_eq!(replies.len(), COUNT);
    assert_eq!(replies[0], ":2\r\n");
    assert_eq!(
        replies.last().unwrap(),
        ":1\r\n",
        "the stuck subscriber was dropped"
    );
    let list = p.cmd(&["CLIENT", "LIST"]);
    assert!(!list.contains(&format!("id={slow_id} ")), "{list}");
    assert_eq!(
        p.cmd(&["PUBSUB", "NUMSUB", "big"]),
        "*2\r\n$3\r\nbig\r\n:1\r\n"
    );
    // The server buffered at most about the limit for the stuck client, not the 80 MB sent.
    let grown = s.rss().saturating_sub(rss_before);
    assert!(grown < 32 << 20, "RSS grew by {grown} bytes");
    // The stuck client reads what the kernel held, then finds the connection closed.
    let mut sink = Vec::new();
    slow.r
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = slow.r.read_to_end(&mut sink);
    assert!(sink.len() < COUNT * MSG / 4, "got {} bytes", sink.len());
}

/// A payload of `len` bytes that differs per message.
fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut v = vec![b'a' + (i % 26) as u8; len];
    v[..8].copy_from_slice(format!("{i:08}").as_bytes());
    v
}
