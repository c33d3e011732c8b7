//! An AOF-format base file (`aof-use-rdb-preamble no`): the dataset written as the commands
//! that rebuild it, as Redis's rewriteAppendOnlyFileRio writes them. Knows values and bytes
//! only: no sockets, no async, no command execution.

use super::encode::encode_command;
use shardis_keyspace::Value;

/// Elements per command for collections, Redis's AOF_REWRITE_ITEMS_PER_CMD: long
/// collections become several commands so no single command is huge.
const ITEMS_PER_CMD: usize = 64;

/// Appends the commands that recreate `key` (and its expiry) to `buf`.
pub fn encode_entry_as_commands(
    buf: &mut Vec<u8>,
    key: &[u8],
    value: &Value,
    expire_ms: Option<u64>,
) {
    match value {
        Value::Str(s) => encode_command(buf, &[b"SET", key, s]),
        Value::List(l) => {
            let items: Vec<&[u8]> = l.range(0, -1).map(|v| &v[..]).collect();
            batches(buf, b"RPUSH", key, &items);
        }
        Value::Set(s) => {
            let members: Vec<Vec<u8>> = s.iter().map(|e| e.to_vec()).collect();
            let refs: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
            batches(buf, b"SADD", key, &refs);
        }
        Value::Hash(h) => {
            let flat: Vec<&[u8]> = h.iter().flat_map(|(f, v)| [f, v]).collect();
            for chunk in flat.chunks(ITEMS_PER_CMD * 2) {
                let mut args: Vec<&[u8]> = vec![b"HMSET", key];
                args.extend_from_slice(chunk);
                encode_command(buf, &args);
            }
        }
        Value::ZSet(z) => {
            let members = z.iter();
            // Any text strtod reads back to the same double will do; exponent notation
            // keeps extreme scores short ("1e-300", not 300 zeros).
            let scores: Vec<String> = members.iter().map(|(_, s)| format!("{s:e}")).collect();
            for (ms, ss) in members
                .chunks(ITEMS_PER_CMD)
                .zip(scores.chunks(ITEMS_PER_CMD))
            {
                let mut args: Vec<&[u8]> = vec![b"ZADD", key];
                for ((m, _), s) in ms.iter().zip(ss) {
                    args.push(s.as_bytes());
                    args.push(m);
                }
                encode_command(buf, &args);
            }
        }
    }
    if let Some(t) = expire_ms {
        encode_command(buf, &[b"PEXPIREAT", key, t.to_string().as_bytes()]);
    }
}

fn batches(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]]) {
    for chunk in items.chunks(ITEMS_PER_CMD) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend_from_slice(chunk);
        encode_command(buf, &args);
    }
}
