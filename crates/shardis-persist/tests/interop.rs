//! Interoperability with a real redis-server 7.0: files and DUMP payloads both ways, old
//! encodings, and damaged input. Needs `redis-server` on the PATH; the tests fail without it.

mod support;

use shardis_keyspace::hash::Hash;
use shardis_keyspace::list::{End, List};
use shardis_keyspace::set::Set;
use shardis_keyspace::zset::ZSet;
use shardis_keyspace::{EncodingLimits, StrVal, Value};
use shardis_persist::{
    dump, encode_entry, intset, listpack, load, put_len, put_string, restore, ziplist, zipmap,
    ErrorKind, Item, LoadOptions, RdbWriter, RestoreError, WriteOptions,
};
use support::{assert_same, canon, load_file, Redis, Resp, Scratch};

/// 2100-01-01, far enough ahead that nothing expires during a test.
const FAR_MS: u64 = 4_102_444_800_000;

fn s(x: &str) -> Vec<u8> {
    x.as_bytes().to_vec()
}

/// Fills a server with every type in every encoding Redis 7.0 has, over several databases.
fn fill(r: &mut Redis) {
    let noise: Vec<u8> = (0..300u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (k, v) in [
        (s("s:int"), s("12345")),
        (s("s:neg"), s("-5")),
        (s("s:i32"), s("-2147483648")),
        (s("s:big"), s("123456789012")),
        (s("s:hello"), s("hello")),
        (s("s:long"), "abc".repeat(200).into_bytes()),
        (s("s:noise"), noise.clone()),
        (s("s:empty"), Vec::new()),
        (s("s:float"), s("3.14")),
        (s("s:lead0"), s("007")),
        (s("12"), s("key that looks like an int")),
    ] {
        r.ok(&[&b"SET"[..], &k, &v]);
    }
    r.ok(&[
        "RPUSH",
        "l:small",
        "a",
        "b",
        "1",
        "-100",
        "100000",
        "",
        "9223372036854775807",
    ]);
    for i in 0..3000 {
        let v = if i % 500 == 7 {
            "z".repeat(10_000)
        } else {
            format!("item-{i}")
        };
        r.ok(&["RPUSH", "l:large", &v]);
    }
    r.ok(&[
        "SADD",
        "set:int",
        "1",
        "2",
        "3",
        "-5",
        "100000",
        "9999999999",
    ]);
    r.ok(&["SADD", "set:str", "a", "b", "c", "1"]);
    for i in 0..600 {
        r.ok(&["SADD", "set:manyints", &i.to_string()]);
    }
    r.ok(&[
        "HSET", "h:small", "f1", "v1", "n", "42", "neg", "-7", "e", "",
    ]);
    for i in 0..200 {
        r.ok(&[
            "HSET",
            "h:large",
            &format!("field{i}"),
            &format!("value{i}"),
        ]);
    }
    r.ok(&["HSET", "h:longval", "f", &"x".repeat(100)]);
    r.ok(&[
        "ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0.1", "e", "1e300", "f",
        "-3", "g",
    ]);
    for i in 0..200 {
        r.ok(&["ZADD", "z:large", &format!("{}.25", i), &format!("m{i}")]);
    }
    r.ok(&["ZADD", "z:longmember", "1", &"m".repeat(100)]);
    r.ok(&["SET", "e:str", "v"]);
    r.ok(&["PEXPIREAT", "e:str", &FAR_MS.to_string()]);
    r.ok(&["PEXPIREAT", "h:small", &(FAR_MS + 1).to_string()]);
    r.ok(&["SELECT", "1"]);
    r.ok(&["SET", "db1:key", "one"]);
    r.ok(&["SADD", "db1:set", "x"]);
    r.ok(&["SELECT", "5"]);
    r.ok(&["RPUSH", "db5:list", "five"]);
    r.ok(&["PEXPIREAT", "db5:list", &(FAR_MS + 5).to_string()]);
    r.ok(&["SELECT", "0"]);
}

#[test]
fn redis_files_load_as_redis_reloads_them() {
    let dir = Scratch::new("from-redis");
    let mut r = Redis::start(&dir.0, "dump.rdb");
    fill(&mut r);
    // DEBUG RELOAD saves and loads the file again, so the encodings it then reports are the
    // ones a load gives, which is what ours must match.
    r.ok(&["DEBUG", "RELOAD"]);
    let theirs = r.contents();
    let (ours, sum) = load_file(&dir.0.join("dump.rdb"), &LoadOptions::default());
    assert_eq!(sum.version, 10);
    assert_eq!(sum.keys, theirs.len() as u64);
    assert_same(&ours, &theirs);
    // Without compression and checksum too: a second server loads the file and saves it so.
    let plain = Scratch::new("from-redis-plain");
    std::fs::copy(dir.0.join("dump.rdb"), plain.0.join("dump.rdb")).unwrap();
    let mut r2 = Redis::start_with(
        &plain.0,
        "dump.rdb",
        &["--rdbcompression", "no", "--rdbchecksum", "no"],
    );
    r2.ok(&["SAVE"]);
    let bytes = std::fs::read(plain.0.join("dump.rdb")).unwrap();
    assert_eq!(bytes[bytes.len() - 8..], [0; 8]);
    let (ours, _) = load_file(&plain.0.join("dump.rdb"), &LoadOptions::default());
    assert_same(&ours, &theirs);
}

/// Values made in-process, one per type and encoding, with what Redis must report.
fn our_values() -> Vec<(u64, Vec<u8>, Value, Option<u64>)> {
    let lim = EncodingLimits::default();
    let mut out = Vec::new();
    let mut add = |db: u64, k: &str, v: Value, e: Option<u64>| out.push((db, s(k), v, e));
    for (k, v) in [
        ("s:int", s("12345")),
        ("s:neg", s("-100")),
        ("s:i64", s("-9223372036854775808")),
        ("s:emb", s("hello world")),
        ("s:raw", "compress me ".repeat(50).into_bytes()),
        ("s:bin", (0..=255u8).collect()),
        ("s:empty", Vec::new()),
    ] {
        add(0, k, Value::Str(StrVal::encoded(&v)), None);
    }
    let mut l = List::default();
    for x in ["a", "1", "-4096", "70000", "5000000000", ""] {
        l.push(End::Right, x.as_bytes());
    }
    add(0, "l:small", Value::List(Box::new(l)), Some(FAR_MS));
    let mut l = List::default();
    for i in 0..5000 {
        let v = if i % 1000 == 3 {
            "q".repeat(9000)
        } else {
            format!("{i}-elem")
        };
        l.push(End::Right, v.as_bytes());
    }
    add(0, "l:large", Value::List(Box::new(l)), None);
    let mut st = Set::new();
    for x in ["1", "-2", "40000", "-3000000000"] {
        st.insert(x.as_bytes(), &lim);
    }
    add(0, "set:int", Value::Set(Box::new(st)), None);
    let mut st = Set::new();
    for x in ["apple", "7", "pear"] {
        st.insert(x.as_bytes(), &lim);
    }
    add(0, "set:small", Value::Set(Box::new(st)), None);
    let mut st = Set::new();
    for i in 0..1000 {
        st.insert(format!("member{i}").as_bytes(), &lim);
    }
    add(0, "set:large", Value::Set(Box::new(st)), Some(FAR_MS + 3));
    let mut h = Hash::new();
    for (f, v) in [
        ("name", "x"),
        ("age", "42"),
        ("neg", "-1"),
        ("big", "12345678901234"),
    ] {
        h.set(f.as_bytes(), v.as_bytes(), &lim);
    }
    add(0, "h:small", Value::Hash(h), None);
    let mut h = Hash::new();
    for i in 0..300 {
        h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &lim);
    }
    add(0, "h:large", Value::Hash(h), None);
    let mut z = ZSet::new();
    for (m, sc) in [
        ("a", 1.0),
        ("b", -2.5),
        ("c", f64::INFINITY),
        ("d", f64::NEG_INFINITY),
        ("e", 0.1),
        ("f", 1e300),
        ("7", 7.0),
    ] {
        z.insert(m.as_bytes(), sc, &lim);
    }
    add(0, "z:small", Value::ZSet(Box::new(z)), None);
    let mut z = ZSet::new();
    for i in 0..400 {
        z.insert(format!("m{i}").as_bytes(), i as f64 / 3.0, &lim);
    }
    z.insert(b"neg-zero", -0.0, &lim);
    add(0, "z:large", Value::ZSet(Box::new(z)), None);
    add(
        2,
        "db2:s",
        Value::Str(StrVal::encoded(b"two")),
        Some(FAR_MS + 2),
    );
    add(15, "db15:s", Value::Str(StrVal::encoded(b"fifteen")), None);
    out
}

