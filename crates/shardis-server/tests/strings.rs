//! String and bitmap commands: every reply compared byte for byte with what redis-server 7.0
//! sends (GET/SET and all their options, SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL
//! GETEX APPEND STRLEN INCR/DECR family INCRBYFLOAT GETRANGE SUBSTR SETRANGE LCS, SETBIT GETBIT
//! BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO), their error replies and size limits, plus a
//! round trip through the `redis` crate.
//!
//! The expected replies were recorded from a real redis-server 7.0. Setting
//! SHARDIS_TEST_AGAINST_REDIS=1 runs these same tests against redis-server instead of shardis,
//! which checks the expectations themselves.

mod common;
use common::*;

#[test]
fn get_and_set_with_nx_xx_get() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    s.is(&["GET", "nokey"], "$-1\r\n");
    s.is(&["SET", "k", "v2", "NX"], "$-1\r\n");
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    s.is(&["SET", "new", "v", "NX"], "+OK\r\n");
    s.is(&["GET", "new"], "$1\r\nv\r\n");
    s.is(&["SET", "k", "v3", "XX"], "+OK\r\n");
    s.is(&["GET", "k"], "$2\r\nv3\r\n");
    s.is(&["SET", "absent", "v", "XX"], "$-1\r\n");
    s.is(&["EXISTS", "absent"], ":0\r\n");
    s.is(&["SET", "k", "v4", "GET"], "$2\r\nv3\r\n");
    s.is(&["SET", "absent2", "v", "GET"], "$-1\r\n");
    s.is(&["GET", "absent2"], "$1\r\nv\r\n");
    s.is(&["SET", "k", "v5", "NX", "GET"], "$2\r\nv4\r\n");
    s.is(&["GET", "k"], "$2\r\nv4\r\n");
    s.is(&["SET", "k", "v6", "XX", "GET"], "$2\r\nv4\r\n");
    s.is(&["GET", "k"], "$2\r\nv6\r\n");
    s.is(&["SET", "absent3", "v", "XX", "GET"], "$-1\r\n");
    s.is(&["EXISTS", "absent3"], ":0\r\n");
    s.is(&["SET", "k", "v7", "nx"], "$-1\r\n");
    s.is(&["SET", "k", "v8", "get"], "$2\r\nv6\r\n");
    s.is(&["SET", "", "empty"], "+OK\r\n");
    s.is(&["GET", ""], "$5\r\nempty\r\n");
    s.is(&["SET", "e", ""], "+OK\r\n");
    s.is(&["GET", "e"], "$0\r\n\r\n");
    s.is(
        &["SET"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    s.is(
        &["SET", "k"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    s.is(
        &["GET"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    s.is(
        &["GET", "a", "b"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    s.is(&["SET", "k", "v", "xx", "nx"], "-ERR syntax error\r\n");
    s.is(&["SET", "k", "v", "NX", "XX"], "-ERR syntax error\r\n");
    s.is(&["SET", "k", "v", "bogus"], "-ERR syntax error\r\n");
    s.is(&["SET", "k", "v", "GET", "GET"], "$2\r\nv8\r\n");
}

#[test]
fn set_expiry_options_and_their_errors() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["SET", "k", "v", "PX", "100000"], "+OK\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["SET", "k", "v", "EXAT", "4000000000"], "+OK\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000000\r\n");
    s.is(&["SET", "k", "v", "PXAT", "4000000000123"], "+OK\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000123\r\n");
    s.is(&["SET", "k", "v", "KEEPTTL"], "+OK\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000123\r\n");
    s.is(&["SET", "k", "v2"], "+OK\r\n");
    s.is(&["TTL", "k"], ":-1\r\n");
    s.is(&["SET", "k", "v", "ex", "100", "GET"], "$2\r\nv2\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["SET", "k", "v", "EX", "1", "EX", "200"], "+OK\r\n");
    s.is(&["TTL", "k"], ":200\r\n");
    s.is(&["SET", "k", "v", "EX"], "-ERR syntax error\r\n");
    s.is(&["SET", "k", "v", "PX"], "-ERR syntax error\r\n");
    s.is(
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["SET", "k", "v", "KEEPTTL", "PXAT", "4000000000000"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["SET", "k", "v", "PX", "100", "EXAT", "5"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "-5"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "PX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "EXAT", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "PXAT", "-1"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SET", "k", "v", "PX", "1.5"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", ""],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "9223372036854775807"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "PX", "9223372036854775807"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "EXAT", "9223372036854775807"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    s.is(
        &["SET", "k", "v", "EX", "9223372036854775808"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":200\r\n");
}

#[test]
fn absolute_expiry_in_the_past_deletes_the_key() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "v", "PXAT", "1"], "+OK\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v", "EXAT", "1", "GET"], "$-1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["SET", "k", "v2", "EXAT", "1", "GET"], "$1\r\nv\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["GETEX", "k", "PXAT", "1"], "$1\r\nv\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["GETEX", "k", "EXAT", "100"], "$1\r\nv\r\n");
    s.is(&["GET", "k"], "$-1\r\n");
}

#[test]
fn setnx_setex_psetex() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SETNX", "k", "v"], ":1\r\n");
    s.is(&["SETNX", "k", "w"], ":0\r\n");
    s.is(&["GET", "k"], "$1\r\nv\r\n");
    s.is(&["SETEX", "k", "100", "v2"], "+OK\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["GET", "k"], "$2\r\nv2\r\n");
    s.is(&["PSETEX", "k", "100000", "v3"], "+OK\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["GET", "k"], "$2\r\nv3\r\n");
    s.is(
        &["SETEX", "k", "0", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    s.is(
        &["SETEX", "k", "-1", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    s.is(
        &["SETEX", "k", "abc", "v"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["SETEX", "k", "9223372036854775807", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    s.is(
        &["PSETEX", "k", "0", "v"],
        "-ERR invalid expire time in 'psetex' command\r\n",
    );
    s.is(
        &["PSETEX", "k", "-10", "v"],
        "-ERR invalid expire time in 'psetex' command\r\n",
    );
    s.is(
        &["PSETEX", "k", "9223372036854775807", "v"],
        "-ERR invalid expire time in 'psetex' command\r\n",
    );
    s.is(&["GET", "k"], "$2\r\nv3\r\n");
    s.is(
        &["SETEX", "k", "10"],
        "-ERR wrong number of arguments for 'setex' command\r\n",
    );
    s.is(
        &["PSETEX", "k", "10"],
        "-ERR wrong number of arguments for 'psetex' command\r\n",
    );
    s.is(
        &["SETNX", "k"],
        "-ERR wrong number of arguments for 'setnx' command\r\n",
    );
    s.is(
        &["SETNX", "k", "v", "extra"],
        "-ERR wrong number of arguments for 'setnx' command\r\n",
    );
}

#[test]
fn mget_mset_msetnx() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["MSET", "a", "1", "b", "2", "c", "3"], "+OK\r\n");
    s.is(
        &["MGET", "a", "b", "c", "d"],
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n",
    );
    s.is(&["MGET", "d"], "*1\r\n$-1\r\n");
    s.is(
        &["MSET", "a", "1", "b"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    );
    s.is(
        &["MSET", "a"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    );
    s.is(&["MSETNX", "a", "10", "x", "20"], ":0\r\n");
    s.is(&["EXISTS", "x"], ":0\r\n");
    s.is(&["MSETNX", "x", "10", "y", "20"], ":1\r\n");
    s.is(&["MGET", "x", "y"], "*2\r\n$2\r\n10\r\n$2\r\n20\r\n");
    s.is(&["MSETNX", "z", "1", "z", "2"], ":1\r\n");
    s.is(&["GET", "z"], "$1\r\n2\r\n");
    s.is(&["MSET", "a", "1", "a", "2"], "+OK\r\n");
    s.is(&["GET", "a"], "$1\r\n2\r\n");
    s.is(
        &["MSETNX", "p"],
        "-ERR wrong number of arguments for 'msetnx' command\r\n",
    );
    s.is(
        &["MSETNX", "p", "1", "q"],
        "-ERR wrong number of arguments for 'msetnx' command\r\n",
    );
    s.is(
        &["MGET"],
        "-ERR wrong number of arguments for 'mget' command\r\n",
    );
}

#[test]
fn getset_getdel_getex() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["GETSET", "k", "v"], "$-1\r\n");
    s.is(&["GETSET", "k", "w"], "$1\r\nv\r\n");
    s.is(&["GET", "k"], "$1\r\nw\r\n");
    s.is(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    s.is(&["GETSET", "k", "w2"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":-1\r\n");
    s.is(&["GETDEL", "k"], "$2\r\nw2\r\n");
    s.is(&["GETDEL", "k"], "$-1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(
        &["GETSET", "k"],
        "-ERR wrong number of arguments for 'getset' command\r\n",
    );
    s.is(
        &["GETDEL"],
        "-ERR wrong number of arguments for 'getdel' command\r\n",
    );
    s.is(
        &["GETDEL", "a", "b"],
        "-ERR wrong number of arguments for 'getdel' command\r\n",
    );
    s.is(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    s.is(&["GETEX", "k"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["GETEX", "k", "PERSIST"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":-1\r\n");
    s.is(&["GETEX", "k", "EX", "50"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":50\r\n");
    s.is(&["GETEX", "k", "PX", "20000"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":20\r\n");
    s.is(&["GETEX", "k", "EXAT", "4000000000"], "$1\r\nv\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000000\r\n");
    s.is(&["GETEX", "k", "PXAT", "4000000000500"], "$1\r\nv\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000500\r\n");
    s.is(&["GETEX", "k", "ex", "30"], "$1\r\nv\r\n");
    s.is(&["TTL", "k"], ":30\r\n");
    s.is(
        &["GETEX", "k", "EX", "0"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    s.is(
        &["GETEX", "k", "EX", "-1"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    s.is(
        &["GETEX", "k", "PX", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["GETEX", "k", "EX"], "-ERR syntax error\r\n");
    s.is(
        &["GETEX", "k", "EX", "10", "PX", "10"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["GETEX", "k", "PERSIST", "EX", "10"],
        "-ERR syntax error\r\n",
    );
    s.is(&["GETEX", "k", "bogus"], "-ERR syntax error\r\n");
    s.is(&["GETEX", "k", "KEEPTTL"], "-ERR syntax error\r\n");
    s.is(
        &["GETEX", "k", "EX", "9223372036854775807"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    s.is(
        &["GETEX", "k", "PXAT", "0"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    s.is(&["TTL", "k"], ":30\r\n");
    s.is(&["GETEX", "nokey", "EX", "10"], "$-1\r\n");
    s.is(&["GETEX", "nokey"], "$-1\r\n");
    s.is(&["EXISTS", "nokey"], ":0\r\n");
    s.is(
        &["GETEX"],
        "-ERR wrong number of arguments for 'getex' command\r\n",
    );
}

#[test]
fn append_and_strlen() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["APPEND", "k", "hello"], ":5\r\n");
    s.is(&["APPEND", "k", " world"], ":11\r\n");
    s.is(&["GET", "k"], "$11\r\nhello world\r\n");
    s.is(&["STRLEN", "k"], ":11\r\n");
    s.is(&["STRLEN", "nokey"], ":0\r\n");
    s.is(&["APPEND", "k", ""], ":11\r\n");
    s.is(&["SET", "n", "10"], "+OK\r\n");
    s.is(&["APPEND", "n", "5"], ":3\r\n");
    s.is(&["GET", "n"], "$3\r\n105\r\n");
    s.is(&["STRLEN", "n"], ":3\r\n");
    s.is(&["SET", "e", ""], "+OK\r\n");
    s.is(&["STRLEN", "e"], ":0\r\n");
    s.is(&["APPEND", "emp", ""], ":0\r\n");
    s.is(&["EXISTS", "emp"], ":1\r\n");
    s.is(&["SET", "u", "héllo"], "+OK\r\n");
    s.is(&["STRLEN", "u"], ":6\r\n");
    s.is(&["SET", "t", "v", "EX", "100"], "+OK\r\n");
    s.is(&["APPEND", "t", "w"], ":2\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(
        &["APPEND", "k"],
        "-ERR wrong number of arguments for 'append' command\r\n",
    );
    s.is(
        &["STRLEN"],
        "-ERR wrong number of arguments for 'strlen' command\r\n",
    );
    s.is(
        &["STRLEN", "a", "b"],
        "-ERR wrong number of arguments for 'strlen' command\r\n",
    );
}

#[test]
fn incr_decr_incrby_decrby_and_overflow() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["INCR", "n"], ":1\r\n");
    s.is(&["INCR", "n"], ":2\r\n");
    s.is(&["DECR", "n"], ":1\r\n");
    s.is(&["DECR", "n"], ":0\r\n");
    s.is(&["DECR", "n"], ":-1\r\n");
    s.is(&["INCRBY", "n", "100"], ":99\r\n");
    s.is(&["DECRBY", "n", "50"], ":49\r\n");
    s.is(&["INCRBY", "n", "-60"], ":-11\r\n");
    s.is(&["DECRBY", "n", "-10"], ":-1\r\n");
    s.is(&["GET", "n"], "$2\r\n-1\r\n");
    s.is(&["SET", "n", "9223372036854775806"], "+OK\r\n");
    s.is(&["INCR", "n"], ":9223372036854775807\r\n");
    s.is(
        &["INCR", "n"],
        "-ERR increment or decrement would overflow\r\n",
    );
    s.is(&["GET", "n"], "$19\r\n9223372036854775807\r\n");
    s.is(
        &["INCRBY", "n", "1"],
        "-ERR increment or decrement would overflow\r\n",
    );
    s.is(&["INCRBY", "n", "-1"], ":9223372036854775806\r\n");
    s.is(&["SET", "n", "-9223372036854775807"], "+OK\r\n");
    s.is(&["DECR", "n"], ":-9223372036854775808\r\n");
    s.is(
        &["DECR", "n"],
        "-ERR increment or decrement would overflow\r\n",
    );
    s.is(
        &["DECRBY", "n", "1"],
        "-ERR increment or decrement would overflow\r\n",
    );
    s.is(
        &["INCRBY", "n", "-1"],
        "-ERR increment or decrement would overflow\r\n",
    );
    s.is(&["GET", "n"], "$20\r\n-9223372036854775808\r\n");
    s.is(&["SET", "n", "0"], "+OK\r\n");
    s.is(
        &["DECRBY", "n", "-9223372036854775808"],
        "-ERR decrement would overflow\r\n",
    );
    s.is(
        &["INCRBY", "n", "-9223372036854775808"],
        ":-9223372036854775808\r\n",
    );
    s.is(
        &["INCRBY", "n", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["INCRBY", "n", "1.5"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["INCRBY", "n", "9223372036854775808"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["INCRBY", "n", ""],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["DECRBY", "n", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "abc"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["DECR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", " 1"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "1 "], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "01"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "+1"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "-0"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "1.0"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", ""], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "9223372036854775808"], "+OK\r\n");
    s.is(
        &["INCR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "-9223372036854775809"], "+OK\r\n");
    s.is(
        &["DECR", "s"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "t", "10", "EX", "100"], "+OK\r\n");
    s.is(&["INCR", "t"], ":11\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(
        &["INCR"],
        "-ERR wrong number of arguments for 'incr' command\r\n",
    );
    s.is(
        &["INCR", "a", "b"],
        "-ERR wrong number of arguments for 'incr' command\r\n",
    );
    s.is(
        &["INCRBY", "n"],
        "-ERR wrong number of arguments for 'incrby' command\r\n",
    );
    s.is(
        &["DECRBY", "n"],
        "-ERR wrong number of arguments for 'decrby' command\r\n",
    );
    s.is(
        &["DECR"],
        "-ERR wrong number of arguments for 'decr' command\r\n",
    );
}

#[test]
fn incrbyfloat_uses_long_double_precision() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["INCRBYFLOAT", "f", "10.5"], "$4\r\n10.5\r\n");
    s.is(&["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n");
    s.is(&["INCRBYFLOAT", "f", "-5"], "$3\r\n5.6\r\n");
    s.is(
        &["INCRBYFLOAT", "f", "5.0e3"],
        "$22\r\n5005.60000000000000009\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", "2.0e-1"],
        "$22\r\n5005.80000000000000027\r\n",
    );
    s.is(&["GET", "f"], "$22\r\n5005.80000000000000027\r\n");
    s.is(&["SET", "f", "3"], "+OK\r\n");
    s.is(&["INCRBYFLOAT", "f", "1"], "$1\r\n4\r\n");
    s.is(&["SET", "f", "5.0e3"], "+OK\r\n");
    s.is(&["INCRBYFLOAT", "f", "0"], "$4\r\n5000\r\n");
    s.is(&["SET", "f", "1.5"], "+OK\r\n");
    s.is(&["INCRBYFLOAT", "f", "-1.5"], "$1\r\n0\r\n");
    s.is(&["INCRBYFLOAT", "f", "0.1"], "$3\r\n0.1\r\n");
    s.is(&["INCRBYFLOAT", "f", "0.2"], "$3\r\n0.3\r\n");
    s.is(&["INCRBYFLOAT", "g", "3.0"], "$1\r\n3\r\n");
    s.is(
        &["INCRBYFLOAT", "g", "1.23456789012345678"],
        "$19\r\n4.23456789012345678\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "h", "1e20"],
        "$21\r\n100000000000000000000\r\n",
    );
    s.is(&["INCRBYFLOAT", "h2", "-0"], "$1\r\n0\r\n");
    s.is(&["INCRBYFLOAT", "h3", "0x10"], "$2\r\n16\r\n");
    s.is(&["INCRBYFLOAT", "h4", "-1.5e-3"], "$7\r\n-0.0015\r\n");
    s.is(&["SET", "f", "1e308"], "+OK\r\n");
    s.is(
        &["INCRBYFLOAT", "f", "1e308"],
        "$309\r\n\
         1999999999999999999933717593116912913211201996948311344155940959898434697376761237442\
         0025384377707864089349445010802644630426949918792116719484162886039283753591820003920\
         6381557326219209014213335878306791577877829121087126122536729803237260434173178506889\
         763247582601711514636284849020905456510092687857156096\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", "abc"],
        "-ERR value is not a valid float\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", ""],
        "-ERR value is not a valid float\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", " 1"],
        "-ERR value is not a valid float\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", "inf"],
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", "-inf"],
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    s.is(
        &["INCRBYFLOAT", "f", "nan"],
        "-ERR value is not a valid float\r\n",
    );
    s.is(&["SET", "f", "abc"], "+OK\r\n");
    s.is(
        &["INCRBYFLOAT", "f", "1"],
        "-ERR value is not a valid float\r\n",
    );
    s.is(&["SET", "f", " 1"], "+OK\r\n");
    s.is(
        &["INCRBYFLOAT", "f", "1"],
        "-ERR value is not a valid float\r\n",
    );
    s.is(&["SET", "t", "1", "EX", "100"], "+OK\r\n");
    s.is(&["INCRBYFLOAT", "t", "1"], "$1\r\n2\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(
        &["INCRBYFLOAT", "f"],
        "-ERR wrong number of arguments for 'incrbyfloat' command\r\n",
    );
}

#[test]
fn getrange_substr_setrange() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "Hello World"], "+OK\r\n");
    s.is(&["GETRANGE", "k", "0", "4"], "$5\r\nHello\r\n");
    s.is(&["GETRANGE", "k", "-5", "-1"], "$5\r\nWorld\r\n");
    s.is(&["GETRANGE", "k", "0", "-1"], "$11\r\nHello World\r\n");
    s.is(&["GETRANGE", "k", "0", "100"], "$11\r\nHello World\r\n");
    s.is(&["GETRANGE", "k", "5", "3"], "$0\r\n\r\n");
    s.is(&["GETRANGE", "k", "-100", "2"], "$3\r\nHel\r\n");
    s.is(&["GETRANGE", "k", "20", "30"], "$0\r\n\r\n");
    s.is(&["GETRANGE", "k", "-1", "-5"], "$0\r\n\r\n");
    s.is(&["GETRANGE", "k", "10", "10"], "$1\r\nd\r\n");
    s.is(&["GETRANGE", "k", "11", "11"], "$0\r\n\r\n");
    s.is(&["GETRANGE", "k", "0", "-100"], "$1\r\nH\r\n");
    s.is(&["GETRANGE", "k", "-100", "-100"], "$1\r\nH\r\n");
    s.is(
        &["GETRANGE", "k", "0", "9223372036854775807"],
        "$11\r\nHello World\r\n",
    );
    s.is(
        &["GETRANGE", "k", "-9223372036854775808", "3"],
        "$4\r\nHell\r\n",
    );
    s.is(&["GETRANGE", "nokey", "0", "-1"], "$0\r\n\r\n");
    s.is(
        &["GETRANGE", "k", "a", "1"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["GETRANGE", "k", "0", "b"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["GETRANGE", "k", "0"],
        "-ERR wrong number of arguments for 'getrange' command\r\n",
    );
    s.is(&["SUBSTR", "k", "0", "4"], "$5\r\nHello\r\n");
    s.is(&["SUBSTR", "k", "-3", "-1"], "$3\r\nrld\r\n");
    s.is(&["SUBSTR", "nokey", "0", "1"], "$0\r\n\r\n");
    s.is(
        &["SUBSTR", "k", "1"],
        "-ERR wrong number of arguments for 'substr' command\r\n",
    );
    s.is(&["SETRANGE", "k", "6", "Redis"], ":11\r\n");
    s.is(&["GET", "k"], "$11\r\nHello Redis\r\n");
    s.is(&["SETRANGE", "k", "13", "!"], ":14\r\n");
    s.is_bytes(&[b"GET", b"k"], b"$14\r\nHello Redis\x00\x00!\r\n");
    s.is(&["STRLEN", "k"], ":14\r\n");
    s.is(&["SETRANGE", "new", "3", "abc"], ":6\r\n");
    s.is_bytes(&[b"GET", b"new"], b"$6\r\n\x00\x00\x00abc\r\n");
    s.is(
        &["SETRANGE", "k", "-1", "x"],
        "-ERR offset is out of range\r\n",
    );
    s.is(
        &["SETRANGE", "k", "abc", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SETRANGE", "empty", "5", ""], ":0\r\n");
    s.is(&["EXISTS", "empty"], ":0\r\n");
    s.is(&["SETRANGE", "k", "0", ""], ":14\r\n");
    s.is_bytes(&[b"GET", b"k"], b"$14\r\nHello Redis\x00\x00!\r\n");
    s.is(&["SET", "t", "v", "EX", "100"], "+OK\r\n");
    s.is(&["SETRANGE", "t", "0", "w"], ":1\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(&["SET", "e", ""], "+OK\r\n");
    s.is(&["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n");
    s.is(&["GETRANGE", "e", "0", "0"], "$0\r\n\r\n");
    s.is(
        &["SETRANGE", "k", "0"],
        "-ERR wrong number of arguments for 'setrange' command\r\n",
    );
}

#[test]
fn offsets_are_bounded_by_default_proto_max_bulk_len() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    // Nothing here may allocate: every offset is rejected, or the write is empty.
    s.is(
        &["SETRANGE", "k", "536870912", "x"],
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    s.is(
        &["SETRANGE", "k", "9223372036854775807", "x"],
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    s.is(&["SETRANGE", "k", "536870912", ""], ":0\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(
        &["SETBIT", "k", "4294967296", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "k", "9223372036854775807", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["GETBIT", "k", "4294967296"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "k", "SET", "u8", "4294967296", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "k", "SET", "u8", "#536870912", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "k", "GET", "u8", "#536870911"],
        "*1\r\n:0\r\n",
    );
    s.is(&["EXISTS", "k"], ":0\r\n");
}

#[test]
fn offsets_are_bounded_by_configured_proto_max_bulk_len() {
    let srv = start(&["--proto-max-bulk-len", "1mb"]);
    let mut s = Check::new(&srv);
    s.is(
        &["SETRANGE", "k", "1048576", "x"],
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    s.is(&["SETRANGE", "k", "1048575", "x"], ":1048576\r\n");
    s.is(&["STRLEN", "k"], ":1048576\r\n");
    s.is(
        &["SETBIT", "b", "8388608", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(&["SETBIT", "b", "8388607", "1"], ":0\r\n");
    s.is(&["STRLEN", "b"], ":1048576\r\n");
    s.is(
        &["APPEND", "k", "x"],
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    s.is(&["STRLEN", "k"], ":1048576\r\n");
    s.is(&["SET", "s", "abc"], "+OK\r\n");
    s.is(&["SETRANGE", "s", "1048576", ""], ":3\r\n");
    s.is(
        &["SETRANGE", "s", "1048576", "x"],
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
    );
    s.is(&["GETRANGE", "s", "0", "-1"], "$3\r\nabc\r\n");
    s.is(
        &["CONFIG", "GET", "proto-max-bulk-len"],
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n",
    );
}

#[test]
fn lcs_with_len_idx_minmatchlen_withmatchlen() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
        "+OK\r\n",
    );
    s.is(&["LCS", "key1", "key2"], "$6\r\nmytext\r\n");
    s.is(&["LCS", "key1", "key2", "LEN"], ":6\r\n");
    s.is(
        &["LCS", "key1", "key2", "IDX"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n\
         :2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"],
        "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n\
         :6\r\n",
    );
    s.is(
        &[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN",
        ],
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\n\
         len\r\n:6\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n\
         *2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
    );
    s.is(
        &[
            "LCS",
            "key1",
            "key2",
            "idx",
            "withmatchlen",
            "minmatchlen",
            "3",
        ],
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\n\
         len\r\n:6\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "LEN", "IDX"],
        "-ERR If you want both the length and indexes, please just use IDX.\r\n",
    );
    s.is(&["LCS", "key1", "key2", "WITHMATCHLEN"], "$6\r\nmytext\r\n");
    s.is(
        &["LCS", "key1", "key2", "MINMATCHLEN", "2"],
        "$6\r\nmytext\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "MINMATCHLEN", "-1", "IDX"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n\
         :2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["LCS", "key1", "key2", "IDX", "MINMATCHLEN"],
        "-ERR syntax error\r\n",
    );
    s.is(&["LCS", "key1", "key2", "bogus"], "-ERR syntax error\r\n");
    s.is(&["LCS", "key1", "nokey"], "$0\r\n\r\n");
    s.is(&["LCS", "key1", "nokey", "LEN"], ":0\r\n");
    s.is(
        &["LCS", "key1", "nokey", "IDX"],
        "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
    );
    s.is(
        &["LCS", "nokey1", "nokey2", "IDX", "WITHMATCHLEN"],
        "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
    );
    s.is(&["LCS", "key1", "key1", "LEN"], ":8\r\n");
    s.is(
        &["LCS", "key1"],
        "-ERR wrong number of arguments for 'lcs' command\r\n",
    );
    s.is(&["MSET", "a", "ABCBDAB", "b", "BDCABA"], "+OK\r\n");
    s.is(&["LCS", "a", "b"], "$4\r\nBDAB\r\n");
    s.is(&["LCS", "a", "b", "LEN"], ":4\r\n");
    s.is(
        &["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n:2\r\n*3\r\n\
         *2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:4\r\n",
    );
    s.is(
        &["LCS", "a", "b", "IDX", "MINMATCHLEN", "2"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n*2\r\n*2\r\n\
         :3\r\n:4\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:4\r\n",
    );
}

#[test]
fn setbit_and_getbit() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SETBIT", "b", "7", "1"], ":0\r\n");
    s.is_bytes(&[b"GET", b"b"], b"$1\r\n\x01\r\n");
    s.is(&["SETBIT", "b", "7", "0"], ":1\r\n");
    s.is_bytes(&[b"GET", b"b"], b"$1\r\n\x00\r\n");
    s.is(&["SETBIT", "b", "7", "1"], ":0\r\n");
    s.is(&["SETBIT", "b", "0", "1"], ":0\r\n");
    s.is_bytes(&[b"GET", b"b"], b"$1\r\n\x81\r\n");
    s.is(&["GETBIT", "b", "0"], ":1\r\n");
    s.is(&["GETBIT", "b", "1"], ":0\r\n");
    s.is(&["GETBIT", "b", "7"], ":1\r\n");
    s.is(&["GETBIT", "b", "8"], ":0\r\n");
    s.is(&["GETBIT", "b", "100"], ":0\r\n");
    s.is(&["GETBIT", "nokey", "0"], ":0\r\n");
    s.is(&["EXISTS", "nokey"], ":0\r\n");
    s.is(&["STRLEN", "b"], ":1\r\n");
    s.is(&["SETBIT", "b", "23", "1"], ":0\r\n");
    s.is(&["STRLEN", "b"], ":3\r\n");
    s.is_bytes(&[b"GET", b"b"], b"$3\r\n\x81\x00\x01\r\n");
    s.is(&["SETBIT", "nokey2", "0", "0"], ":0\r\n");
    s.is_bytes(&[b"GET", b"nokey2"], b"$1\r\n\x00\r\n");
    s.is(
        &["SETBIT", "b", "0", "2"],
        "-ERR bit is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "0", "-1"],
        "-ERR bit is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "0", "a"],
        "-ERR bit is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "0", ""],
        "-ERR bit is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "-1", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "abc", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["SETBIT", "b", "1.5", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["GETBIT", "b", "-1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["GETBIT", "b", "abc"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["GETBIT", "b", "9223372036854775807"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(&["SET", "s", "foo"], "+OK\r\n");
    s.is(&["SETBIT", "s", "0", "1"], ":0\r\n");
    s.is_bytes(&[b"GET", b"s"], b"$3\r\n\xe6oo\r\n");
    s.is(&["GETBIT", "s", "1"], ":1\r\n");
    s.is(&["GETBIT", "s", "2"], ":1\r\n");
    s.is(&["SET", "t", "v", "EX", "100"], "+OK\r\n");
    s.is(&["SETBIT", "t", "0", "1"], ":0\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(
        &["SETBIT", "b", "0"],
        "-ERR wrong number of arguments for 'setbit' command\r\n",
    );
    s.is(
        &["GETBIT", "b"],
        "-ERR wrong number of arguments for 'getbit' command\r\n",
    );
}

#[test]
fn bitcount_and_bitpos_in_byte_and_bit_units() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "foobar"], "+OK\r\n");
    s.is(&["BITCOUNT", "k"], ":26\r\n");
    s.is(&["BITCOUNT", "k", "0", "0"], ":4\r\n");
    s.is(&["BITCOUNT", "k", "1", "1"], ":6\r\n");
    s.is(&["BITCOUNT", "k", "-2", "-1"], ":7\r\n");
    s.is(&["BITCOUNT", "k", "0", "-1"], ":26\r\n");
    s.is(&["BITCOUNT", "k", "5", "30"], ":4\r\n");
    s.is(&["BITCOUNT", "k", "3", "1"], ":0\r\n");
    s.is(&["BITCOUNT", "k", "-100", "100"], ":26\r\n");
    s.is(&["BITCOUNT", "k", "1", "1", "BIT"], ":1\r\n");
    s.is(&["BITCOUNT", "k", "5", "30", "BIT"], ":17\r\n");
    s.is(&["BITCOUNT", "k", "-5", "-1", "BIT"], ":2\r\n");
    s.is(&["BITCOUNT", "k", "0", "-1", "BYTE"], ":26\r\n");
    s.is(&["BITCOUNT", "k", "0", "-1", "bit"], ":26\r\n");
    s.is(
        &["BITCOUNT", "k", "0", "-1", "bogus"],
        "-ERR syntax error\r\n",
    );
    s.is(&["BITCOUNT", "k", "0"], "-ERR syntax error\r\n");
    s.is(
        &["BITCOUNT", "k", "a", "1"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["BITCOUNT", "k", "0", "1", "BIT", "extra"],
        "-ERR syntax error\r\n",
    );
    s.is(&["BITCOUNT", "nokey"], ":0\r\n");
    s.is(&["BITCOUNT", "nokey", "0", "1"], ":0\r\n");
    s.is(&["BITCOUNT", "nokey", "0", "1", "BIT"], ":0\r\n");
    s.is(
        &["BITCOUNT"],
        "-ERR wrong number of arguments for 'bitcount' command\r\n",
    );
    s.is(&["SET", "p", "000"], "+OK\r\n");
    s.is(&["BITPOS", "p", "0"], ":0\r\n");
    s.is(&["BITPOS", "p", "1"], ":2\r\n");
    s.is(&["SETBIT", "q", "20", "1"], ":0\r\n");
    s.is(&["BITPOS", "q", "1"], ":20\r\n");
    s.is(&["BITPOS", "q", "0"], ":0\r\n");
    s.is(&["BITPOS", "q", "1", "0"], ":20\r\n");
    s.is(&["BITPOS", "q", "1", "3"], ":-1\r\n");
    s.is(&["BITPOS", "q", "1", "0", "1"], ":-1\r\n");
    s.is(&["BITPOS", "q", "1", "2", "2"], ":20\r\n");
    s.is(&["BITPOS", "q", "1", "-1"], ":20\r\n");
    s.is(&["BITPOS", "q", "1", "0", "-1", "BIT"], ":20\r\n");
    s.is(&["BITPOS", "q", "1", "21", "-1", "BIT"], ":-1\r\n");
    s.is(&["BITPOS", "q", "1", "20", "20", "BIT"], ":20\r\n");
    s.is(&["BITPOS", "q", "1", "0", "19", "BIT"], ":-1\r\n");
    s.is(&["BITPOS", "q", "0", "2", "-1"], ":16\r\n");
    s.is(&["BITPOS", "q", "0", "0", "-1", "bit"], ":0\r\n");
    s.is_bytes(&[b"SET", b"ones", b"\xff\xff"], b"+OK\r\n");
    s.is(&["BITPOS", "ones", "0"], ":16\r\n");
    s.is(&["BITPOS", "ones", "0", "0"], ":16\r\n");
    s.is(&["BITPOS", "ones", "0", "0", "-1"], ":-1\r\n");
    s.is(&["BITPOS", "ones", "0", "0", "-1", "BIT"], ":-1\r\n");
    s.is(&["BITPOS", "ones", "0", "3", "9", "BIT"], ":-1\r\n");
    s.is(&["BITPOS", "ones", "1", "1"], ":8\r\n");
    s.is(&["BITPOS", "ones", "1", "5", "1"], ":-1\r\n");
    s.is_bytes(&[b"SET", b"z", b"\x00\x00\x01"], b"+OK\r\n");
    s.is(&["BITPOS", "z", "1"], ":23\r\n");
    s.is(&["BITPOS", "z", "1", "-1"], ":23\r\n");
    s.is(&["BITPOS", "z", "0", "2"], ":16\r\n");
    s.is(&["BITPOS", "z", "1", "0", "-1", "BYTE"], ":23\r\n");
    s.is(&["BITPOS", "z", "0", "23", "23", "BIT"], ":-1\r\n");
    s.is(&["BITPOS", "z", "1", "23", "23", "BIT"], ":23\r\n");
    s.is(&["BITPOS", "z", "1", "16", "22", "BIT"], ":-1\r\n");
    s.is(&["BITCOUNT", "z", "0", "-1", "BIT"], ":1\r\n");
    s.is(&["BITPOS", "nokey", "0"], ":0\r\n");
    s.is(&["BITPOS", "nokey", "1"], ":-1\r\n");
    s.is(&["BITPOS", "nokey", "0", "5", "10", "BIT"], ":0\r\n");
    s.is(
        &["BITPOS", "q", "2"],
        "-ERR The bit argument must be 1 or 0.\r\n",
    );
    s.is(
        &["BITPOS", "q", "-1"],
        "-ERR The bit argument must be 1 or 0.\r\n",
    );
    s.is(
        &["BITPOS", "q", "1", "a"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["BITPOS", "q", "1", "0", "a"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["BITPOS", "q", "1", "0", "1", "bogus"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["BITPOS", "q", "1", "0", "1", "BIT", "x"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["BITPOS", "q"],
        "-ERR wrong number of arguments for 'bitpos' command\r\n",
    );
}

#[test]
fn bitop() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is_bytes(&[b"SET", b"a", b"\xf0\x0f"], b"+OK\r\n");
    s.is_bytes(&[b"SET", b"b", b"\xff"], b"+OK\r\n");
    s.is(&["BITOP", "AND", "dest", "a", "b"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\xf0\x00\r\n");
    s.is(&["BITOP", "OR", "dest", "a", "b"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\xff\x0f\r\n");
    s.is(&["BITOP", "XOR", "dest", "a", "b"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\x0f\x0f\r\n");
    s.is(&["BITOP", "NOT", "dest", "a"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\x0f\xf0\r\n");
    s.is(&["BITOP", "XOR", "dest", "a", "b", "a"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\xff\x00\r\n");
    s.is(&["BITOP", "and", "dest2", "a"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest2"], b"$2\r\n\xf0\x0f\r\n");
    s.is(&["BITOP", "OR", "dest", "a", "nokey"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\xf0\x0f\r\n");
    s.is(&["BITOP", "AND", "dest", "a", "nokey"], ":2\r\n");
    s.is_bytes(&[b"GET", b"dest"], b"$2\r\n\x00\x00\r\n");
    s.is(&["BITOP", "AND", "dest", "nokey1", "nokey2"], ":0\r\n");
    s.is(&["EXISTS", "dest"], ":0\r\n");
    s.is(&["SET", "dest", "x"], "+OK\r\n");
    s.is(&["BITOP", "NOT", "dest", "nokey"], ":0\r\n");
    s.is(&["EXISTS", "dest"], ":0\r\n");
    s.is(
        &["BITOP", "NOT", "dest", "a", "b"],
        "-ERR BITOP NOT must be called with a single source key.\r\n",
    );
    s.is(
        &["BITOP", "nand", "dest", "a", "b"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["BITOP", "AND", "dest"],
        "-ERR wrong number of arguments for 'bitop' command\r\n",
    );
    s.is(
        &["BITOP", "NOT", "dest"],
        "-ERR wrong number of arguments for 'bitop' command\r\n",
    );
    s.is(
        &["BITOP"],
        "-ERR wrong number of arguments for 'bitop' command\r\n",
    );
    s.is(&["SET", "t", "v", "EX", "100"], "+OK\r\n");
    s.is(&["BITOP", "OR", "t", "a"], ":2\r\n");
    s.is(&["TTL", "t"], ":-1\r\n");
}

#[test]
fn bitfield_and_bitfield_ro() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(
        &["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"],
        "*2\r\n:0\r\n:100\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "INCRBY", "i8", "0", "100"],
        "*1\r\n:-56\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100",
        ],
        "*1\r\n:44\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1",
        ],
        "*1\r\n:45\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "1", "GET", "i8", "0",
        ],
        "*2\r\n:46\r\n:46\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "SET", "u4", "#1", "15", "GET", "u4", "#1", "GET", "u4", "4",
        ],
        "*3\r\n:14\r\n:15\r\n:15\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "u8", "0", "GET", "u8", "8"],
        "*2\r\n:47\r\n:0\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u4", "0", "100", "INCRBY", "u4", "0",
            "-100",
        ],
        "*2\r\n:15\r\n:0\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "16", "GET", "u4", "0",
        ],
        "*2\r\n$-1\r\n:0\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "0", "5",
        ],
        "*1\r\n:1\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "i64", "0"],
        "*1\r\n:5692549928996306944\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "u63", "0"],
        "*1\r\n:2846274964498153472\r\n",
    );
    s.is(
        &[
            "BITFIELD",
            "bf",
            "SET",
            "i64",
            "0",
            "-9223372036854775808",
            "GET",
            "i64",
            "0",
        ],
        "*2\r\n:5692549928996306944\r\n:-9223372036854775808\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "SET", "i8", "0", "300", "GET", "i8", "0"],
        "*2\r\n:-128\r\n:44\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "SET", "u8", "0", "-1", "GET", "u8", "0"],
        "*2\r\n:44\r\n:255\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "300", "GET", "u8", "0",
        ],
        "*2\r\n$-1\r\n:255\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "-300", "GET", "i8", "0",
        ],
        "*2\r\n:-1\r\n:-128\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "300", "GET", "u8", "0",
        ],
        "*2\r\n:128\r\n:255\r\n",
    );
    s.is(
        &[
            "BITFIELD",
            "bf",
            "OVERFLOW",
            "SAT",
            "INCRBY",
            "i64",
            "0",
            "9223372036854775807",
        ],
        "*1\r\n:9151314442816847871\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1",
        ],
        "*1\r\n:9151314442816847872\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "1",
        ],
        "*1\r\n:9151314442816847873\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "GET", "u8", "0", "GET", "u4", "#3", "OVERFLOW", "SAT",
        ],
        "*2\r\n:127\r\n:0\r\n",
    );
    s.is(
        &[
            "BITFIELD", "bf", "set", "u8", "#0", "255", "get", "u8", "#0",
        ],
        "*2\r\n:127\r\n:255\r\n",
    );
    s.is(&["BITFIELD", "bf"], "*0\r\n");
    s.is(&["BITFIELD", "nokey", "GET", "u8", "0"], "*1\r\n:0\r\n");
    s.is(&["EXISTS", "nokey"], ":0\r\n");
    s.is(
        &[
            "BITFIELD", "nokey2", "SET", "i16", "#2", "-1", "GET", "i16", "#2", "GET", "u16", "#2",
        ],
        "*3\r\n:0\r\n:-1\r\n:65535\r\n",
    );
    s.is(&["STRLEN", "nokey2"], ":6\r\n");
    s.is(
        &[
            "BITFIELD", "nokey3", "INCRBY", "i5", "100", "1", "GET", "u4", "0",
        ],
        "*2\r\n:1\r\n:0\r\n",
    );
    s.is(&["STRLEN", "nokey3"], ":14\r\n");
    s.is(
        &["BITFIELD", "bf", "GET", "u64", "0"],
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
         supported but i64 is.\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "i65", "0"],
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
         supported but i64 is.\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "x8", "0"],
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
         supported but i64 is.\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "i0", "0"],
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
         supported but i64 is.\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "u8", "-1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "u8", "a"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "SET", "u8", "#-1", "1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "SET", "u8", "0", "a"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "INCRBY", "u8", "0", "a"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "OVERFLOW", "nope"],
        "-ERR Invalid OVERFLOW type specified\r\n",
    );
    s.is(&["BITFIELD", "bf", "bogus"], "-ERR syntax error\r\n");
    s.is(&["BITFIELD", "bf", "GET", "u8"], "-ERR syntax error\r\n");
    s.is(
        &["BITFIELD", "bf", "SET", "u8", "0"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["BITFIELD", "bf", "GET", "u8", "0", "bogus"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["BITFIELD"],
        "-ERR wrong number of arguments for 'bitfield' command\r\n",
    );
    s.is(
        &["BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i8", "0"],
        "*2\r\n:255\r\n:-1\r\n",
    );
    s.is(
        &["BITFIELD_RO", "bf", "SET", "u8", "0", "1"],
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n",
    );
    s.is(
        &["BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"],
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n",
    );
    s.is(
        &["BITFIELD_RO", "bf", "GET", "u8", "0", "SET", "u8", "0", "1"],
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n",
    );
    s.is(&["BITFIELD_RO", "nokey", "GET", "u8", "0"], "*1\r\n:0\r\n");
    s.is(&["BITFIELD_RO", "bf"], "*0\r\n");
    s.is(&["BITFIELD_RO", "bf", "GET", "u8"], "-ERR syntax error\r\n");
    s.is(
        &["BITFIELD_RO", "bf", "GET", "u64", "0"],
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
         supported but i64 is.\r\n",
    );
    s.is(
        &["BITFIELD_RO", "bf", "GET", "u8", "-1"],
        "-ERR bit offset is not an integer or out of range\r\n",
    );
    s.is(
        &["BITFIELD_RO"],
        "-ERR wrong number of arguments for 'bitfield_ro' command\r\n",
    );
}

#[test]
fn string_commands_through_the_redis_crate() {
    let srv = start(&[]);
    let mut con = srv.client();
    let ok: String = redis::cmd("SET")
        .arg("greeting")
        .arg("hello")
        .query(&mut con)
        .unwrap();
    assert_eq!(ok, "OK");
    let v: Option<String> = redis::cmd("GET").arg("greeting").query(&mut con).unwrap();
    assert_eq!(v.as_deref(), Some("hello"));
    let v: Option<String> = redis::cmd("GET").arg("missing").query(&mut con).unwrap();
    assert_eq!(v, None);
    // SET NX on an existing key is a null reply, which the crate maps to None.
    let v: Option<String> = redis::cmd("SET")
        .arg("greeting")
        .arg("x")
        .arg("NX")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, None);
    let n: i64 = redis::cmd("INCRBY")
        .arg("n")
        .arg(41)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 41);
    let f: f64 = redis::cmd("INCRBYFLOAT")
        .arg("n")
        .arg(1.5)
        .query(&mut con)
        .unwrap();
    assert_eq!(f, 42.5);

    // Every byte value survives a round trip.
    let all: Vec<u8> = (0..=255u8).collect();
    let () = redis::cmd("SET")
        .arg("bin")
        .arg(&all)
        .query(&mut con)
        .unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut con).unwrap();
    assert_eq!(back, all);
    let len: usize = redis::cmd("STRLEN").arg("bin").query(&mut con).unwrap();
    assert_eq!(len, 256);

    // Errors come back as response errors carrying Redis's message.
    let e = redis::cmd("INCR")
        .arg("greeting")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert_eq!(e.kind(), redis::ErrorKind::ResponseError);
    assert_eq!(e.code(), Some("ERR"));
    assert_eq!(e.detail(), Some("value is not an integer or out of range"));

    // A pipeline: several commands in one write, replies decoded into a tuple.
    let (set, incr, got, missing, bits): (
        String,
        i64,
        Vec<Option<String>>,
        Option<String>,
        Vec<i64>,
    ) = redis::pipe()
        .cmd("SET")
        .arg("p")
        .arg("9")
        .cmd("INCR")
        .arg("p")
        .cmd("MGET")
        .arg("p")
        .arg("nope")
        .arg("greeting")
        .cmd("GET")
        .arg("nope")
        .cmd("BITFIELD")
        .arg("bf")
        .arg("SET")
        .arg("u8")
        .arg(0)
        .arg(200)
        .arg("GET")
        .arg("i8")
        .arg(0)
        .query(&mut con)
        .unwrap();
    assert_eq!(set, "OK");
    assert_eq!(incr, 10);
    assert_eq!(
        got,
        vec![Some("10".to_string()), None, Some("hello".to_string())]
    );
    assert_eq!(missing, None);
    assert_eq!(bits, vec![0, -56]);

    // A pipeline with ignored replies and an error in the middle: the error is reported and
    // the commands around it still ran.
    let r: redis::RedisResult<(i64,)> = redis::pipe()
        .cmd("SET")
        .arg("q")
        .arg("1")
        .ignore()
        .cmd("INCRBY")
        .arg("q")
        .arg("notanumber")
        .ignore()
        .cmd("INCR")
        .arg("q")
        .query(&mut con);
    assert!(r.is_err(), "{r:?}");
    let q: i64 = redis::cmd("GET").arg("q").query(&mut con).unwrap();
    assert_eq!(q, 2);

    // LCS IDX is a nested reply.
    let () = redis::cmd("MSET")
        .arg("a")
        .arg("ohmytext")
        .arg("b")
        .arg("mynewtext")
        .query(&mut con)
        .unwrap();
    let lcs: String = redis::cmd("LCS").arg("a").arg("b").query(&mut con).unwrap();
    assert_eq!(lcs, "mytext");
    let idx: redis::Value = redis::cmd("LCS")
        .arg("a")
        .arg("b")
        .arg("IDX")
        .arg("MINMATCHLEN")
        .arg(4)
        .query(&mut con)
        .unwrap();
    let range = |a, b| redis::Value::Array(vec![redis::Value::Int(a), redis::Value::Int(b)]);
    assert_eq!(
        idx,
        redis::Value::Array(vec![
            redis::Value::BulkString(b"matches".to_vec()),
            redis::Value::Array(vec![redis::Value::Array(vec![range(4, 7), range(5, 8)])]),
            redis::Value::BulkString(b"len".to_vec()),
            redis::Value::Int(6),
        ])
    );
}
