//! Manifest parsing errors, round trips and the loading plan, compared with what redis-server 7.0 logs when it refuses to start.
//!
//! These tests need redis-server and fail without it; they depend on nothing
//! but std, the crate under test and the child process.

mod aof_support;

use std::fs;
use std::path::Path;

use aof_support::{run_expecting_exit, Redis, TempDir};
use shardis_persist::aof::{
    plan, AofFile, AofFileKind, BaseFormat, Manifest, ManifestError, ManifestErrorKind, Plan,
    PlanError,
};

/// Writes `manifest` as Redis's manifest in a fresh server dir and returns Redis's log.
fn redis_on_manifest(manifest: &[u8], files: &[&str]) -> String {
    let tmp = TempDir::new("manifest");
    let aof_dir = tmp.path().join("appendonlydir");
    fs::create_dir_all(&aof_dir).unwrap();
    fs::write(aof_dir.join("appendonly.aof.manifest"), manifest).unwrap();
    for name in files {
        fs::write(aof_dir.join(name), b"").unwrap();
    }
    run_expecting_exit(tmp.path(), &["--appendonly", "yes"])
}

/// Checks that our error names the same reason, line number and line as Redis's log.
fn assert_same_error(manifest: &[u8], kind: ManifestErrorKind, line: Option<usize>) {
    let err: ManifestError = Manifest::parse(manifest).expect_err("parse should fail");
    assert_eq!(err.kind, kind, "{err}");
    assert_eq!(err.line.as_ref().map(|l| l.0), line, "{err}");
    let log = redis_on_manifest(manifest, &[]);
    assert!(
        log.contains("*** FATAL AOF MANIFEST FILE ERROR ***"),
        "{log}"
    );
    assert!(log.contains(&err.kind.to_string()), "{err} not in\n{log}");
    match &err.line {
        Some((number, text)) => {
            assert!(
                log.contains(&format!("Reading the manifest file, at line {number}\n")),
                "{log}"
            );
            assert!(log.contains(&format!(">>> '{text}'\n")), "{log}");
        }
        None => assert!(!log.contains("Reading the manifest file"), "{log}"),
    }
}

#[test]
fn manifest_errors_match_redis() {
    use ManifestErrorKind::*;
    let cases: Vec<(Vec<u8>, ManifestErrorKind, Option<usize>)> = vec![
        (b"".to_vec(), Empty, None),
        (
            b"file a seq 1 type b\nfile b seq 2 type b\n".to_vec(),
            DuplicateBase,
            Some(2),
        ),
        (b"file a seq 1 type x\n".to_vec(), UnknownType, Some(1)),
        (b"file a type b\n".to_vec(), InvalidFormat, Some(1)),
        (b"file a seq abc type b\n".to_vec(), InvalidFormat, Some(1)),
        (b"file a seq 0 type b\n".to_vec(), InvalidFormat, Some(1)),
        (
            b"file a seq 1 type b extra\n".to_vec(),
            InvalidFormat,
            Some(1),
        ),
        (b"file a seq 1 type \"\"\n".to_vec(), InvalidFormat, Some(1)),
        (b"file dir/a seq 1 type b\n".to_vec(), NameIsPath, Some(1)),
        (b"file a\\\\b seq 1 type b\n".to_vec(), NameIsPath, Some(1)),
        (
            b"# comment\nfile a seq 1 type b\n\nfile c seq 1 type i\n".to_vec(),
            InvalidFormat,
            Some(3),
        ),
        (
            b"file a seq 3 type i\nfile b seq 2 type i\n".to_vec(),
            NonMonotonicSeq,
            Some(2),
        ),
        (b"file \"a seq 1 type b\n".to_vec(), InvalidFormat, Some(1)),
        (
            b"file \"a\"b seq 1 type b\n".to_vec(),
            InvalidFormat,
            Some(1),
        ),
        // fgets reads 1024 bytes at a time, so even the last line needs its newline.
        (b"file a seq 1 type b".to_vec(), TooLongLine, None),
        (
            format!("file {} seq 1 type b\n", "x".repeat(1100)).into_bytes(),
            TooLongLine,
            None,
        ),
        (b"file a\0 seq 1 type b\n".to_vec(), TooLongLine, None),
    ];
    for (manifest, kind, line) in cases {
        assert_same_error(&manifest, kind, line);
    }
}

