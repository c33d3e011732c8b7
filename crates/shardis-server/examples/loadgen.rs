//! Load generator for the benchmarks redis-benchmark cannot run: MULTI/EXEC transactions and
//! PUBLISH fan-out. Speaks raw RESP to any Redis-compatible server, so bench/run.py measures
//! shardis and redis-server with the same client. Depends on nothing of shardis.
//!
//! `loadgen multi <port> <clients> <seconds>`: each client loops on one pipelined
//! `MULTI; INCR ×5 (five keys of its own); EXEC` and waits for its replies. Prints
//! transactions per second.
//! `loadgen fanout <port> <subscribers> <messages>`: subscribers SUBSCRIBE one channel, four
//! publishers send `messages` 64-byte messages pipelined 16 deep, and the time until every
//! subscriber has every message gives delivered messages per second.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Reads until `lines` more CRLF-terminated lines have arrived (replies here are lines only).
async fn read_lines(s: &mut TcpStream, buf: &mut Vec<u8>, mut lines: usize) {
    let mut chunk = [0u8; 16384];
    loop {
        let mut used = 0;
        for (i, _) in buf.iter().enumerate().filter(|(_, &b)| b == b'\n') {
            lines -= 1;
            used = i + 1;
            if lines == 0 {
                break;
            }
        }
        buf.drain(..used);
        if lines == 0 {
            return;
        }
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn multi(port: u16, clients: usize, seconds: f64) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut tx = resp(&[b"MULTI"]);
            for k in 0..5 {
                let key = format!("tx:{c}:{k}");
                tx.extend(resp(&[b"INCR", key.as_bytes()]));
            }
            tx.extend(resp(&[b"EXEC"]));
            let mut buf = Vec::new();
            while Instant::now() < deadline {
                s.write_all(&tx).await.unwrap();
                // +OK, five +QUEUED, then *5 and five integers.
                read_lines(&mut s, &mut buf, 12).await;
                done.fetch_add(1, Relaxed);
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0}", done.load(Relaxed) as f64 / secs);
}

async fn fanout(port: u16, subscribers: usize, messages: usize) {
    let payload = vec![b'x'; 64];
    let message = resp(&[b"message", b"ch", &payload]);
    let want = (messages * message.len()) as u64;
    let mut subs = Vec::new();
    for _ in 0..subscribers {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(&resp(&[b"SUBSCRIBE", b"ch"])).await.unwrap();
        let mut buf = Vec::new();
        read_lines(&mut s, &mut buf, 6).await;
        subs.push(s);
    }
    let start = Instant::now();
    let readers: Vec<_> = subs
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut got = 0u64;
                let mut chunk = vec![0u8; 65536];
                while got < want {
                    let n = s.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "subscriber was disconnected");
                    got += n as u64;
                }
            })
        })
        .collect();
    let publishers: Vec<_> = (0..4)
        .map(|_| {
            let cmd = resp(&[b"PUBLISH", b"ch", &payload]);
            tokio::spawn(async move {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                let mut buf = Vec::new();
                let batch: Vec<u8> = cmd.repeat(16);
                for _ in 0..messages / 4 / 16 {
                    s.write_all(&batch).await.unwrap();
                    read_lines(&mut s, &mut buf, 16).await;
                }
            })
        })
        .collect();
    for p in publishers {
        p.await.unwrap();
    }
    for r in readers {
        r.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0}", (subscribers * messages) as f64 / secs);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let usage =
        "usage: loadgen multi <port> <clients> <seconds> | fanout <port> <subscribers> <messages>";
    if a.len() != 5 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let port: u16 = a[2].parse().expect("port");
    match a[1].as_str() {
        "multi" => multi(port, a[3].parse().unwrap(), a[4].parse().unwrap()).await,
        "fanout" => {
            let m: usize = a[4].parse().unwrap();
            // Whole batches: four publishers, sixteen at a time.
            fanout(port, a[3].parse().unwrap(), m - m % 64).await
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
