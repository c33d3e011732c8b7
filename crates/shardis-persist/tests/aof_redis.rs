//! End-to-end checks against a real redis-server 7.0: its manifest and incr files read back with our parser and reader.
//!
//! These tests need redis-server and fail without it; they depend on nothing
//! but std, the crate under test and the child process.

mod aof_support;

use std::fs;
use std::path::Path;

use aof_support::{cmd, show, Redis, Reply, TempDir};
use shardis_persist::aof::{
    base_file_name, encode_command, incr_file_name, manifest_file_name, plan,
    starts_with_rdb_preamble, AofError, AofFile, AofFileKind, AofReader, BaseFormat, Command,
    Manifest, Plan,
};

/// Reads every command of a file, failing the test on any error.
fn read_all(path: &Path) -> Vec<Command> {
    let bytes = fs::read(path).expect("read aof file");
    let mut out = Vec::new();
    for item in AofReader::new(&bytes[..]) {
        out.push(item.unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    // Every command must re-encode to exactly the bytes Redis wrote.
    for c in &out {
        let args: Vec<&[u8]> = c.args.iter().map(|a| &a[..]).collect();
        let mut buf = Vec::new();
        encode_command(&mut buf, &args);
        assert_eq!(&bytes[c.offset as usize..c.end as usize], &buf[..]);
    }
    out
}

fn assert_commands(got: &[Command], expected: &[Vec<Vec<u8>>]) {
    let got: Vec<&Vec<Vec<u8>>> = got.iter().map(|c| &c.args).collect();
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(*g, e, "command {i}: got {} expected {}", show(g), show(e));
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "got {:?}",
        got.iter().map(|g| show(g)).collect::<Vec<_>>()
    );
}

fn ok(reply: Reply) {
    assert!(
        !matches!(reply, Reply::Error(_)),
        "unexpected error reply {reply:?}"
    );
}

fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

#[test]
fn redis_multipart_aof_reads_back_exactly() {
    let tmp = TempDir::new("e2e");
    let dir = tmp.path();
    let mut redis = Redis::start(
        dir,
        &[
            "--appendonly",
            "yes",
            "--aof-disable-auto-gc",
            "yes",
            "--aof-use-rdb-preamble",
            "yes",
        ],
    );

    let binary: &[u8] = b"a\r\nb\0c\r\n*3\r\n$1\r\n";
    let big = pseudo_random_bytes(1 << 20, 1);
    let mut expected1: Vec<Vec<Vec<u8>>> = vec![cmd(&[b"SELECT", b"0"])];
    let phase1: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"k1", b"v1"],
        vec![b"SET", b"bin\r\nkey", binary],
        vec![b"RPUSH", b"list", b"a", b"b", b"c"],
        vec![b"SET", b"big", &big],
        vec![b"HSET", b"h", b"f1", b"v1", b"f2", b""],
    ];
    for c in &phase1 {
        ok(redis.cmd(c));
        expected1.push(cmd(c));
    }
    ok(redis.cmd(&[b"SELECT", b"3"]));
    ok(redis.cmd(&[b"SET", b"k3", b"x"]));
    expected1.push(cmd(&[b"SELECT", b"3"]));
    expected1.push(cmd(&[b"SET", b"k3", b"x"]));
    ok(redis.cmd(&[b"SELECT", b"7"]));
    ok(redis.cmd(&[b"MULTI"]));
    ok(redis.cmd(&[b"SET", b"m", b"1"]));
    ok(redis.cmd(&[b"INCR", b"m"]));
    ok(redis.cmd(&[b"APPEND", b"m", b"\r\n"]));
    ok(redis.cmd(&[b"EXEC"]));
    // The transaction's SELECT comes before its MULTI.
    expected1.push(cmd(&[b"SELECT", b"7"]));
    expected1.push(cmd(&[b"MULTI"]));
    expected1.push(cmd(&[b"SET", b"m", b"1"]));
    expected1.push(cmd(&[b"INCR", b"m"]));
    expected1.push(cmd(&[b"APPEND", b"m", b"\r\n"]));
    expected1.push(cmd(&[b"EXEC"]));
    ok(redis.cmd(&[b"SELECT", b"0"]));
    ok(redis.cmd(&[b"DEL", b"k1"]));
    expected1.push(cmd(&[b"SELECT", b"0"]));
    expected1.push(cmd(&[b"DEL", b"k1"]));
    // A command that changes nothing is not written.
    ok(redis.cmd(&[b"DEL", b"no-such-key"]));

    redis.bgrewriteaof();

    let big2 = pseudo_random_bytes(600_000, 2);
    let mut expected2: Vec<Vec<Vec<u8>>> = vec![cmd(&[b"SELECT", b"0"])];
    let phase2: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"after", b"1"],
        vec![b"SADD", b"s", b"x", b"y", b"\xff\x00"],
        vec![b"SET", b"big2", &big2],
        vec![b"LPUSH", b"list", b"\r\n", b"*1\r\n$0\r\n\r\n"],
    ];
    for c in &phase2 {
        ok(redis.cmd(c));
        expected2.push(cmd(c));
    }
    ok(redis.cmd(&[b"SELECT", b"15"]));
    ok(redis.cmd(&[b"SET", b"k15", b""]));
    expected2.push(cmd(&[b"SELECT", b"15"]));
    expected2.push(cmd(&[b"SET", b"k15", b""]));
    redis.stop();

    let aof_dir = dir.join("appendonlydir");
    let manifest_bytes = fs::read(aof_dir.join(manifest_file_name("appendonly.aof"))).unwrap();
    let manifest = Manifest::parse(&manifest_bytes).unwrap();
    assert_eq!(manifest.to_bytes(), manifest_bytes, "manifest round trip");

    // Startup created base 1 and incr 1; the rewrite opened incr 2, wrote base 2
    // and moved base 1 and incr 1 to history (kept: auto gc is disabled).
    let file = |name: String, seq, kind| AofFile { name, seq, kind };
    assert_eq!(
        manifest.base,
        Some(file(
            base_file_name("appendonly.aof", 2, true),
            2,
            AofFileKind::Base
        ))
    );
    assert_eq!(
        manifest.history,
        vec![
            file(incr_file_name("appendonly.aof", 1), 1, AofFileKind::History),
            file(
                base_file_name("appendonly.aof", 1, true),
                1,
                AofFileKind::History
            ),
        ]
    );
    assert_eq!(
        manifest.incrs,
        vec![file(
            incr_file_name("appendonly.aof", 2),
            2,
            AofFileKind::Incr
        )]
    );

    // The same edits on our side reproduce Redis's manifest byte for byte.
    let mut ours = Manifest::new();
    ours.new_base("appendonly.aof", true);
    ours.last_incr_or_new("appendonly.aof");
    ours.new_incr("appendonly.aof");
    ours.new_base("appendonly.aof", true);
    ours.mark_rewritten_incrs_as_history(true);
    assert_eq!(ours.to_bytes(), manifest_bytes);
    assert_eq!(ours, manifest);

    let incr1 = read_all(&aof_dir.join(incr_file_name("appendonly.aof", 1)));
    assert_commands(&incr1, &expected1);
    let incr2 = read_all(&aof_dir.join(incr_file_name("appendonly.aof", 2)));
    assert_commands(&incr2, &expected2);

    // Both bases are RDB files; the plan says so and lists the live files only.
    let base2 = fs::read(aof_dir.join(base_file_name("appendonly.aof", 2, true))).unwrap();
    assert!(starts_with_rdb_preamble(&base2));
    match plan(dir, "appendonlydir", "appendonly.aof").unwrap() {
        Some(Plan::MultiPart {
            manifest: m,
            base: Some(base),
            incrs,
        }) => {
            assert_eq!(m, manifest);
            assert_eq!(base.format, BaseFormat::Rdb);
            assert_eq!(base.len, base2.len() as u64);
            assert_eq!(base.path, aof_dir.join("appendonly.aof.2.base.rdb"));
            assert_eq!(incrs.len(), 1);
            assert_eq!(incrs[0].name, "appendonly.aof.2.incr.aof");
            assert_eq!(incrs[0].format, BaseFormat::Aof);
        }
        other => panic!("unexpected plan {other:?}"),
    }
}