fn write_ours(opts: WriteOptions) -> Vec<u8> {
    let vals = our_values();
    let mut w = RdbWriter::new(Vec::new(), opts).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.aux(b"redis-bits", b"64").unwrap();
    for db in [0u64, 2, 15] {
        let here: Vec<_> = vals.iter().filter(|v| v.0 == db).collect();
        let expires = here.iter().filter(|v| v.3.is_some()).count() as u64;
        w.select_db(db, here.len() as u64, expires).unwrap();
        for (i, (_, k, v, e)) in here.into_iter().enumerate() {
            // Half through `raw`, as a saver that encodes outside its locks does.
            if i % 2 == 0 {
                w.entry(k, v, *e).unwrap();
            } else {
                let mut buf = Vec::new();
                encode_entry(&mut buf, k, v, *e, opts.compress);
                w.raw(&buf).unwrap();
            }
        }
    }
    w.finish().unwrap()
}

#[test]
fn our_files_load_into_redis() {
    let expected: support::Keyspace = our_values()
        .iter()
        .map(|(db, k, v, e)| ((*db, k.clone()), canon(v, *e)))
        .collect();
    for (i, (compress, checksum)) in [(true, true), (false, true), (true, false), (false, false)]
        .into_iter()
        .enumerate()
    {
        let dir = Scratch::new(&format!("to-redis-{i}"));
        let bytes = write_ours(WriteOptions { compress, checksum });
        if !checksum {
            assert_eq!(bytes[bytes.len() - 8..], [0; 8]);
        }
        std::fs::write(dir.0.join("ours.rdb"), &bytes).unwrap();
        // Deep sanitization makes Redis validate every listpack and intset entry we wrote.
        let mut r = Redis::start_with(&dir.0, "ours.rdb", &["--sanitize-dump-payload", "yes"]);
        let theirs = r.contents();
        assert_same(&expected, &theirs);
        // And we read back what we wrote.
        let (ours, sum) = load_file(&dir.0.join("ours.rdb"), &LoadOptions::default());
        assert_eq!(sum.keys, expected.len() as u64);
        assert_same(&ours, &expected);
    }
}

