//! The binary's command line, config file, signals and protected mode.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shardis-server"))
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shardis-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("shardis server v="));
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: shardis-server"));
}

#[test]
fn bad_directive_names_file_line_and_directive() {
    let f = temp_file("bad.conf", "# fine\nport 7001\n\nmaxmemroy 10mb\n");
    let out = bin().arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.conf") && err.contains("line 4") && err.contains("maxmemroy"),
        "{err}"
    );

    let f = temp_file("bad2.conf", "port notaport\n");
    let out = bin().arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("port"), "{err}");

    let out = bin().args(["--protected-mode", "maybe"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("protected-mode"));

    let f = temp_file("bad3.conf", "requirepass \"unterminated\n");
    assert_eq!(bin().arg(&f).output().unwrap().status.code(), Some(1));
    assert_eq!(
        bin()
            .arg("/nonexistent/shardis.conf")
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn config_file_then_arguments() {
    let file_port = free_port();
    let port = free_port();
    let f = temp_file(
        "good.conf",
        &format!("port {file_port}\nbind 127.0.0.1\nrequirepass \"s3cret pass\"\ndatabases 4\n"),
    );
    let s = Server::start_raw(
        &[f.display().to_string(), "--port".into(), port.to_string()],
        port,
    );
    let mut c = s.raw();
    assert_eq!(c.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["AUTH", "s3cret pass"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SELECT", "4"]), "-ERR DB index is out of range\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "databases"]),
        "*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n"
    );
    let cfg = c.cmd(&["INFO", "server"]);
    assert!(cfg.contains("good.conf"), "{cfg}");
}

fn stops_cleanly_on(signal: &str) {
    let mut s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    let st = Command::new("kill")
        .args([signal, &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "exit status after {signal}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(c.closed(), "connections are dropped");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err(),
        "listener closed"
    );
}

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    stops_cleanly_on("-TERM");
    stops_cleanly_on("-INT");
}

#[test]
fn shutdown_command_exits_zero() {
    let mut s = Server::start(&[]);
    let mut c = s.raw();
    c.send_cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "server did not shut down");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn default_bind_accepts_loopback_in_protected_mode() {
    // No --bind: Redis's default of every interface, guarded by protected mode.
    let port = free_port();
    let s = Server::start_raw(&["--port".into(), port.to_string()], port);
    assert_eq!(s.raw().cmd(&["PING"]), "+PONG\r\n");
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "protected-mode"]),
        "*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n"
    );
    let _ = Stdio::null();
}

/// A network namespace joined to this one by a veth pair: a second host for tests, so a
/// connection can come from a non-loopback address. Removed on drop.
struct TestHost {
    ns: String,
    host_ip: String,
    peer_ip: String,
}

impl TestHost {
    fn create() -> Option<TestHost> {
        let root = Command::new("id").arg("-u").output().ok()?.stdout == b"0\n";
        if !root || Command::new("ip").arg("-V").output().is_err() {
            return None;
        }
        let id = std::process::id() % 100_000;
        let net = 1 + id % 250;
        let (ns, va, vb) = (
            format!("shardis{id}"),
            format!("shv{id}a"),
            format!("shv{id}b"),
        );
        let host = TestHost {
            ns: ns.clone(),
            host_ip: format!("10.213.{net}.1"),
            peer_ip: format!("10.213.{net}.2"),
        };
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), ns.clone()],
            vec![
                "link".into(),
                "add".into(),
                va.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                vb.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                vb.clone(),
                "netns".into(),
                ns.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{}/30", host.host_ip),
                "dev".into(),
                va.clone(),
            ],
            vec!["link".into(), "set".into(), va, "up".into()],
            vec![
                "-n".into(),
                ns.clone(),
                "addr".into(),
                "add".into(),
                format!("{}/30", host.peer_ip),
                "dev".into(),
                vb.clone(),
            ],
            vec![
                "-n".into(),
                ns.clone(),
                "link".into(),
                "set".into(),
                vb,
                "up".into(),
            ],
            vec![
                "-n".into(),
                ns,
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
        ];
        for s in steps {
            if !Command::new("ip").args(&s).status().ok()?.success() {
                return None;
            }
        }
        Some(host)
    }

    /// Sends `PING` from the other host to `port` on this one and returns the first reply line.
    fn ping_from_peer(&self, port: u16) -> String {
        let script = format!(
            "import socket; s=socket.create_connection(('{}',{port}),timeout=5); s.sendall(b'PING\\r\\n'); print(s.recv(4096).decode().splitlines()[0])",
            self.host_ip
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns, "python3", "-c", &script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

#[test]
fn protected_mode_denies_remote_peers() {
    let Some(host) = TestHost::create() else {
        eprintln!("SKIPPED: needs root and iproute2 to create a test host in a network namespace");
        return;
    };
    // Default bind, no password: remote peers are refused with Redis's text.
    let port = free_port();
    let s = Server::start_raw(&["--port".into(), port.to_string()], port);
    let reply = host.ping_from_peer(port);
    assert!(
        reply.starts_with("-DENIED Redis is running in protected mode"),
        "{reply}"
    );
    assert_eq!(s.raw().cmd(&["PING"]), "+PONG\r\n");
    drop(s);
    // With a password the remote peer gets in (and must authenticate).
    let port = free_port();
    let _s = Server::start_raw(
        &[
            "--port".into(),
            port.to_string(),
            "--requirepass".into(),
            "x".into(),
        ],
        port,
    );
    assert_eq!(
        host.ping_from_peer(port),
        "-NOAUTH Authentication required."
    );
    // With an explicit bind protected mode does not apply.
    let port = free_port();
    let _s = Server::start_raw(
        &[
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "0.0.0.0".into(),
        ],
        port,
    );
    assert_eq!(host.ping_from_peer(port), "+PONG");
}

#[test]
fn config_set_side_effects_apply_or_refuse_whole() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", dir, "loglevel", "debug"]),
        "+OK\r\n"
    );
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", s.pid())).unwrap();
    assert_eq!(cwd, std::fs::canonicalize(dir).unwrap());
    let r = c.cmd(&[
        "CONFIG",
        "SET",
        "loglevel",
        "warning",
        "dir",
        "/nonexistent/shardis",
    ]);
    assert!(r.starts_with("-ERR CONFIG SET failed"), "{r}");
    assert!(
        c.cmd(&["CONFIG", "GET", "loglevel"]).contains("debug"),
        "a refused CONFIG SET changes nothing"
    );
}

#[test]
fn config_set_port_rebinds_and_keeps_clients() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    // A port someone else holds is refused and changes nothing.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let r = c.cmd(&["CONFIG", "SET", "port", &busy_port]);
    assert!(r.starts_with("-ERR CONFIG SET failed"), "{r}");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{}\r\n",
            s.port.to_string().len(),
            s.port
        )
    );
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(Raw::connect(new_port).cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["PING"]),
        "+PONG\r\n",
        "existing clients stay connected"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_ok() {
        assert!(Instant::now() < deadline, "old port still accepting");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(c
        .cmd(&["INFO", "server"])
        .contains(&format!("tcp_port:{new_port}\r\n")));
}