#[test]
fn redis_aof_base_and_timestamps() {
    let tmp = TempDir::new("aofbase");
    let dir = tmp.path();
    let mut redis = Redis::start(
        dir,
        &[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--aof-timestamp-enabled",
            "yes",
            "--appendfilename",
            "my file.aof",
            "--appenddirname",
            "aofs",
        ],
    );
    ok(redis.cmd(&[b"SET", b"a", b"1"]));
    ok(redis.cmd(&[b"RPUSH", b"l", b"x", b"\r\n"]));
    ok(redis.cmd(&[b"SELECT", b"2"]));
    ok(redis.cmd(&[b"SET", b"b", b"2"]));
    redis.bgrewriteaof();
    // Redis annotates only when the second changed since the last annotation.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(redis.cmd(&[b"SET", b"c", b"3"]));
    redis.stop();

    let aof_dir = dir.join("aofs");
    let manifest_bytes = fs::read(aof_dir.join("my file.aof.manifest")).unwrap();
    let manifest = Manifest::parse(&manifest_bytes).unwrap();
    // A name with a space is quoted, as sdscatrepr does.
    assert!(manifest_bytes.starts_with(b"file \"my file.aof.2.base.aof\" seq 2 type b\n"));
    assert_eq!(manifest.to_bytes(), manifest_bytes);
    // Auto gc removed the history.
    assert!(manifest.history.is_empty());

    // The AOF-format base holds the dataset as commands, SELECT first.
    let base = read_all(&aof_dir.join("my file.aof.2.base.aof"));
    assert!(base.len() >= 4, "{base:?}");
    assert_eq!(base[0].args, cmd(&[b"SELECT", b"0"]));
    assert!(base.iter().any(|c| c.args == cmd(&[b"SELECT", b"2"])));
    assert!(base
        .iter()
        .any(|c| c.args == cmd(&[b"RPUSH", b"l", b"x", b"\r\n"])));

    // Timestamp annotations are skipped; the commands are all there.
    let incr_path = aof_dir.join("my file.aof.2.incr.aof");
    let raw = fs::read(&incr_path).unwrap();
    assert!(
        raw.starts_with(b"#TS:"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    let incr = read_all(&incr_path);
    assert_commands(
        &incr,
        &[cmd(&[b"SELECT", b"2"]), cmd(&[b"SET", b"c", b"3"])],
    );
    assert!(
        incr[0].offset > 0,
        "the command starts after the annotation"
    );

    match plan(dir, "aofs", "my file.aof").unwrap() {
        Some(Plan::MultiPart {
            base: Some(base), ..
        }) => assert_eq!(base.format, BaseFormat::Aof),
        other => panic!("unexpected plan {other:?}"),
    }
}

/// Cuts Redis's last incr file inside its last command and checks that our
/// Truncated offset is where Redis truncates with aof-load-truncated.
#[test]
fn truncated_offset_matches_redis() {
    let tmp = TempDir::new("trunc");
    let dir = tmp.path();
    let mut redis = Redis::start(dir, &["--appendonly", "yes"]);
    ok(redis.cmd(&[b"SET", b"a", b"1"]));
    ok(redis.cmd(&[b"SET", b"b", b"22222222"]));
    ok(redis.cmd(&[b"SET", b"c", b"333333333333"]));
    redis.stop();

    let incr_path = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    let bytes = fs::read(&incr_path).unwrap();
    let cut = bytes.len() - 7;
    fs::write(&incr_path, &bytes[..cut]).unwrap();
    let ours = AofReader::new(&bytes[..cut])
        .find_map(|r| r.err())
        .expect("an error");
    let offset = match ours {
        AofError::Truncated { offset } => offset,
        other => panic!("expected Truncated, got {other}"),
    };

    // Without aof-load-truncated Redis refuses to start.
    let out = aof_support::run_expecting_exit(
        dir,
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
    );
    assert!(
        out.contains("Unexpected end of file reading the append only file"),
        "{out}"
    );

    let mut redis = Redis::start(dir, &["--appendonly", "yes", "--aof-load-truncated", "yes"]);
    assert_eq!(
        redis.cmd(&[b"GET", b"b"]),
        Reply::Bulk(Some(b"22222222".to_vec()))
    );
    assert_eq!(redis.cmd(&[b"GET", b"c"]), Reply::Bulk(None));
    redis.stop();
    let log = fs::read_to_string(dir.join("redis.log")).unwrap();
    let needle = format!("Truncating the AOF appendonly.aof.1.incr.aof at offset {offset} !!!");
    assert!(log.contains(&needle), "expected {needle:?} in\n{log}");
}

/// Every prefix of an incr file Redis wrote (with timestamp annotations): the
/// complete commands come back, then Truncated at the start of the cut
/// command or annotation, or a clean end exactly at a boundary.
#[test]
fn every_cut_of_a_redis_incr_file() {
    let tmp = TempDir::new("cuts");
    let dir = tmp.path();
    let mut redis = Redis::start(
        dir,
        &["--appendonly", "yes", "--aof-timestamp-enabled", "yes"],
    );
    ok(redis.cmd(&[b"SET", b"a", b"1"]));
    ok(redis.cmd(&[b"SET", b"bin", b"\r\n\0\r\n"]));
    ok(redis.cmd(&[b"SELECT", b"4"]));
    ok(redis.cmd(&[b"RPUSH", b"l", b"x", b"", b"y"]));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(redis.cmd(&[b"MULTI"]));
    ok(redis.cmd(&[b"INCR", b"n"]));
    ok(redis.cmd(&[b"HSET", b"h", b"f", b"v"]));
    ok(redis.cmd(&[b"EXEC"]));
    let big = pseudo_random_bytes(3000, 3);
    ok(redis.cmd(&[b"SET", b"big", &big]));
    redis.stop();

    let path = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    let data = fs::read(&path).unwrap();
    let all = read_all(&path);
    assert_eq!(
        all.len(),
        10,
        "{:?}",
        all.iter().map(|c| show(&c.args)).collect::<Vec<_>>()
    );
    // Whatever lies between commands is annotation lines.
    let mut units: Vec<(usize, usize)> = Vec::new();
    let mut prev = 0usize;
    for c in &all {
        let gap = &data[prev..c.offset as usize];
        let mut start = prev;
        for line in gap.split_inclusive(|&b| b == b'\n') {
            assert!(
                line.starts_with(b"#TS:"),
                "{:?}",
                String::from_utf8_lossy(line)
            );
            units.push((start, start + line.len()));
            start += line.len();
        }
        units.push((c.offset as usize, c.end as usize));
        prev = c.end as usize;
    }
    assert_eq!(prev, data.len());
    assert!(units.len() >= 12, "two annotations expected: {units:?}");

    for cut in 0..=data.len() {
        let mut reader = AofReader::new(&data[..cut]);
        let mut got = Vec::new();
        let err = loop {
            match reader.next_command() {
                Ok(Some(c)) => got.push(c),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let complete: Vec<&Command> = all.iter().filter(|c| c.end as usize <= cut).collect();
        assert_eq!(got.len(), complete.len(), "cut {cut}");
        assert!(got.iter().zip(&complete).all(|(g, c)| &g == c), "cut {cut}");
        match units.iter().find(|(s, e)| *s < cut && cut < *e) {
            None => assert!(err.is_none(), "cut {cut}: {err:?}"),
            Some((s, _)) => assert!(
                matches!(err, Some(AofError::Truncated { offset }) if offset as usize == *s),
                "cut {cut}: {err:?}"
            ),
        }
    }
}

/// A damaged byte is a format error for Redis too, and ours points at it.
#[test]
fn corrupt_byte_is_bad_format_for_redis_too() {
    let tmp = TempDir::new("corrupt");
    let dir = tmp.path();
    let mut redis = Redis::start(dir, &["--appendonly", "yes"]);
    ok(redis.cmd(&[b"SET", b"a", b"1"]));
    ok(redis.cmd(&[b"SET", b"b", b"2"]));
    redis.stop();
    let path = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    let mut data = fs::read(&path).unwrap();
    let second_set = read_all(&path)[2].offset as usize;
    let pos = second_set + 4; // the '$' of the command name
    assert_eq!(data[pos], b'$');
    data[pos] = b'%';
    fs::write(&path, &data).unwrap();
    assert!(matches!(
        AofReader::new(&data[..]).find_map(|r| r.err()),
        Some(AofError::Corrupt { offset, .. }) if offset as usize == pos
    ));
    let log = aof_support::run_expecting_exit(
        dir,
        &["--appendonly", "yes", "--aof-load-truncated", "yes"],
    );
    assert!(
        log.contains("Bad file format reading the append only file"),
        "{log}"
    );
}
