//! The command reader on cut, damaged and random input: every prefix, every structural byte flipped, random bytes, offsets after an RDB preamble.
//!
//! These tests depend on nothing but std, fastrand and the crate under test.

use std::io::Read;

use shardis_persist::aof::{
    encode_command, encode_select, encode_timestamp_annotation, starts_with_rdb_preamble, AofError,
    AofReader, Command, MAX_ARGS, MAX_BULK_LEN,
};

/// A file of varied commands plus the byte ranges of its annotations.
fn sample_file() -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut buf = Vec::new();
    let mut annotations = Vec::new();
    let mut annotate = |buf: &mut Vec<u8>, ts: i64| {
        let start = buf.len();
        encode_timestamp_annotation(buf, ts);
        annotations.push((start, buf.len()));
    };
    annotate(&mut buf, 1_700_000_000);
    encode_select(&mut buf, 0);
    encode_command(&mut buf, &[b"SET", b"k", b"v"]);
    encode_command(&mut buf, &[b"SET", b"bin", b"\r\n*1\r\n$3\r\n\0"]);
    encode_command(&mut buf, &[b"RPUSH", b"l", b"", b"x"]);
    annotate(&mut buf, 1_700_000_001);
    encode_select(&mut buf, 12);
    let long = vec![b'z'; 300];
    encode_command(&mut buf, &[b"APPEND", b"k", &long]);
    encode_command(&mut buf, &[b"MULTI"]);
    encode_command(&mut buf, &[b"INCR", b"n"]);
    encode_command(&mut buf, &[b"EXEC"]);
    (buf, annotations)
}

fn read_until_error(data: &[u8]) -> (Vec<Command>, Option<AofError>) {
    let mut reader = AofReader::new(data);
    let mut commands = Vec::new();
    loop {
        match reader.next_command() {
            Ok(Some(c)) => commands.push(c),
            Ok(None) => return (commands, None),
            Err(e) => return (commands, Some(e)),
        }
    }
}

#[test]
fn reads_every_command_with_offsets() {
    let (data, annotations) = sample_file();
    let (commands, err) = read_until_error(&data);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(commands.len(), 9);
    assert_eq!(commands[0].offset as usize, annotations[0].1);
    assert_eq!(commands[1].args[2], b"v");
    assert_eq!(commands[2].args[2], b"\r\n*1\r\n$3\r\n\0");
    assert_eq!(commands[3].args[2], b"");
    assert_eq!(commands[4].args, vec![b"SELECT".to_vec(), b"12".to_vec()]);
    assert_eq!(commands[4].offset as usize, annotations[1].1);
    for pair in commands.windows(2) {
        assert!(pair[0].end <= pair[1].offset);
    }
    assert_eq!(commands.last().unwrap().end as usize, data.len());
}

#[test]
fn every_cut_point_gives_complete_commands_then_truncated() {
    let (data, annotations) = sample_file();
    let (all, _) = read_until_error(&data);
    // Units the file is made of: (start, end) of every command and annotation.
    let mut units: Vec<(usize, usize)> = all
        .iter()
        .map(|c| (c.offset as usize, c.end as usize))
        .chain(annotations.iter().copied())
        .collect();
    units.sort();
    for cut in 0..=data.len() {
        let (commands, err) = read_until_error(&data[..cut]);
        let complete: Vec<&Command> = all.iter().filter(|c| c.end as usize <= cut).collect();
        assert_eq!(commands.len(), complete.len(), "cut {cut}");
        for (got, want) in commands.iter().zip(&complete) {
            assert_eq!(&got, want, "cut {cut}");
        }
        match units.iter().find(|(start, end)| *start < cut && cut < *end) {
            None => assert!(err.is_none(), "cut {cut} is a boundary: {err:?}"),
            Some((start, _)) => match err {
                Some(AofError::Truncated { offset }) => {
                    assert_eq!(offset as usize, *start, "cut {cut}")
                }
                other => panic!("cut {cut}: expected Truncated, got {other:?}"),
            },
        }
    }
}

#[test]
fn flipped_structural_bytes_are_corrupt_at_their_offset() {
    let (data, annotations) = sample_file();
    let (all, _) = read_until_error(&data);
    let mut checked = 0;
    for c in &all {
        // Walk the command's framing: '*', digits, CRLF, then per argument '$',
        // digits, CRLF, payload (skipped), CRLF.
        let mut structural = Vec::new();
        let mut p = c.offset as usize;
        let header_end = |p: usize| p + data[p..].iter().position(|&b| b == b'\n').unwrap() + 1;
        let end = header_end(p);
        structural.extend(p..end);
        p = end;
        for arg in &c.args {
            let end = header_end(p);
            structural.extend(p..end);
            p = end + arg.len();
            structural.extend([p, p + 1]);
            p += 2;
        }
        assert_eq!(p as u64, c.end);
        for pos in structural {
            let mut bad = data.clone();
            bad[pos] = b'x';
            let (_, err) = read_until_error(&bad);
            match err {
                Some(AofError::Corrupt { offset, .. }) => {
                    assert_eq!(offset as usize, pos, "flipping byte {pos}")
                }
                other => panic!("flipping byte {pos}: expected Corrupt, got {other:?}"),
            }
            checked += 1;
        }
    }
    // An annotation's '#' flipped is a bad first byte too.
    let mut bad = data.clone();
    bad[annotations[1].0] = b'x';
    assert!(matches!(
        read_until_error(&bad).1,
        Some(AofError::Corrupt { offset, .. }) if offset as usize == annotations[1].0
    ));
    assert!(checked > 100);
}