#[test]
fn manifest_lenient_forms_redis_accepts() {
    // Keys are case-insensitive, unknown keys are ignored, only the first byte
    // of the type counts, the first 1023 bytes plus a newline still fit.
    let long_line = format!("{:1003}file i2 seq 4 type i\n", "");
    assert_eq!(long_line.len(), 1024);
    let text = format!(
        "# a comment\nFILE \"base one\" Seq 5 TYPE base\n  file h seq 9 type history  \nfile i1 seq 3 type i future yes\n{long_line}"
    );
    let m = Manifest::parse(text.as_bytes()).unwrap();
    assert_eq!(
        m.base,
        Some(AofFile {
            name: "base one".into(),
            seq: 5,
            kind: AofFileKind::Base
        })
    );
    assert_eq!(m.history.len(), 1);
    assert_eq!(m.incrs.len(), 2);
    assert_eq!(m.incrs[1].name, "i2");
    assert_eq!(m.current_base_seq(), 5);
    assert_eq!(m.current_incr_seq(), 4);

    // Redis loads this manifest too: it starts and keeps the files.
    let tmp = TempDir::new("lenient");
    let aof_dir = tmp.path().join("appendonlydir");
    fs::create_dir_all(&aof_dir).unwrap();
    fs::write(aof_dir.join("appendonly.aof.manifest"), &text).unwrap();
    for f in ["base one", "i1", "i2"] {
        fs::write(aof_dir.join(f), b"").unwrap();
    }
    let redis = Redis::start(tmp.path(), &["--appendonly", "yes"]);
    redis.stop();
    let rewritten = fs::read(aof_dir.join("appendonly.aof.manifest")).unwrap();
    let again = Manifest::parse(&rewritten).unwrap();
    assert_eq!(again.base, m.base);
    assert_eq!(again.incrs, m.incrs);
}

#[test]
fn manifest_round_trips_generated_names() {
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet: Vec<char> = (1u8..0x80)
        .map(char::from)
        .filter(|c| *c != '/' && *c != '\\')
        .chain(['é', 'ß', '\u{7f}'])
        .collect();
    for _ in 0..2000 {
        let mut m = Manifest::new();
        let name = |rng: &mut fastrand::Rng| -> String {
            let len = rng.usize(0..20);
            (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect()
        };
        if rng.bool() {
            m.base = Some(AofFile {
                name: name(&mut rng),
                seq: 1 + rng.u64(..1 << 40),
                kind: AofFileKind::Base,
            });
        }
        let mut seq = 0;
        for _ in 0..rng.usize(0..4) {
            seq += 1 + rng.u64(..100);
            m.incrs.push(AofFile {
                name: name(&mut rng),
                seq,
                kind: AofFileKind::Incr,
            });
        }
        for _ in 0..rng.usize(0..3) {
            m.history.push(AofFile {
                name: name(&mut rng),
                seq: 1 + rng.u64(..100),
                kind: AofFileKind::History,
            });
        }
        let bytes = m.to_bytes();
        if bytes.is_empty() {
            assert_eq!(
                Manifest::parse(&bytes).unwrap_err().kind,
                ManifestErrorKind::Empty
            );
            continue;
        }
        let parsed = Manifest::parse(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&bytes)));
        assert_eq!(parsed.base, m.base);
        assert_eq!(parsed.incrs, m.incrs);
        assert_eq!(parsed.history, m.history);
        assert_eq!(parsed.to_bytes(), bytes);
    }
}

