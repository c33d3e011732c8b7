//! The RDB loader (versions 1 to 11) and RESTORE's payload decoder: untrusted bytes in,
//! values in the encodings Redis 7.0 would give them out. Knows values, not sockets, locks
//! or async. Nothing here allocates from a length the input merely declares.

use crate::error::{ErrorKind, RdbError, RestoreError};
use crate::format::{
    self, op, parse_score, ty, CRC64, ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF, MAX_LOAD_VERSION,
    NODE_PACKED, NODE_PLAIN,
};
use crate::listpack::{BadBlob, Elem};
use crate::{intset, listpack, ziplist, zipmap};
use shardis_keyspace::hash::Hash;
use shardis_keyspace::list::List;
use shardis_keyspace::set::Set;
use shardis_keyspace::zset::ZSet;
use shardis_keyspace::{EncodingLimits, StrVal, Value};
use std::collections::HashSet;
use std::io::{BufReader, Read};

/// How a snapshot is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// The thresholds that decide loaded collections' encodings.
    pub limits: EncodingLimits,
    /// Check the CRC64 at the end (a stored zero always means "not checked").
    pub verify_checksum: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: EncodingLimits::default(),
            verify_checksum: true,
        }
    }
}

/// One thing a snapshot holds, in file order.
#[derive(Clone, Debug)]
pub enum Item {
    Aux(Vec<u8>, Vec<u8>),
    Resize {
        db: u64,
        keys: u64,
        expires: u64,
    },
    /// A key. Expired keys are delivered too: the caller decides what to do with them.
    Entry {
        db: u64,
        key: Vec<u8>,
        value: Value,
        /// Absolute expiry in Unix milliseconds.
        expire_ms: Option<u64>,
        /// LRU idle time in seconds.
        idle: Option<u64>,
        /// LFU frequency counter.
        freq: Option<u8>,
    },
}

/// What a completed load saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub version: u32,
    /// Keys delivered.
    pub keys: u64,
    /// Keys skipped because their collection was empty, as Redis skips them.
    pub empty_skipped: u64,
    /// Bytes the snapshot took, checksum included: where an RDB-preamble AOF's commands
    /// begin.
    pub len: u64,
}

/// Collections reserve room for at most this many items before the items really arrive.
const RESERVE_ITEMS: u64 = 64 * 1024;
/// Strings reserve at most this many bytes before the bytes really arrive.
const RESERVE_BYTES: u64 = 1 << 20;
/// Redis's listpack safety limit (LISTPACK_MAX_SAFETY_SIZE): past it nothing is packed.
const LISTPACK_MAX_SAFETY: u64 = 1 << 30;

/// Where a blob lies: the file offset of its first byte when stored plainly (`exact`), else
/// the offset of the compressed string holding it.
#[derive(Clone, Copy)]
struct Loc {
    start: u64,
    exact: bool,
}

/// A byte source that counts its offset and, for files, runs the CRC64.
struct Input<R> {
    r: R,
    pos: u64,
    crc: Option<crc::Digest<'static, u64, crc::Table<16>>>,
}

type Res<T> = Result<T, RdbError>;

impl<R: Read> Input<R> {
    fn err<T>(&self, kind: ErrorKind) -> Res<T> {
        Err(RdbError {
            offset: self.pos,
            kind,
        })
    }

    fn corrupt<T>(&self, what: &'static str) -> Res<T> {
        self.err(ErrorKind::Corrupt(what))
    }

    /// A blob's own complaint, placed at its offset in the file when the blob is stored
    /// plainly; offsets inside a compressed blob have no place in the file, so those name
    /// the blob's start.
    fn blob_err<T>(&self, loc: Loc, e: BadBlob) -> Res<T> {
        Err(RdbError {
            offset: if loc.exact {
                loc.start + e.at as u64
            } else {
                loc.start
            },
            kind: ErrorKind::Corrupt(e.what),
        })
    }