#[test]
fn hostile_headers_are_refused_without_allocating() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (format!("*{}\r\n", MAX_ARGS + 1).into_bytes(), "count"),
        (b"*99999999999999999999999999\r\n".to_vec(), "count"),
        (
            format!("*1\r\n${}\r\n", MAX_BULK_LEN + 1).into_bytes(),
            "bulk",
        ),
        (b"*1\r\n$18446744073709551616\r\n".to_vec(), "bulk"),
        (b"*0\r\n".to_vec(), "below"),
        (b"*-1\r\n".to_vec(), "digit"),
        (b"*1\r\n$-1\r\n".to_vec(), "digit"),
        (b"*\r\n".to_vec(), "digit"),
        (b"\r\n".to_vec(), "'*'"),
        (b"*1\r\n+OK\r\n".to_vec(), "'$'"),
        (b"*1\n$1\r\na\r\n".to_vec(), "digit or CR"),
        (b"*1\r\n$1\r\nabc\r\n".to_vec(), "CR"),
    ];
    for (data, what_part) in cases {
        match read_until_error(&data).1 {
            Some(AofError::Corrupt { what, .. }) => {
                assert!(what.contains(what_part), "{data:?}: {what}")
            }
            other => panic!("{data:?}: expected Corrupt, got {other:?}"),
        }
    }
    // The largest legal header is accepted and then simply truncated: nothing
    // was reserved up front, so this costs no memory.
    let data = format!("*{MAX_ARGS}\r\n${MAX_BULK_LEN}\r\nabc");
    assert!(matches!(
        read_until_error(data.as_bytes()).1,
        Some(AofError::Truncated { offset: 0 })
    ));
}

#[test]
fn random_input_never_panics() {
    let (sample, _) = sample_file();
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..20000 {
        let data: Vec<u8> = if round % 2 == 0 {
            let alphabet = b"*$#\r\n0123456789x";
            (0..rng.usize(0..64))
                .map(|_| {
                    if rng.u8(..) < 200 {
                        alphabet[rng.usize(..alphabet.len())]
                    } else {
                        rng.u8(..)
                    }
                })
                .collect()
        } else {
            let mut d = sample.clone();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..d.len());
                d[i] ^= 1 << rng.u32(0..8);
            }
            d.truncate(rng.usize(0..=d.len()));
            d
        };
        let mut reader = AofReader::with_offset(&data[..], 1000);
        let mut last_end = 1000;
        loop {
            match reader.next_command() {
                Ok(Some(c)) => {
                    assert!(c.offset >= last_end && c.end > c.offset);
                    assert!(c.end <= 1000 + data.len() as u64);
                    last_end = c.end;
                }
                Ok(None) => break,
                Err(AofError::Truncated { offset }) | Err(AofError::Corrupt { offset, .. }) => {
                    assert!(offset >= last_end && offset <= 1000 + data.len() as u64);
                    // The error sticks.
                    assert!(reader.next_command().is_err());
                    assert!(reader.next().is_none());
                    break;
                }
                Err(AofError::Io(e)) => panic!("{e}"),
            }
        }
    }
}

/// A reader that hands out one byte per call and is interrupted in between,
/// so every code path sees data arriving in the smallest pieces.
struct Trickle<'a> {
    data: &'a [u8],
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        match (self.data.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.data = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn byte_at_a_time_reads_the_same() {
    let (data, _) = sample_file();
    let whole: Vec<Command> = AofReader::new(&data[..]).map(Result::unwrap).collect();
    let trickled: Vec<Command> = AofReader::new(Trickle {
        data: &data,
        interrupt: false,
    })
    .map(Result::unwrap)
    .collect();
    assert_eq!(whole, trickled);
}

#[test]
fn io_errors_are_reported() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let mut reader = AofReader::new(Broken);
    assert!(matches!(reader.next_command(), Err(AofError::Io(_))));
    assert!(matches!(reader.next_command(), Err(AofError::Io(_))));
}

#[test]
fn continues_after_an_rdb_preamble_with_absolute_offsets() {
    // A stand-in for an RDB body: the caller's RDB loader says where it ends.
    let mut file =
        b"REDIS0010\xfa\x09redis-ver\x067.0.15\xff\x00\x01\x02\x03\x04\x05\x06\x07".to_vec();
    let rdb_end = file.len();
    encode_command(&mut file, &[b"SET", b"tail", b"1"]);
    let cut = file.len() - 3;
    assert!(starts_with_rdb_preamble(&file[..5]));
    assert!(!starts_with_rdb_preamble(b"REDI"));
    assert!(!starts_with_rdb_preamble(b"*2\r\n$6\r\nSELECT"));

    let mut cursor = std::io::Cursor::new(&file[..]);
    cursor.set_position(rdb_end as u64);
    let mut reader = AofReader::with_offset(cursor, rdb_end as u64);
    let c = reader.next_command().unwrap().unwrap();
    assert_eq!(c.offset as usize, rdb_end);
    assert_eq!(c.end as usize, file.len());
    assert_eq!(reader.offset() as usize, file.len());
    assert!(reader.next_command().unwrap().is_none());

    let mut cursor = std::io::Cursor::new(&file[..cut]);
    cursor.set_position(rdb_end as u64);
    let mut reader = AofReader::with_offset(cursor, rdb_end as u64);
    assert!(matches!(
        reader.next_command(),
        Err(AofError::Truncated { offset }) if offset as usize == rdb_end
    ));
}
