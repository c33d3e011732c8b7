//! Redis's own test fixtures (tests/fixtures/README.md): old-encoding files and corrupt
//! RESTORE payloads, each checked against what a real redis-server 7.0 makes of it. Needs
//! `redis-server` on the PATH; the tests fail without it.

mod support;

use shardis_keyspace::EncodingLimits;
use shardis_persist::{restore, LoadOptions};
use std::path::PathBuf;
use support::{assert_same, canon, limit_args, load_file, Redis, Resp, Scratch};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads `name` into redis-server (with `lim` as its thresholds) and with the library, and
/// checks both hold the same keys, values, expiries and encodings.
fn differential(name: &str, lim: EncodingLimits) -> shardis_persist::LoadSummary {
    let dir = Scratch::new(&format!("fixture-{name}-{}", lim.hash_max_listpack_entries));
    std::fs::copy(fixture(name), dir.0.join(name)).unwrap();
    let args = limit_args(&lim);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = Redis::start_with(&dir.0, name, &args);
    let theirs = r.contents();
    let opts = LoadOptions {
        limits: lim,
        ..LoadOptions::default()
    };
    let (ours, sum) = load_file(&fixture(name), &opts);
    assert_same(&ours, &theirs);
    sum
}

#[test]
fn old_encoding_fixtures_load_as_redis_loads_them() {
    for name in [
        "encodings.rdb",
        "hash-ziplist.rdb",
        "hash-zipmap.rdb",
        "list-quicklist.rdb",
        "zset-ziplist.rdb",
        "scriptbackup.rdb",
    ] {
        let sum = differential(name, EncodingLimits::default());
        assert!(
            sum.keys > 0 || name == "scriptbackup.rdb",
            "{name}: {sum:?}"
        );
    }
}

#[test]
fn fixtures_convert_at_tight_limits_as_redis_does() {
    // Redis's convert-*-on-load tests: entries or value limits of 1 force the large encodings.
    let tight = EncodingLimits {
        hash_max_listpack_entries: 1,
        zset_max_listpack_entries: 1,
        set_max_intset_entries: 1,
        ..EncodingLimits::default()
    };
    let short = EncodingLimits {
        hash_max_listpack_value: 1,
        zset_max_listpack_value: 1,
        ..EncodingLimits::default()
    };
    for name in [
        "encodings.rdb",
        "hash-ziplist.rdb",
        "hash-zipmap.rdb",
        "zset-ziplist.rdb",
    ] {
        differential(name, tight);
        differential(name, short);
    }
}

#[test]
fn empty_keys_are_skipped_as_redis_skips_them() {
    let sum = differential("corrupt_empty_keys.rdb", EncodingLimits::default());
    assert_eq!((sum.keys, sum.empty_skipped), (0, 9));
}

#[test]
fn a_corrupt_ziplist_file_is_refused() {
    let f = std::fs::File::open(fixture("corrupt_ziplist.rdb")).unwrap();
    let e = shardis_persist::load(f, &LoadOptions::default(), |_| {}).unwrap_err();
    assert!(e.to_string().contains(" at offset "), "{e}");
}

#[test]
fn corrupt_restore_payloads_get_redis_verdicts() {
    let text = std::fs::read_to_string(fixture("corrupt-dump-payloads.txt")).unwrap();
    let dir = Scratch::new("corrupt-payloads");
    let mut r = Redis::start_with(&dir.0, "none.rdb", &["--sanitize-dump-payload", "yes"]);
    let lim = EncodingLimits::default();
    let (mut refused, mut accepted) = (0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, hex) = line.split_once(' ').unwrap();
        let payload: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let ours = restore(&payload, &lim);
        r.ok(&["DEL", "k"]);
        match r.cmd(&[&b"RESTORE"[..], b"k", b"0", &payload]) {
            Resp::Err(e) => {
                let ours = ours.expect_err(&format!("{name}: redis refused ({e}), we accepted"));
                assert!(
                    e.ends_with(&ours.to_string()),
                    "{name}: redis said {e:?}, we said {ours}"
                );
                refused += 1;
            }
            _ => {
                // Redis accepted it: we must too (streams aside, which we do not load), and
                // hold the same value.
                if matches!(payload[0], 15 | 19 | 21) {
                    continue;
                }
                let v = ours.unwrap_or_else(|e| panic!("{name}: redis accepted, we said {e}"));
                let mut theirs = r.contents();
                theirs.retain(|k, _| k.1 == b"k");
                let mut mine = support::Keyspace::new();
                mine.insert((0, b"k".to_vec()), canon(&v, None));
                assert_same(&mine, &theirs);
                accepted += 1;
            }
        }
    }
    eprintln!("redis refused {refused} payloads and accepted {accepted} we load");
    assert!(refused >= 10, "{refused}");
}

#[test]
fn damaged_fixtures_never_panic() {
    // With the checksum off, damage reaches every old-encoding decoder.
    let files: Vec<Vec<u8>> = [
        "encodings.rdb",
        "hash-ziplist.rdb",
        "hash-zipmap.rdb",
        "list-quicklist.rdb",
        "zset-ziplist.rdb",
        "corrupt_empty_keys.rdb",
        "scriptbackup.rdb",
        "corrupt_ziplist.rdb",
    ]
    .iter()
    .map(|f| std::fs::read(fixture(f)).unwrap())
    .collect();
    let opts = LoadOptions {
        verify_checksum: false,
        ..LoadOptions::default()
    };
    let mut rng = fastrand::Rng::with_seed(8);
    for round in 0..30_000 {
        let mut d = files[round % files.len()].clone();
        for _ in 0..rng.usize(1..5) {
            let i = rng.usize(..d.len());
            match rng.u8(..3) {
                0 => d[i] = rng.u8(..),
                1 => d[i] ^= 1 << rng.u8(..8),
                _ => d.truncate(i.max(9)),
            }
        }
        let _ = shardis_persist::load(&d[..], &opts, |_| {});
    }
}