    /// Fills `buf` completely or fails with the offset where the data ran out.
    fn exact(&mut self, buf: &mut [u8]) -> Res<()> {
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => {
                    self.pos += got as u64;
                    return self.err(ErrorKind::Truncated);
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pos += got as u64;
                    return self.err(ErrorKind::Io(e));
                }
            }
        }
        if let Some(c) = &mut self.crc {
            c.update(buf);
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn byte(&mut self) -> Res<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }

    /// `n` bytes, grown as they really arrive so a false length costs no allocation.
    fn bytes(&mut self, n: u64) -> Res<Vec<u8>> {
        let mut v = Vec::with_capacity(n.min(RESERVE_BYTES) as usize);
        while (v.len() as u64) < n {
            let chunk = (n - v.len() as u64).min(RESERVE_BYTES) as usize;
            let at = v.len();
            v.resize(at + chunk, 0);
            self.exact(&mut v[at..])?;
        }
        Ok(v)
    }

    /// A length, or the special encoding that stands in its place (rdbLoadLenByRef).
    fn len_or_enc(&mut self) -> Res<(u64, bool)> {
        let c = self.byte()?;
        Ok(match c >> 6 {
            0 => ((c & 0x3f) as u64, false),
            1 => ((((c & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            3 => ((c & 0x3f) as u64, true),
            _ => match c {
                0x80 => (u32::from_be_bytes(self.array()?) as u64, false),
                0x81 => (u64::from_be_bytes(self.array()?), false),
                _ => return self.corrupt("unknown length encoding"),
            },
        })
    }

    fn len(&mut self) -> Res<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            _ => self.corrupt("encoded value where a length belongs"),
        }
    }

    /// A string in any of its encodings (rdbGenericLoadStringObject).
    fn string(&mut self) -> Res<Vec<u8>> {
        Ok(self.string_stored()?.0)
    }

    /// A string, and whether it was stored as plain bytes.
    fn string_stored(&mut self) -> Res<(Vec<u8>, bool)> {
        let (n, enc) = self.len_or_enc()?;
        if !enc {
            return Ok((self.bytes(n)?, true));
        }
        let n = n as u8;
        Ok((
            match n {
                ENC_INT8 => (self.byte()? as i8).to_string().into_bytes(),
                ENC_INT16 => i16::from_le_bytes(self.array()?).to_string().into_bytes(),
                ENC_INT32 => i32::from_le_bytes(self.array()?).to_string().into_bytes(),
                ENC_LZF => {
                    let clen = self.len()?;
                    let len = self.len()?;
                    let start = self.pos;
                    let c = self.bytes(clen)?;
                    match format::lzf_decompress(&c, len) {
                        Ok(v) => v,
                        Err(what) => {
                            return Err(RdbError {
                                offset: start,
                                kind: ErrorKind::Corrupt(what),
                            })
                        }
                    }
                }
                _ => return self.corrupt("unknown string encoding"),
            },
            false,
        ))
    }

    /// A string holding an encoded collection, and where it lies in the file.
    fn blob(&mut self) -> Res<(Loc, Vec<u8>)> {
        let start = self.pos;
        let (b, plain) = self.string_stored()?;
        let loc = if plain {
            Loc {
                start: self.pos - b.len() as u64,
                exact: true,
            }
        } else {
            Loc {
                start,
                exact: false,
            }
        };
        Ok((loc, b))
    }

    /// A ZSET (type 3) score: a length byte with 253/254/255 for nan/inf/-inf, else text.
    fn text_score(&mut self) -> Res<f64> {
        let n = self.byte()?;
        match n {
            253 => self.corrupt("NaN score"),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let b = self.bytes(n as u64)?;
                match parse_score(&b) {
                    Some(v) => Ok(v),
                    None => self.corrupt("invalid score"),
                }
            }
        }
    }

    fn binary_score(&mut self) -> Res<f64> {
        let v = f64::from_le_bytes(self.array()?);
        if v.is_nan() {
            return self.corrupt("NaN score");
        }
        Ok(v)
    }
}

fn reserve<T>(declared: u64) -> Vec<T> {
    Vec::with_capacity(declared.min(RESERVE_ITEMS) as usize)
}