/// A version-9 file in the encodings Redis stopped writing: zipmap, ziplists, quicklist of
/// ziplists, linked lists, text scores, second-resolution expiries; plus empty collections.
fn legacy_file() -> Vec<u8> {
    let mut f = b"REDIS0009".to_vec();
    let key = |f: &mut Vec<u8>, t: u8, k: &str| {
        f.push(t);
        put_string(f, k.as_bytes(), false);
    };
    let blob = |f: &mut Vec<u8>, b: &[u8]| put_string(f, b, true);
    f.push(250);
    put_string(&mut f, b"redis-ver", false);
    put_string(&mut f, b"5.0.0", false);
    f.push(254);
    put_len(&mut f, 0);
    // Strings, one LZF-compressed, one with a second-resolution expiry.
    key(&mut f, 0, "str:lzf");
    put_string(&mut f, "lzf lzf lzf ".repeat(30).as_bytes(), true);
    f.push(253);
    // Redis reads these as signed 32-bit seconds: 2038-01-01 is about as far as they go.
    f.extend_from_slice(&2_145_916_800i32.to_le_bytes());
    key(&mut f, 0, "str:exp-s");
    put_string(&mut f, b"-77", false);
    // Linked list (type 1), set (2), text-score zset (3), hash (4), binary zset (5).
    key(&mut f, 1, "list:linked");
    put_len(&mut f, 3);
    for x in ["x", "2", "y"] {
        put_string(&mut f, x.as_bytes(), false);
    }
    key(&mut f, 2, "set:plain");
    put_len(&mut f, 3);
    for x in ["10", "20", "30"] {
        put_string(&mut f, x.as_bytes(), false);
    }
    key(&mut f, 3, "zset:text");
    put_len(&mut f, 4);
    for (m, sc) in [
        ("a", &b"3.5"[..]),
        ("b", &[254][..]),
        ("c", &[255][..]),
        ("d", b"-1e10"),
    ] {
        put_string(&mut f, m.as_bytes(), false);
        if sc.len() == 1 && sc[0] >= 253 {
            f.push(sc[0]);
        } else {
            f.push(sc.len() as u8);
            f.extend_from_slice(sc);
        }
    }
    key(&mut f, 4, "hash:plain-long");
    put_len(&mut f, 2);
    for x in ["f", "short", "g", &"long".repeat(30)] {
        put_string(&mut f, x.as_bytes(), false);
    }
    key(&mut f, 5, "zset:binary");
    put_len(&mut f, 2);
    for (m, sc) in [("p", 1.5f64), ("q", -0.25)] {
        put_string(&mut f, m.as_bytes(), false);
        f.extend_from_slice(&sc.to_le_bytes());
    }
    // Zipmaps (9): small, a long value (converts), many entries (count byte saturated).
    key(&mut f, 9, "zipmap:small");
    blob(&mut f, &zipmap::encode(&[("a", "1"), ("b", "two")]));
    key(&mut f, 9, "zipmap:longval");
    blob(
        &mut f,
        &zipmap::encode(&[("a".to_string(), "v".repeat(100))]),
    );
    let many: Vec<(String, String)> = (0..300)
        .map(|i| (format!("k{i}"), format!("{i}")))
        .collect();
    key(&mut f, 9, "zipmap:many");
    blob(&mut f, &zipmap::encode(&many));
    // Ziplist list (10), also one empty (Redis skips it).
    key(&mut f, 10, "list:ziplist");
    blob(
        &mut f,
        &ziplist::encode(&["a", "12", "-1", "100000", "5000000000", ""]),
    );
    key(&mut f, 10, "list:ziplist-empty");
    blob(&mut f, &ziplist::encode::<&str>(&[]));
    // Intsets (11): small, 600 members (converts).
    key(&mut f, 11, "intset:small");
    blob(&mut f, &intset::encode(&[-5, 1, 70000]));
    key(&mut f, 11, "intset:many");
    blob(&mut f, &intset::encode(&(0..600).collect::<Vec<i64>>()));
    // Ziplist zsets (12): small, many (converts), a long member (stays packed in 7.0).
    key(&mut f, 12, "zzl:small");
    blob(
        &mut f,
        &ziplist::encode(&["c", "-inf", "a", "1", "b", "2.5"]),
    );
    let zmany: Vec<String> = (0..300)
        .flat_map(|i| [format!("m{i}"), format!("{i}")])
        .collect();
    key(&mut f, 12, "zzl:many");
    blob(&mut f, &ziplist::encode(&zmany));
    key(&mut f, 12, "zzl:longmember");
    blob(
        &mut f,
        &ziplist::encode(&["m".repeat(100), "1".to_string()]),
    );
    // Ziplist hashes (13): small, many (converts), a long value (stays packed in 7.0).
    key(&mut f, 13, "hzl:small");
    blob(&mut f, &ziplist::encode(&["f", "v", "n", "3"]));
    let hmany: Vec<String> = (0..300)
        .flat_map(|i| [format!("f{i}"), format!("v{i}")])
        .collect();
    key(&mut f, 13, "hzl:many");
    blob(&mut f, &ziplist::encode(&hmany));
    key(&mut f, 13, "hzl:longval");
    blob(
        &mut f,
        &ziplist::encode(&["f".to_string(), "v".repeat(100)]),
    );
    // Quicklist of ziplists (14): two nodes.
    key(&mut f, 14, "ql:ziplists");
    put_len(&mut f, 2);
    blob(&mut f, &ziplist::encode(&["n1a", "n1b"]));
    blob(&mut f, &ziplist::encode(&["n2a", "7"]));
    // Listpack types (16, 17) and quicklist 2 (18) in a second database.
    f.push(254);
    put_len(&mut f, 3);
    let lp = |items: &[&str]| {
        let mut b = listpack::Builder::new();
        for i in items {
            b.push(i.as_bytes());
        }
        b.finish()
    };
    key(&mut f, 16, "hlp");
    blob(&mut f, &lp(&["f", "1", "g", "two"]));
    key(&mut f, 17, "zlp");
    blob(&mut f, &lp(&["a", "1", "b", "1.5"]));
    key(&mut f, 18, "ql2");
    put_len(&mut f, 2);
    put_len(&mut f, 2);
    blob(&mut f, &lp(&["p1", "p2"]));
    put_len(&mut f, 1);
    blob(&mut f, b"a plain node");
    // An empty linked list: skipped by Redis and by us.
    key(&mut f, 1, "list:empty");
    put_len(&mut f, 0);
    f.push(255);
    let crc = shardis_persist::crc64(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

#[test]
fn old_encodings_load_as_redis_loads_them() {
    let dir = Scratch::new("legacy");
    std::fs::write(dir.0.join("legacy.rdb"), legacy_file()).unwrap();
    let mut r = Redis::start(&dir.0, "legacy.rdb");
    let theirs = r.contents();
    let (ours, sum) = load_file(&dir.0.join("legacy.rdb"), &LoadOptions::default());
    assert_eq!(sum.version, 9);
    assert_eq!(sum.empty_skipped, 2);
    assert!(theirs.len() > 20, "redis loaded the file");
    assert_same(&ours, &theirs);
}

#[test]
fn dump_payloads_cross_both_ways() {
    let dir = Scratch::new("dump");
    let mut r = Redis::start_with(&dir.0, "dump.rdb", &["--sanitize-dump-payload", "yes"]);
    fill(&mut r);
    let theirs = r.contents();
    let lim = EncodingLimits::default();
    for ((db, key), want) in &theirs {
        if *db != 0 {
            continue;
        }
        let payload = r.ok(&[&b"DUMP"[..], key]).bytes();
        let v = restore(&payload, &lim)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(key)));
        let got = canon(&v, want.expire_ms);
        let mut a = support::Keyspace::new();
        a.insert((0, key.clone()), got);
        let mut b = support::Keyspace::new();
        b.insert((0, key.clone()), want.clone());
        assert_same(&a, &b);
        // Ours back into Redis.
        let mut copy = b"copy:".to_vec();
        copy.extend_from_slice(key);
        r.ok(&[&b"RESTORE"[..], &copy, b"0", &dump(&v)]);
        assert_eq!(
            r.ok(&[&b"OBJECT"[..], b"ENCODING", &copy]).text(),
            want.encoding
        );
    }
    let after = r.contents();
    for ((db, key), want) in &theirs {
        if *db == 0 {
            let mut copy = b"copy:".to_vec();
            copy.extend_from_slice(key);
            let got = &after[&(0, copy)];
            assert_eq!(got.data, want.data);
        }
    }
    // Damaged payloads: ours and Redis's verdicts agree.
    let good = r.ok(&["DUMP", "h:small"]).bytes();
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().unwrap() ^= 1;
    let mut newer = good.clone();
    let n = newer.len();
    newer[n - 10] = 11;
    let mut garbage = vec![200u8, 1, 2, 3];
    garbage.extend_from_slice(&10u16.to_le_bytes());
    let crc = shardis_persist::crc64(&garbage);
    garbage.extend_from_slice(&crc.to_le_bytes());
    let mut truncated_body = good[..3].to_vec();
    truncated_body.extend_from_slice(&10u16.to_le_bytes());
    let crc = shardis_persist::crc64(&truncated_body);
    truncated_body.extend_from_slice(&crc.to_le_bytes());
    for (payload, want) in [
        (bad_crc, RestoreError::BadVersionOrChecksum),
        (newer, RestoreError::BadVersionOrChecksum),
        (b"short".to_vec(), RestoreError::BadVersionOrChecksum),
        (garbage, RestoreError::BadFormat),
        (truncated_body, RestoreError::BadFormat),
    ] {
        assert_eq!(restore(&payload, &lim).unwrap_err(), want);
        match r.cmd(&[&b"RESTORE"[..], b"victim", b"0", &payload]) {
            Resp::Err(e) => assert!(
                e.ends_with(&want.to_string()),
                "redis said {e:?}, we said {want}"
            ),
            other => panic!("redis accepted a bad payload: {other:?}"),
        }
    }
}