#[test]
fn manifest_parse_never_panics_on_random_bytes() {
    let mut rng = fastrand::Rng::with_seed(11);
    let pieces: [&[u8]; 12] = [
        b"file ", b"seq ", b"type ", b"b", b"i", b"h", b"\n", b"\"", b"'", b"\\x4", b" 12", b"#",
    ];
    for _ in 0..20000 {
        let mut data = Vec::new();
        for _ in 0..rng.usize(0..30) {
            if rng.bool() {
                data.extend_from_slice(pieces[rng.usize(..pieces.len())]);
            } else {
                data.push(rng.u8(..));
            }
        }
        let _ = Manifest::parse(&data);
    }
}

#[test]
fn rewrite_edits_mirror_redis() {
    let name = "appendonly.aof";
    let mut m = Manifest::new();
    // Startup on an empty dataset: base 1 and incr 1.
    m.new_base(name, true);
    assert_eq!(m.last_incr_or_new(name).seq, 1);
    assert_eq!(m.last_incr_or_new(name).seq, 1);
    // A rewrite that fails leaves its incr; the next one adds another.
    m.new_incr(name);
    m.new_incr(name);
    m.new_base(name, false);
    m.mark_rewritten_incrs_as_history(true);
    assert_eq!(
        String::from_utf8(m.to_bytes()).unwrap(),
        "file appendonly.aof.2.base.aof seq 2 type b\n\
         file appendonly.aof.1.incr.aof seq 1 type h\n\
         file appendonly.aof.2.incr.aof seq 2 type h\n\
         file appendonly.aof.1.base.rdb seq 1 type h\n\
         file appendonly.aof.3.incr.aof seq 3 type i\n"
    );
    let dropped = m.take_history();
    assert_eq!(dropped.len(), 3);
    // With AOF off every incr goes to history, and seqs keep counting.
    m.mark_rewritten_incrs_as_history(false);
    assert!(m.incrs.is_empty());
    m.take_history();
    assert_eq!(m.new_incr(name).name, "appendonly.aof.4.incr.aof");
    assert_eq!(
        Manifest::parse(&m.to_bytes()).unwrap().current_incr_seq(),
        4
    );
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
}

#[test]
fn plan_cases() {
    // Nothing at all.
    let tmp = TempDir::new("plan-none");
    assert!(plan(tmp.path(), "appendonlydir", "appendonly.aof")
        .unwrap()
        .is_none());
    // A directory without a manifest.
    fs::create_dir(tmp.path().join("appendonlydir")).unwrap();
    assert!(plan(tmp.path(), "appendonlydir", "appendonly.aof")
        .unwrap()
        .is_none());

    // An old single file next to no directory, or next to an empty one: upgrade.
    write(&tmp.path().join("appendonly.aof"), b"REDIS0009...");
    match plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap() {
        Some(Plan::Legacy { file, manifest }) => {
            assert_eq!(file.format, BaseFormat::Rdb);
            assert_eq!(file.path, tmp.path().join("appendonly.aof"));
            assert_eq!(manifest, Manifest::new());
        }
        other => panic!("{other:?}"),
    }
    fs::remove_dir(tmp.path().join("appendonlydir")).unwrap();
    assert!(matches!(
        plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap(),
        Some(Plan::Legacy { .. })
    ));

    // An upgrade interrupted after the manifest was written: still legacy.
    let aof_dir = tmp.path().join("appendonlydir");
    fs::create_dir(&aof_dir).unwrap();
    let mut m = Manifest::new();
    m.upgrade_legacy("appendonly.aof");
    assert_eq!(m.to_bytes(), b"file appendonly.aof seq 1 type b\n");
    write(&aof_dir.join("appendonly.aof.manifest"), &m.to_bytes());
    assert!(matches!(
        plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap(),
        Some(Plan::Legacy { .. })
    ));
    // Once the file moved, it is the base of a multi-part AOF.
    fs::rename(
        tmp.path().join("appendonly.aof"),
        aof_dir.join("appendonly.aof"),
    )
    .unwrap();
    match plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap() {
        Some(Plan::MultiPart {
            base: Some(base),
            incrs,
            ..
        }) => {
            assert_eq!(base.name, "appendonly.aof");
            assert_eq!(base.len, 12);
            assert!(incrs.is_empty());
        }
        other => panic!("{other:?}"),
    }

    // A listed file that is missing is fatal, with Redis's message.
    let mut m = Manifest::new();
    m.new_base("appendonly.aof", true);
    m.new_incr("appendonly.aof");
    write(&aof_dir.join("appendonly.aof.manifest"), &m.to_bytes());
    write(&aof_dir.join("appendonly.aof.1.base.rdb"), b"");
    let err = plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap_err();
    assert!(matches!(&err, PlanError::Missing { name } if name == "appendonly.aof.1.incr.aof"));
    let log = run_expecting_exit(tmp.path(), &["--appendonly", "yes"]);
    assert!(log.contains(&err.to_string()), "{err} not in\n{log}");

    // A broken manifest surfaces as a manifest error.
    write(&aof_dir.join("appendonly.aof.manifest"), b"garbage\n");
    assert!(matches!(
        plan(tmp.path(), "appendonlydir", "appendonly.aof"),
        Err(PlanError::Manifest(_))
    ));
}