/// Reads one value of RDB type `t`. `Ok(None)` is an empty collection, which Redis skips.
fn read_value<R: Read>(inp: &mut Input<R>, t: u8, lim: &EncodingLimits) -> Res<Option<Value>> {
    let start = inp.pos;
    let dup = |what| {
        Err(RdbError {
            offset: start,
            kind: ErrorKind::Corrupt(what),
        })
    };
    Ok(Some(match t {
        ty::STRING => Value::Str(StrVal::encoded(&inp.string()?)),
        ty::LIST => {
            let n = inp.len()?;
            let mut items = reserve(n);
            for _ in 0..n {
                items.push(StrVal::encoded(&inp.string()?));
            }
            if items.is_empty() {
                return Ok(None);
            }
            Value::List(Box::new(List::from_items(items)))
        }
        ty::SET => {
            let n = inp.len()?;
            let mut members: Vec<Vec<u8>> = reserve(n);
            for _ in 0..n {
                members.push(inp.string()?);
            }
            match build_set(members.iter().map(Vec::as_slice), lim) {
                Err(()) => return dup("duplicate set members"),
                Ok(s) => s,
            }
        }
        ty::ZSET | ty::ZSET_2 => {
            let n = inp.len()?;
            let mut items: Vec<(Vec<u8>, f64)> = reserve(n);
            for _ in 0..n {
                let m = inp.string()?;
                let s = if t == ty::ZSET {
                    inp.text_score()?
                } else {
                    inp.binary_score()?
                };
                items.push((m, s));
            }
            // Redis builds a skiplist, then packs it when small enough.
            let max = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
            let total: u64 = items.iter().map(|(m, _)| m.len() as u64).sum();
            let packed = items.len() <= lim.zset_max_listpack_entries
                && max <= lim.zset_max_listpack_value
                && total < LISTPACK_MAX_SAFETY;
            match build_zset(items, packed) {
                Err(()) => return dup("duplicate sorted set members"),
                Ok(z) => z,
            }
        }
        ty::HASH => {
            let n = inp.len()?;
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = reserve(n);
            for _ in 0..n {
                let f = inp.string()?;
                let v = inp.string()?;
                pairs.push((f, v));
            }
            // Redis packs while every field and value is short enough and the count fits.
            let max = lim.hash_max_listpack_value;
            let total: u64 = pairs.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
            let packed = pairs.len() <= lim.hash_max_listpack_entries
                && pairs.iter().all(|(f, v)| f.len() <= max && v.len() <= max)
                && total < LISTPACK_MAX_SAFETY;
            match build_hash(
                pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
                packed,
            ) {
                Err(()) => return dup("duplicate hash fields"),
                Ok(h) => h,
            }
        }
        ty::HASH_ZIPMAP => {
            let (at, b) = inp.blob()?;
            let pairs = zipmap::decode(&b).or_else(|e| inp.blob_err(at, e))?;
            let longest = pairs.iter().map(|(f, v)| f.len().max(v.len())).max();
            let packed = pairs.len() <= lim.hash_max_listpack_entries
                && longest.unwrap_or(0) <= lim.hash_max_listpack_value;
            match build_hash(pairs.into_iter(), packed) {
                Err(()) => return dup("duplicate hash fields"),
                Ok(h) => h,
            }
        }
        ty::LIST_ZIPLIST => {
            let (at, b) = inp.blob()?;
            let mut items = Vec::new();
            ziplist::decode(&b, |e| {
                items.push(elem_str(e));
                Ok(())
            })
            .or_else(|e| inp.blob_err(at, e))?;
            if items.is_empty() {
                return Ok(None);
            }
            Value::List(Box::new(List::from_items(items)))
        }
        ty::SET_INTSET => {
            let (at, b) = inp.blob()?;
            let vals = intset::decode(&b).or_else(|e| inp.blob_err(at, e))?;
            let texts: Vec<Vec<u8>> = vals.iter().map(|v| v.to_string().into_bytes()).collect();
            match build_set(texts.iter().map(Vec::as_slice), lim) {
                Err(()) => return dup("duplicate set members"),
                Ok(s) => s,
            }
        }
        ty::SET_LISTPACK => {
            let (at, b) = inp.blob()?;
            let mut members = Vec::new();
            listpack::decode(&b, |e| {
                members.push(e.to_vec());
                Ok(())
            })
            .or_else(|e| inp.blob_err(at, e))?;
            match build_set(members.iter().map(Vec::as_slice), lim) {
                Err(()) => return dup("duplicate set members"),
                Ok(s) => s,
            }
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            let (at, b) = inp.blob()?;
            let elems = decode_blob(t == ty::ZSET_ZIPLIST, &b).or_else(|e| inp.blob_err(at, e))?;
            if elems.len() % 2 != 0 {
                return inp.blob_err(
                    at,
                    BadBlob {
                        at: 0,
                        what: "sorted set with an odd entry count",
                    },
                );
            }
            let mut items = Vec::with_capacity(elems.len() / 2);
            for pair in elems.chunks_exact(2) {
                let score = match pair[1] {
                    Owned::Int(v) => v as f64,
                    Owned::Str(ref s) => match parse_score(s) {
                        Some(v) => v,
                        None => {
                            return inp.blob_err(
                                at,
                                BadBlob {
                                    at: 0,
                                    what: "invalid score",
                                },
                            )
                        }
                    },
                };
                items.push((pair[0].to_vec(), score));
            }
            // Redis keeps a loaded pack packed unless it has too many entries.
            let packed = items.len() <= lim.zset_max_listpack_entries;
            match build_zset(items, packed) {
                Err(()) => return dup("duplicate sorted set members"),
                Ok(z) => z,
            }
        }
        ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let (at, b) = inp.blob()?;
            let elems = decode_blob(t == ty::HASH_ZIPLIST, &b).or_else(|e| inp.blob_err(at, e))?;
            if elems.len() % 2 != 0 {
                return inp.blob_err(
                    at,
                    BadBlob {
                        at: 0,
                        what: "hash with an odd entry count",
                    },
                );
            }
            let texts: Vec<Vec<u8>> = elems.iter().map(Owned::to_vec).collect();
            let packed = texts.len() / 2 <= lim.hash_max_listpack_entries;
            match build_hash(
                texts
                    .chunks_exact(2)
                    .map(|p| (p[0].as_slice(), p[1].as_slice())),
                packed,
            ) {
                Err(()) => return dup("duplicate hash fields"),
                Ok(h) => h,
            }
        }
        ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
            let n = inp.len()?;
            let mut items = Vec::new();
            for _ in 0..n {
                let container = if t == ty::LIST_QUICKLIST_2 {
                    inp.len()?
                } else {
                    NODE_PACKED
                };
                if container != NODE_PACKED && container != NODE_PLAIN {
                    return inp.corrupt("unknown quicklist node container");
                }
                let (at, b) = inp.blob()?;
                if b.is_empty() {
                    return Err(RdbError {
                        offset: at.start,
                        kind: ErrorKind::Corrupt("empty quicklist node"),
                    });
                }
                if container == NODE_PLAIN {
                    items.push(StrVal::encoded(&b));
                    continue;
                }
                let mut push = |e: Elem<'_>| {
                    items.push(elem_str(e));
                    Ok(())
                };
                let r = if t == ty::LIST_QUICKLIST {
                    ziplist::decode(&b, &mut push)
                } else {
                    listpack::decode(&b, &mut push)
                };
                r.or_else(|e| inp.blob_err(at, e))?;
            }
            if items.is_empty() {
                return Ok(None);
            }
            Value::List(Box::new(List::from_items(items)))
        }
        ty::MODULE | ty::MODULE_2 => return inp.err(ErrorKind::Unsupported("module values")),
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            return inp.err(ErrorKind::Unsupported("streams"))
        }
        _ => return inp.corrupt("unknown value type"),
    }))
    .map(|v| v.filter(|v| !is_empty(v)))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Str(_) => false,
        Value::Hash(h) => h.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
    }
}

