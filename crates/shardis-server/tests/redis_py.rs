//! redis-py against shardis: its PubSub objects, transactional pipelines with WATCH,
//! keyspace notifications and its RESP3 client-side cache, by running tests/py's script
//! against redis-server (to check the script) and then against shardis.

mod common;
use common::*;
use std::process::Command;

fn redis_py_available() -> bool {
    Command::new("python3")
        .args(["-c", "import redis, redis.cache"])
        .status()
        .is_ok_and(|s| s.success())
}

fn run_script(port: u16) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/redis_py_check.py");
    let out = Command::new("python3")
        .args([script, &port.to_string()])
        .output()
        .expect("python3 runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn redis_py_pubsub_pipelines_and_cache_work() {
    if !redis_py_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-py is required in CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: redis-py is not installed");
        return;
    }
    if let Some(redis) = Server::redis(&[]) {
        let (ok, text) = run_script(redis.port);
        assert!(ok, "the script fails against redis-server itself:\n{text}");
    }
    let s = Server::start(&[]);
    let (ok, text) = run_script(s.port);
    assert!(ok, "redis-py against shardis:\n{text}");
}
