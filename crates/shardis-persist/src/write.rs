//! The RDB writer: streams a snapshot in the format Redis 7.0 writes (version 10), and
//! encodes single values for DUMP. Knows values, not sockets, locks or async.

use crate::format::{op, put_len, put_string, score_text, ty, CRC64, NODE_PACKED, NODE_PLAIN};
use crate::{intset, listpack};
use shardis_keyspace::set::Elem as SetElem;
use shardis_keyspace::Value;
use std::io::{self, Write};

/// How a snapshot is written: Redis's `rdbcompression` and `rdbchecksum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// LZF-compress strings over 20 bytes when that saves space.
    pub compress: bool,
    /// Write the CRC64 at the end; when off, 8 zero bytes, which loaders take as "unchecked".
    pub checksum: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compress: true,
            checksum: true,
        }
    }
}

/// Bytes gathered before they are handed to the output and the checksum.
const FLUSH_AT: usize = 64 * 1024;

/// A streaming snapshot writer; the CRC64 runs over every byte written. Output is buffered
/// in 64 KiB steps: the file is complete only after `finish`, and a writer dropped before it
/// leaves a truncated file, which every loader refuses.
pub struct RdbWriter<W: Write> {
    out: W,
    crc: crc::Digest<'static, u64, crc::Table<16>>,
    opts: WriteOptions,
    buf: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a snapshot: writes the "REDIS0010" header.
    pub fn new(out: W, opts: WriteOptions) -> io::Result<Self> {
        let mut w = RdbWriter {
            out,
            crc: CRC64.digest(),
            opts,
            buf: Vec::with_capacity(FLUSH_AT + 1024),
        };
        w.buf.extend_from_slice(b"REDIS0010");
        Ok(w)
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// An auxiliary field (RDB_OPCODE_AUX), such as "redis-ver".
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.buf.push(op::AUX);
        put_string(&mut self.buf, key, self.opts.compress);
        put_string(&mut self.buf, value, self.opts.compress);
        self.maybe_flush()
    }

    /// Starts database `db` (SELECTDB) with its size hints (RESIZEDB).
    pub fn select_db(&mut self, db: u64, keys_hint: u64, expires_hint: u64) -> io::Result<()> {
        self.buf.push(op::SELECTDB);
        put_len(&mut self.buf, db);
        self.buf.push(op::RESIZEDB);
        put_len(&mut self.buf, keys_hint);
        put_len(&mut self.buf, expires_hint);
        self.maybe_flush()
    }

    /// One key with its value and absolute expiry time in Unix milliseconds.
    pub fn entry(&mut self, key: &[u8], value: &Value, expire_ms: Option<u64>) -> io::Result<()> {
        encode_entry(&mut self.buf, key, value, expire_ms, self.opts.compress);
        self.maybe_flush()
    }