#[test]
fn redis_upgrades_what_plan_calls_legacy() {
    // An old-style AOF of commands in `dir`: Redis moves it into the directory
    // as base seq 1 and writes the manifest `upgrade_legacy` describes.
    let tmp = TempDir::new("upgrade");
    write(
        &tmp.path().join("appendonly.aof"),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    );
    assert!(matches!(
        plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap(),
        Some(Plan::Legacy { .. })
    ));
    let mut redis = Redis::start(tmp.path(), &["--appendonly", "yes"]);
    assert_eq!(
        redis.cmd(&[b"GET", b"k"]),
        aof_support::Reply::Bulk(Some(b"v".to_vec()))
    );
    redis.stop();
    let written = fs::read(tmp.path().join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let mut expected = Manifest::new();
    expected.upgrade_legacy("appendonly.aof");
    expected.last_incr_or_new("appendonly.aof");
    assert_eq!(written, expected.to_bytes());
    assert!(matches!(
        plan(tmp.path(), "appendonlydir", "appendonly.aof").unwrap(),
        Some(Plan::MultiPart { base: Some(_), .. })
    ));
}

#[test]
fn names_redis_cannot_read_back_are_quoted() {
    // Redis 7.0 writes `file it's.aof.1.base.rdb ...` bare and then fails on
    // the unbalanced quote; ours is quoted and Redis loads it.
    let name = "it's.aof";
    let mut m = Manifest::new();
    m.new_base(name, true);
    m.new_incr(name);
    assert_eq!(
        m.to_bytes(),
        b"file \"it's.aof.1.base.rdb\" seq 1 type b\nfile \"it's.aof.1.incr.aof\" seq 1 type i\n"
    );
    assert_eq!(Manifest::parse(&m.to_bytes()).unwrap(), m);
    let tmp = TempDir::new("quote");
    let aof_dir = tmp.path().join("appendonlydir");
    fs::create_dir_all(&aof_dir).unwrap();
    write(&aof_dir.join("it's.aof.manifest"), &m.to_bytes());
    write(&aof_dir.join("it's.aof.1.base.rdb"), b"");
    write(
        &aof_dir.join("it's.aof.1.incr.aof"),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    );
    let mut redis = Redis::start(
        tmp.path(),
        &["--appendonly", "yes", "--appendfilename", name],
    );
    assert_eq!(
        redis.cmd(&[b"GET", b"k"]),
        aof_support::Reply::Bulk(Some(b"v".to_vec()))
    );
    redis.stop();

    let empty = AofFile {
        name: String::new(),
        seq: 1,
        kind: AofFileKind::Base,
    };
    let mut m = Manifest::new();
    m.base = Some(empty);
    assert_eq!(m.to_bytes(), b"file \"\" seq 1 type b\n");
}