fn small_file() -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.select_db(0, 4, 1).unwrap();
    for (_, k, v, e) in our_values().into_iter().filter(|v| {
        [
            "s:int",
            "s:raw",
            "l:small",
            "set:int",
            "set:small",
            "h:small",
            "z:small",
        ]
        .contains(&std::str::from_utf8(&v.1).unwrap())
    }) {
        w.entry(&k, &v, e).unwrap();
    }
    w.finish().unwrap()
}

fn try_load(b: &[u8], verify: bool) -> Result<u64, shardis_persist::RdbError> {
    let opts = LoadOptions {
        verify_checksum: verify,
        ..LoadOptions::default()
    };
    load(b, &opts, |_| {}).map(|s| s.keys)
}

#[test]
fn damage_is_an_error_with_an_offset_never_a_panic() {
    let f = small_file();
    assert_eq!(try_load(&f, true).unwrap(), 7);
    for cut in 0..f.len() {
        let e = try_load(&f[..cut], true).unwrap_err();
        assert!(e.offset <= cut as u64, "{e} for a cut at {cut}");
        assert!(e.to_string().contains(" at offset "), "{e}");
    }
    // Every single-bit flip anywhere is caught (the checksum covers what parsing does not).
    for i in 0..f.len() {
        for bit in [0, 3, 7] {
            let mut d = f.clone();
            d[i] ^= 1 << bit;
            assert!(
                try_load(&d, true).is_err(),
                "flip of bit {bit} at {i} went unnoticed"
            );
        }
    }
    // Without the checksum, random damage may load but must never panic.
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..20_000 {
        let mut d = f.clone();
        for _ in 0..rng.usize(1..4) {
            let i = rng.usize(..d.len());
            d[i] = rng.u8(..);
        }
        let _ = try_load(&d, false);
    }
    let e = try_load(b"REDIS0012\xff", true).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Version(12)), "{e}");
    assert!(e.to_string().contains("unsupported RDB version 12"));
    assert!(matches!(
        try_load(b"RUBBISH00", true).unwrap_err().kind,
        ErrorKind::BadMagic
    ));
    assert!(matches!(
        try_load(b"", true).unwrap_err().kind,
        ErrorKind::Truncated
    ));
    for _ in 0..2000 {
        let n = rng.usize(..200);
        let mut g: Vec<u8> = b"REDIS0010".to_vec();
        g.extend((0..n).map(|_| rng.u8(..)));
        let _ = try_load(&g, false);
    }
}