/// A decoded entry detached from its blob.
enum Owned {
    Int(i64),
    Str(Vec<u8>),
}

impl Owned {
    fn to_vec(&self) -> Vec<u8> {
        match self {
            Owned::Int(v) => v.to_string().into_bytes(),
            Owned::Str(s) => s.clone(),
        }
    }
}

fn decode_blob(zip: bool, b: &[u8]) -> Result<Vec<Owned>, BadBlob> {
    let mut out = Vec::new();
    let push = |e: Elem<'_>| {
        out.push(match e {
            Elem::Int(v) => Owned::Int(v),
            Elem::Str(s) => Owned::Str(s.to_vec()),
        });
        Ok(())
    };
    if zip {
        ziplist::decode(b, push)?;
    } else {
        listpack::decode(b, push)?;
    }
    Ok(out)
}

fn elem_str(e: Elem<'_>) -> StrVal {
    match e {
        Elem::Int(v) => StrVal::encoded(v.to_string().as_bytes()),
        Elem::Str(s) => StrVal::encoded(s),
    }
}

/// Empty collections come back as an empty value, filtered out by the caller.
fn build_set<'a>(
    members: impl Iterator<Item = &'a [u8]>,
    lim: &EncodingLimits,
) -> Result<Value, ()> {
    Set::from_members(members, lim)
        .map(|s| Value::Set(Box::new(s)))
        .ok_or(())
}

fn build_hash<'a>(
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    packed: bool,
) -> Result<Value, ()> {
    Hash::from_pairs(pairs, packed).map(Value::Hash).ok_or(())
}

fn build_zset(items: Vec<(Vec<u8>, f64)>, packed: bool) -> Result<Value, ()> {
    let mut seen = HashSet::with_capacity(items.len());
    if !items.iter().all(|(m, _)| seen.insert(m.as_slice())) {
        return Err(());
    }
    drop(seen);
    Ok(Value::ZSet(Box::new(ZSet::from_members_in(items, packed))))
}

