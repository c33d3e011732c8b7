//! Random keyspaces written and loaded back in-process, under random thresholds and options:
//! values, expiries and encodings must survive. Needs no redis-server.

mod support;

use shardis_keyspace::EncodingLimits;
use shardis_persist::{dump, load, restore, Item, LoadOptions, RdbWriter, WriteOptions};
use support::{assert_same, canon, value, Keyspace};

#[test]
fn random_keyspaces_survive_a_round_trip() {
    for seed in 0..12u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let lim = EncodingLimits {
            hash_max_listpack_entries: rng.usize(0..300),
            hash_max_listpack_value: rng.usize(0..100),
            set_max_intset_entries: rng.usize(0..600),
            zset_max_listpack_entries: rng.usize(0..300),
            zset_max_listpack_value: rng.usize(0..100),
            ..EncodingLimits::default()
        };
        let opts = WriteOptions {
            compress: rng.bool(),
            checksum: rng.bool(),
        };
        let mut want = Keyspace::new();
        let mut w = RdbWriter::new(Vec::new(), opts).unwrap();
        for db in [0u64, 1, 9] {
            w.select_db(db, 0, 0).unwrap();
            for i in 0..40 {
                let key = format!("k{i}-{}", rng.u32(..)).into_bytes();
                let v = value(&mut rng, &lim);
                let exp = rng.bool().then(|| rng.u64(..1 << 50));
                w.entry(&key, &v, exp).unwrap();
                // DUMP/RESTORE round trip of the same value.
                let back = restore(&dump(&v), &lim).unwrap();
                assert_eq!(canon(&back, None), canon(&v, None), "seed {seed}");
                want.insert((db, key), canon(&v, exp));
            }
        }
        let file = w.finish().unwrap();
        let mut got = Keyspace::new();
        let load_opts = LoadOptions {
            limits: lim,
            verify_checksum: true,
        };
        let sum = load(&file[..], &load_opts, |item| {
            if let Item::Entry {
                db,
                key,
                value,
                expire_ms,
                ..
            } = item
            {
                got.insert((db, key), canon(&value, expire_ms));
            }
        })
        .unwrap();
        assert_eq!(sum.keys, want.len() as u64);
        assert_same(&got, &want);
    }
}

/// Re-seals a damaged DUMP body with a correct footer, so the damage reaches the parser
/// instead of stopping at the checksum.
fn seal(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = shardis_persist::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn damaged_payloads_past_the_checksum_never_panic() {
    let mut rng = fastrand::Rng::with_seed(99);
    let lim = EncodingLimits {
        hash_max_listpack_entries: 64,
        zset_max_listpack_entries: 64,
        set_max_intset_entries: 64,
        ..EncodingLimits::default()
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..150 {
        let v = value(&mut rng, &lim);
        let d = dump(&v);
        let body = &d[..d.len() - 10];
        for cut in (0..body.len()).step_by(body.len() / 50 + 1) {
            assert!(
                restore(&seal(&body[..cut]), &lim).is_err(),
                "a cut at {cut} loaded"
            );
        }
        for _ in 0..100 {
            let mut b = body.to_vec();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..b.len());
                b[i] = if rng.bool() {
                    rng.u8(..)
                } else {
                    b[i] ^ (1 << rng.u8(..8))
                };
            }
            match restore(&seal(&b), &lim) {
                Ok(_) => ok += 1,
                Err(_) => refused += 1,
            }
        }
    }
    // Damage inside string bytes loads as other bytes; damage to structure must be refused.
    assert!(
        refused > 1000 && ok > 1000,
        "{refused} refused, {ok} loaded"
    );
}