#[test]
fn hostile_lengths_allocate_nothing_up_front() {
    // A string declaring 2^64-1 bytes, a list declaring 2^32 elements, an LZF blob
    // declaring 4 GiB: each fails at the end of the data without reserving the declared size.
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[0, 0x81]);
    f.extend_from_slice(&u64::MAX.to_be_bytes());
    f.extend_from_slice(b"abc");
    assert!(matches!(
        try_load(&f, true).unwrap_err().kind,
        ErrorKind::Truncated
    ));
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[1, 1, b'k', 0x80, 1, 0, 0, 0, 1, b'x']);
    assert!(matches!(
        try_load(&f, true).unwrap_err().kind,
        ErrorKind::Truncated
    ));
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[
        0, 1, b'k', 0xC3, 2, 0x80, 0xff, 0xff, 0xff, 0xff, 0, b'x', 0xff,
    ]);
    assert!(matches!(
        try_load(&f, true).unwrap_err().kind,
        ErrorKind::Corrupt(_)
    ));
}

#[test]
fn unsupported_content_is_refused_not_skipped() {
    for (bytes, what) in [
        (vec![247u8], "module auxiliary data"),
        (vec![245u8], "functions"),
        (vec![15u8, 1, b'k'], "streams"),
        (vec![7u8, 1, b'k'], "module values"),
    ] {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(&bytes);
        let e = try_load(&f, true).unwrap_err();
        assert!(
            e.to_string().contains(&format!("{what} not supported")),
            "{e}"
        );
        assert_eq!(e.offset, 9);
    }
    let e = try_load(b"REDIS0010\x08\x01k", true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "corrupt RDB: unknown opcode or value type at offset 9"
    );
}