    /// Entries already encoded by `encode_entry`.
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() > FLUSH_AT {
            self.flush_buf()?;
            self.crc.update(bytes);
            return self.out.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Ends the snapshot (EOF opcode, then the CRC64 little-endian or zeros), flushes and
    /// hands the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(op::EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum {
            self.crc.finalize()
        } else {
            0
        };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Encodes one key (EXPIRETIME_MS if any, type byte, key, value) into `buf` with no CRC, so
/// a saver can encode a shard's entries outside any lock and hand the bytes to
/// `RdbWriter::raw`.
pub fn encode_entry(
    buf: &mut Vec<u8>,
    key: &[u8],
    value: &Value,
    expire_ms: Option<u64>,
    compress: bool,
) {
    if let Some(ms) = expire_ms {
        buf.push(op::EXPIRETIME_MS);
        buf.extend_from_slice(&ms.to_le_bytes());
    }
    let at = buf.len();
    buf.push(0);
    put_string(buf, key, compress);
    buf[at] = encode_value(buf, value, compress);
}

/// List nodes are cut at this many listpack bytes, as Redis's default list-max-listpack-size
/// (-2, 8 KiB) cuts them.
const NODE_BYTES: usize = 8 * 1024;
/// Elements this large go in a PLAIN node of their own, as Redis 7.0's quicklist does past
/// its packed threshold.
const PLAIN_THRESHOLD: usize = 1 << 30;

/// Appends `value`'s RDB body and returns its type byte.
pub(crate) fn encode_value(buf: &mut Vec<u8>, value: &Value, compress: bool) -> u8 {
    match value {
        Value::Str(s) => {
            put_string(buf, s, compress);
            ty::STRING
        }
        Value::List(l) => {
            let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut lp = listpack::Builder::new();
            for item in l.range(0, -1) {
                if item.len() >= PLAIN_THRESHOLD {
                    if !lp.is_empty() {
                        nodes.push((NODE_PACKED, std::mem::take(&mut lp).finish()));
                    }
                    nodes.push((NODE_PLAIN, item.to_vec()));
                    continue;
                }
                if !lp.is_empty() && lp.len() + item.len() + 11 > NODE_BYTES {
                    nodes.push((NODE_PACKED, std::mem::take(&mut lp).finish()));
                }
                lp.push(item);
            }
            if !lp.is_empty() {
                nodes.push((NODE_PACKED, lp.finish()));
            }
            put_len(buf, nodes.len() as u64);
            for (container, data) in nodes {
                put_len(buf, container);
                put_string(buf, &data, compress);
            }
            ty::LIST_QUICKLIST_2
        }
        Value::Set(s) => {
            if s.encoding() == "intset" {
                let vals: Vec<i64> = s
                    .iter()
                    .map(|e| match e {
                        SetElem::Int(v) => v,
                        // An intset yields numbers only; text would be a keyspace bug.
                        SetElem::Bytes(b) => crate::format::canonical_i64(b).unwrap_or(0),
                    })
                    .collect();
                put_string(buf, &intset::encode(&vals), compress);
                ty::SET_INTSET
            } else {
                put_len(buf, s.len() as u64);
                for e in s.iter() {
                    e.with_bytes(|b| put_string(buf, b, compress));
                }
                ty::SET
            }
        }
        Value::Hash(h) => {
            if h.encoding() == "listpack" {
                let mut lp = listpack::Builder::new();
                for (f, v) in h.iter() {
                    lp.push(f);
                    lp.push(v);
                }
                put_string(buf, &lp.finish(), compress);
                ty::HASH_LISTPACK
            } else {
                put_len(buf, h.len() as u64);
                for (f, v) in h.iter() {
                    put_string(buf, f, compress);
                    put_string(buf, v, compress);
                }
                ty::HASH
            }
        }
        Value::ZSet(z) => {
            if z.encoding() == "listpack" {
                let mut lp = listpack::Builder::new();
                z.range(0, z.len(), false, |m, s| {
                    lp.push(m);
                    lp.push(score_text(s).as_bytes());
                });
                put_string(buf, &lp.finish(), compress);
                ty::ZSET_LISTPACK
            } else {
                put_len(buf, z.len() as u64);
                // Highest first, as Redis saves skiplists (its loader inserts faster so).
                z.range(0, z.len(), true, |m, s| {
                    put_string(buf, m, compress);
                    buf.extend_from_slice(&s.to_le_bytes());
                });
                ty::ZSET_2
            }
        }
    }
}

/// A DUMP payload, as Redis makes it: type byte, value, RDB version (2 bytes LE), CRC64 of
/// all that (8 bytes LE). Compressed as Redis's default `rdbcompression yes` compresses.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut buf = vec![0];
    buf[0] = encode_value(&mut buf, value, true);
    buf.extend_from_slice(&(crate::format::RDB_VERSION as u16).to_le_bytes());
    let crc = crate::format::crc64(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use shardis_keyspace::StrVal;

    #[test]
    fn an_entry_is_laid_out_as_redis_lays_it_out() {
        let mut buf = Vec::new();
        let v = Value::Str(StrVal::encoded(b"v"));
        encode_entry(&mut buf, b"k", &v, Some(0x0102), true);
        assert_eq!(buf, [0xFC, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, b'k', 1, b'v']);
        let mut buf = Vec::new();
        encode_entry(
            &mut buf,
            b"12",
            &Value::Str(StrVal::encoded(b"-3")),
            None,
            true,
        );
        assert_eq!(buf, [0, 0xC0, 12, 0xC0, 0xFD]);
    }

    #[test]
    fn a_file_is_framed_and_checksummed() {
        let w = RdbWriter::new(Vec::new(), WriteOptions::default()).unwrap();
        let f = w.finish().unwrap();
        assert_eq!(&f[..10], b"REDIS0010\xff");
        assert_eq!(f[10..], crate::crc64(&f[..10]).to_le_bytes());
        // A saver thread owns its writer.
        fn send<T: Send>() {}
        send::<RdbWriter<std::fs::File>>();
    }
}