/// Streams a file's items to `sink` in order. On any error nothing after the error is
/// delivered and the error names the byte offset; the caller decides what to do with items
/// already delivered.
pub fn load<R: Read>(
    input: R,
    opts: &LoadOptions,
    mut sink: impl FnMut(Item),
) -> Result<LoadSummary, RdbError> {
    let mut inp = Input {
        r: BufReader::with_capacity(256 * 1024, input),
        pos: 0,
        crc: Some(CRC64.digest()),
    };
    let magic: [u8; 9] = inp.array()?;
    if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
        return Err(RdbError {
            offset: 0,
            kind: ErrorKind::BadMagic,
        });
    }
    let version: u32 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(1..=MAX_LOAD_VERSION).contains(&version) {
        return Err(RdbError {
            offset: 5,
            kind: ErrorKind::Version(version),
        });
    }
    let mut sum = LoadSummary {
        version,
        ..LoadSummary::default()
    };
    let (mut db, mut expire, mut idle, mut freq) = (0u64, None, None, None);
    loop {
        let t = inp.byte()?;
        match t {
            // Redis reads both as signed; a time before the epoch is simply long expired.
            op::EXPIRETIME_MS => expire = Some(i64::from_le_bytes(inp.array()?).max(0) as u64),
            op::EXPIRETIME => {
                let secs = i32::from_le_bytes(inp.array()?).max(0) as u64;
                expire = Some(secs * 1000);
            }
            op::FREQ => freq = Some(inp.byte()?),
            op::IDLE => idle = Some(inp.len()?),
            op::SELECTDB => db = inp.len()?,
            op::RESIZEDB => {
                let keys = inp.len()?;
                let expires = inp.len()?;
                sink(Item::Resize { db, keys, expires });
            }
            op::AUX => {
                let k = inp.string()?;
                let v = inp.string()?;
                sink(Item::Aux(k, v));
            }
            op::MODULE_AUX => {
                inp.pos -= 1;
                return inp.err(ErrorKind::Unsupported("module auxiliary data"));
            }
            op::FUNCTION2 | op::FUNCTION_PRE_GA => {
                inp.pos -= 1;
                return inp.err(ErrorKind::Unsupported("functions"));
            }
            op::EOF => break,
            ty::MODULE | ty::MODULE_2 => {
                inp.pos -= 1;
                return inp.err(ErrorKind::Unsupported("module values"));
            }
            ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
                inp.pos -= 1;
                return inp.err(ErrorKind::Unsupported("streams"));
            }
            ty::STRING..=ty::ZSET_2
            | ty::HASH_ZIPMAP..=ty::LIST_QUICKLIST
            | ty::HASH_LISTPACK..=ty::LIST_QUICKLIST_2
            | ty::SET_LISTPACK => {
                let key = inp.string()?;
                match read_value(&mut inp, t, &opts.limits)? {
                    Some(value) => {
                        sum.keys += 1;
                        sink(Item::Entry {
                            db,
                            key,
                            value,
                            expire_ms: expire,
                            idle,
                            freq,
                        });
                    }
                    None => sum.empty_skipped += 1,
                }
                (expire, idle, freq) = (None, None, None);
            }
            _ => {
                inp.pos -= 1;
                return inp.corrupt("unknown opcode or value type");
            }
        }
    }
    if version >= 5 {
        let computed = inp.crc.take().map_or(0, |c| c.finalize());
        let at = inp.pos;
        let stored = u64::from_le_bytes(inp.array()?);
        if opts.verify_checksum && stored != 0 && stored != computed {
            return Err(RdbError {
                offset: at,
                kind: ErrorKind::Checksum { stored, computed },
            });
        }
    }
    sum.len = inp.pos;
    Ok(sum)
}

/// Decodes a DUMP payload (type byte, value, 2-byte RDB version LE, CRC64 LE) as RESTORE
/// does, into the encoding Redis 7.0 would give the value.
pub fn restore(payload: &[u8], limits: &EncodingLimits) -> Result<Value, RestoreError> {
    if payload.len() < 10 {
        return Err(RestoreError::BadVersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]) as u32;
    // Redis 7.0 refuses payloads from newer versions.
    if version > format::RDB_VERSION {
        return Err(RestoreError::BadVersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if format::crc64(&payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return Err(RestoreError::BadVersionOrChecksum);
    }
    let mut inp = Input {
        r: body,
        pos: 0,
        crc: None,
    };
    let t = inp.byte().map_err(|_| RestoreError::BadFormat)?;
    match read_value(&mut inp, t, limits) {
        Ok(Some(v)) => Ok(v),
        _ => Err(RestoreError::BadFormat),
    }
}
