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