#[test]
fn items_arrive_in_order_with_metadata() {
    let mut f = b"REDIS0011".to_vec();
    f.push(250);
    put_string(&mut f, b"k", false);
    put_string(&mut f, b"v", false);
    f.extend_from_slice(&[254, 7, 251, 1, 0]);
    f.extend_from_slice(&[248, 42, 249, 9, 252]);
    f.extend_from_slice(&1234u64.to_le_bytes());
    f.extend_from_slice(&[0, 1, b'a', 1, b'b']);
    // SET_LISTPACK (Redis 7.2) holding integers comes out as an intset.
    f.extend_from_slice(&[20, 1, b's']);
    let mut lp = listpack::Builder::new();
    lp.push(b"3");
    lp.push(b"1");
    put_string(&mut f, &lp.finish(), false);
    f.push(255);
    f.extend_from_slice(&[0; 8]);
    let mut items = Vec::new();
    let sum = load(&f[..], &LoadOptions::default(), |i| items.push(i)).unwrap();
    assert_eq!(sum.version, 11);
    assert_eq!(sum.keys, 2);
    assert!(matches!(&items[0], Item::Aux(k, v) if k == b"k" && v == b"v"));
    assert!(matches!(
        items[1],
        Item::Resize {
            db: 7,
            keys: 1,
            expires: 0
        }
    ));
    match &items[2] {
        Item::Entry {
            db: 7,
            key,
            expire_ms: Some(1234),
            idle: Some(42),
            freq: Some(9),
            value,
        } => {
            assert_eq!(key, b"a");
            assert_eq!(value.encoding(), "embstr");
        }
        other => panic!("{other:?}"),
    }
    match &items[3] {
        Item::Entry {
            expire_ms: None,
            idle: None,
            freq: None,
            value,
            ..
        } => assert_eq!(value.encoding(), "intset"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_inside_a_plain_blob_name_the_exact_byte() {
    let mut lp = listpack::Builder::new();
    for x in ["field", "value"] {
        lp.push(x.as_bytes());
    }
    let mut lp = lp.finish();
    // The first entry's back-length (after the 6-byte header, 1 encoding byte, 5 bytes).
    let bad = 6 + 1 + 5;
    lp[bad] ^= 0x40;
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[16, 1, b'h']);
    put_string(&mut f, &lp, false);
    let data_start = f.len() - lp.len();
    let e = try_load(&f, true).unwrap_err();
    assert_eq!(e.offset, (data_start + bad) as u64, "{e}");
    assert!(e.to_string().contains("back-length"), "{e}");
}

#[test]
fn random_values_restore_into_a_sanitizing_redis() {
    let dir = Scratch::new("random-restore");
    let mut r = Redis::start_with(&dir.0, "none.rdb", &["--sanitize-dump-payload", "yes"]);
    let lim = EncodingLimits::default();
    let mut rng = fastrand::Rng::with_seed(2024);
    let mut want = support::Keyspace::new();
    for i in 0..300 {
        let v = support::value(&mut rng, &lim);
        let key = format!("r{i}").into_bytes();
        r.ok(&[&b"RESTORE"[..], &key, b"0", &dump(&v)]);
        want.insert((0, key), canon(&v, None));
    }
    let theirs = r.contents();
    assert_same(&want, &theirs);
    // And back: Redis's own file and payloads of the same random content load as Redis has it.
    r.ok(&["SAVE"]);
    let (ours, _) = load_file(&dir.0.join("none.rdb"), &LoadOptions::default());
    assert_same(&ours, &theirs);
    for (_, key) in theirs.keys() {
        let v = restore(&r.ok(&[&b"DUMP"[..], key]).bytes(), &lim).unwrap();
        assert_eq!(canon(&v, None), theirs[&(0, key.clone())]);
    }
}

#[test]
fn random_files_under_random_limits_load_into_redis() {
    for seed in 0..3u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let lim = EncodingLimits {
            hash_max_listpack_entries: rng.usize(1..300),
            hash_max_listpack_value: rng.usize(1..100),
            set_max_intset_entries: rng.usize(1..600),
            zset_max_listpack_entries: rng.usize(1..300),
            zset_max_listpack_value: rng.usize(1..100),
            ..EncodingLimits::default()
        };
        let mut want = support::Keyspace::new();
        let mut w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
        w.select_db(0, 0, 0).unwrap();
        for i in 0..150 {
            let key = format!("k{i}").into_bytes();
            let v = support::value(&mut rng, &lim);
            w.entry(&key, &v, Some(FAR_MS + i)).unwrap();
            want.insert((0, key), canon(&v, Some(FAR_MS + i)));
        }
        let dir = Scratch::new(&format!("random-limits-{seed}"));
        std::fs::write(dir.0.join("r.rdb"), w.finish().unwrap()).unwrap();
        let mut args = support::limit_args(&lim);
        args.extend(["--sanitize-dump-payload".to_string(), "yes".to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut r = Redis::start_with(&dir.0, "r.rdb", &args);
        assert_same(&want, &r.contents());
    }
}
