//! Differential test: the same seeded random mix of string, key and expiry commands —
//! including malformed ones — goes to redis-server and to shardis, and every reply must match.

mod common;
use common::*;

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.rng.usize(..v.len())]
    }
    fn key(&mut self) -> String {
        format!("k{}", self.rng.usize(..8))
    }
    fn val(&mut self) -> String {
        match self.rng.u8(..8) {
            0 => self.rng.i64(-100..100).to_string(),
            1 => self
                .pick(&[
                    "",
                    "0",
                    "-0",
                    "007",
                    "9223372036854775807",
                    "-9223372036854775808",
                ])
                .into(),
            2 => self
                .pick(&["1.5", "0.1", "-2.25", "1e3", "3.0", "abc", " 1", "inf"])
                .into(),
            3 => "x".repeat(self.rng.usize(0..60)),
            _ => format!("v{}", self.rng.u32(..1000)),
        }
    }
    fn int(&mut self) -> String {
        match self.rng.u8(..10) {
            0 => self
                .pick(&[
                    "abc",
                    "",
                    "1.5",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "+1",
                    "01",
                ])
                .into(),
            1..=3 => self.rng.i64(-20..20).to_string(),
            _ => self.rng.i64(0..64).to_string(),
        }
    }
    fn ttl(&mut self) -> String {
        match self.rng.u8(..8) {
            0 => self
                .pick(&[
                    "0",
                    "-1",
                    "abc",
                    "9223372036854775807",
                    "-9223372036854775808",
                ])
                .into(),
            _ => self.rng.i64(100..100_000).to_string(),
        }
    }

    /// One command as a list of arguments.
    fn command(&mut self) -> Vec<String> {
        let k = self.key();
        let v = self.val();
        let s = |x: &str| x.to_string();
        match self.rng.u8(..58) {
            0..=3 => vec![s("GET"), k],
            4..=7 => {
                let mut c = vec![s("SET"), k, v];
                for _ in 0..self.rng.usize(0..3) {
                    match self.rng.u8(..8) {
                        0 => c.push(s(self.pick(&["NX", "xx", "GET", "KEEPTTL", "bogus"]))),
                        1 => c.push(s("GET")),
                        2..=6 => {
                            c.push(s(self.pick(&["EX", "PX", "EXAT", "PXAT", "ex"])));
                            let t = self.ttl();
                            let t = if c.last().unwrap().to_lowercase().ends_with("at") {
                                match t.parse::<i64>() {
                                    Ok(n) if n > 0 && n < 1_000_000 => {
                                        (4_000_000_000_000i64 + n).to_string()
                                    }
                                    _ => t,
                                }
                            } else {
                                t
                            };
                            c.push(t);
                        }
                        _ => {}
                    }
                }
                c
            }
            8 => vec![s("SETNX"), k, v],
            9 => vec![s(self.pick(&["SETEX", "PSETEX"])), k, self.ttl(), v],
            10 => vec![s("MGET"), k, self.key(), self.key()],
            11 => {
                let mut c = vec![s(self.pick(&["MSET", "MSETNX"]))];
                for _ in 0..self.rng.usize(1..4) {
                    c.push(self.key());
                    c.push(self.val());
                }
                if self.rng.u8(..6) == 0 {
                    c.pop();
                }
                c
            }
            12 => vec![s("GETSET"), k, v],
            13 => vec![s("GETDEL"), k],
            14 => {
                let mut c = vec![s("GETEX"), k];
                match self.rng.u8(..5) {
                    0 => c.push(s("PERSIST")),
                    1 => {
                        c.push(s(self.pick(&["EX", "PX"])));
                        c.push(self.ttl());
                    }
                    2 => c.push(s("EX")),
                    _ => {}
                }
                c
            }
            15 => vec![s("APPEND"), k, v],
            16 => vec![s("STRLEN"), k],
            17 => vec![s(self.pick(&["INCR", "DECR"])), k],
            18 => vec![s(self.pick(&["INCRBY", "DECRBY"])), k, self.int()],
            19 => vec![
                s("INCRBYFLOAT"),
                k,
                s(self.pick(&["0.1", "1.5", "-3", "1e2", "abc", "2.5e-3", "10.5"])),
            ],
            20 => vec![
                s(self.pick(&["GETRANGE", "SUBSTR"])),
                k,
                self.int(),
                self.int(),
            ],
            21 => vec![s("SETRANGE"), k, self.int(), v],
            22 => {
                let mut c = vec![s("LCS"), k, self.key()];
                match self.rng.u8(..4) {
                    0 => c.push(s("LEN")),
                    1 => c.extend([s("IDX"), s("MINMATCHLEN"), s("2"), s("WITHMATCHLEN")]),
                    2 => c.push(s("IDX")),
                    _ => {}
                }
                c
            }
            23 => vec![s("SETBIT"), k, self.int(), s(self.pick(&["0", "1", "2"]))],
            24 => vec![s("GETBIT"), k, self.int()],
            25 => {
                let mut c = vec![s("BITCOUNT"), k];
                if self.rng.bool() {
                    c.push(self.int());
                    c.push(self.int());
                    if self.rng.bool() {
                        c.push(s(self.pick(&["BIT", "BYTE", "bogus"])));
                    }
                }
                c
            }
            26 => {
                let mut c = vec![s("BITPOS"), k, s(self.pick(&["0", "1", "2"]))];
                for _ in 0..self.rng.usize(0..3) {
                    c.push(self.int());
                }
                c
            }
            27 => vec![
                s("BITOP"),
                s(self.pick(&["AND", "OR", "XOR", "NOT", "nand"])),
                k,
                self.key(),
                self.key(),
            ],
            28 => {
                let mut c = vec![s(self.pick(&["BITFIELD", "BITFIELD", "BITFIELD_RO"])), k];
                for _ in 0..self.rng.usize(1..4) {
                    match self.rng.u8(..4) {
                        0 => c.extend([
                            s("GET"),
                            s(self.pick(&["i8", "u4", "i64", "u63", "u64", "x"])),
                            self.int(),
                        ]),
                        1 => c.extend([
                            s("SET"),
                            s(self.pick(&["i8", "u4", "i16"])),
                            self.int(),
                            self.int(),
                        ]),
                        2 => c.extend([
                            s("INCRBY"),
                            s(self.pick(&["i8", "u4", "u2"])),
                            s("#1"),
                            self.int(),
                        ]),
                        _ => {
                            c.extend([s("OVERFLOW"), s(self.pick(&["WRAP", "SAT", "FAIL", "no"]))])
                        }
                    }
                }
                c
            }
            29 => vec![s(self.pick(&["DEL", "UNLINK"])), k, self.key()],
            30 => vec![s("EXISTS"), k.clone(), self.key(), k],
            31 => vec![s("TYPE"), k],
            32 => vec![s(self.pick(&["RENAME", "RENAMENX"])), k, self.key()],
            33 => vec![
                s("KEYS"),
                s(self.pick(&["*", "k[0-3]", "k?", "*1*", "k[^2]", "x*"])),
            ],
            34..=36 => {
                let cmd = self.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
                let t = self.ttl();
                let t = if cmd.ends_with("AT") {
                    match t.parse::<i64>() {
                        Ok(n) if n > 0 && n < 1_000_000 => (if cmd == "EXPIREAT" {
                            4_000_000_000
                        } else {
                            4_000_000_000_000
                        } + n)
                            .to_string(),
                        _ => t,
                    }
                } else {
                    t
                };
                let mut c = vec![s(cmd), k, t];
                if self.rng.bool() {
                    c.push(s(self.pick(&["NX", "XX", "GT", "LT", "bogus"])));
                }
                if self.rng.u8(..5) == 0 {
                    c.push(s(self.pick(&["NX", "XX", "GT", "LT"])));
                }
                c
            }
            37 | 38 => vec![
                s(self.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"])),
                k,
            ],
            39 => vec![s("PERSIST"), k],
            40 => vec![s("TOUCH"), k, self.key()],
            41 => {
                let mut c = vec![s("COPY"), k, self.key()];
                if self.rng.bool() {
                    c.push(s("REPLACE"));
                }
                if self.rng.u8(..3) == 0 {
                    c.extend([s("DB"), s(self.pick(&["1", "0", "99", "x"]))]);
                }
                c
            }
            42 => vec![s("MOVE"), k, s(self.pick(&["1", "0", "99", "x"]))],
            43 => vec![s("SELECT"), s(self.pick(&["0", "1", "0", "0", "16", "x"]))],
            44 => vec![s("DBSIZE")],
            45 => vec![s(self.pick(&["NOSUCH", "gett", "SETT"])), k],
            46 => vec![s(self.pick(&[
                "GET", "SET", "INCRBY", "EXPIRE", "TTL", "MGET", "STRLEN", "SETRANGE",
            ]))],
            47 => vec![s("ECHO"), v],
            48 => vec![s("PING")],
            49 => vec![s("EXISTS"), k],
            50 => vec![
                s("OBJECT"),
                s(self.pick(&["REFCOUNT", "ENCODING", "ENCODING", "nosuch"])),
                k,
            ],
            51 => vec![
                s("SWAPDB"),
                s(self.pick(&["0", "1", "x", "20"])),
                s(self.pick(&["0", "1"])),
            ],
            52 => vec![s("GET"), k.clone(), k],
            53 => vec![s("SET"), k],
            54 => vec![
                s("INCRBY"),
                k,
                s(self.pick(&["9223372036854775807", "-9223372036854775808", "1"])),
            ],
            55 => vec![s("STRLEN"), k],
            56 => vec![s("TYPE"), k],
            _ => vec![s("GETRANGE"), k, s("0"), s("-1")],
        }
    }
}

/// Makes replies comparable where Redis leaves the result open: time-dependent TTLs and the
/// order of KEYS.
fn normalize(cmd: &[String], reply: String) -> String {
    let name = cmd[0].to_ascii_uppercase();
    if ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"].contains(&name.as_str()) {
        if let Some(n) = reply
            .strip_prefix(':')
            .and_then(|r| r.trim_end().parse::<i64>().ok())
        {
            // Absolute expiries the generator chose (far in the future) compare exactly.
            let fixed = match name.as_str() {
                "EXPIRETIME" => n >= 4_000_000_000,
                "PEXPIRETIME" => n >= 4_000_000_000_000,
                _ => false,
            };
            if n > 0 && !fixed {
                return ":positive\r\n".into();
            }
        }
    }
    if name == "KEYS" && reply.starts_with('*') {
        let mut items: Vec<&str> = reply.split("\r\n").skip(1).collect();
        items.sort();
        return items.join("|");
    }
    reply
}

fn run(seed: u64, commands: usize) -> bool {
    // The servers stay bound (not `..`) so they live until the end of the test.
    let Some(Pair {
        mut a,
        mut b,
        redis: _redis,
        ours: _ours,
    }) = Pair::start(&[])
    else {
        return false;
    };
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
    };
    for i in 0..commands {
        let cmd = g.command();
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let ra = normalize(&cmd, a.cmd(&args));
        let rb = normalize(&cmd, b.cmd(&args));
        assert_eq!(rb, ra, "seed {seed}, command #{i}: {cmd:?}");
        // Equal replies are not enough: the effect on every key the command named must match.
        for k in cmd
            .iter()
            .skip(1)
            .filter(|a| a.len() == 2 && a.starts_with('k'))
        {
            assert_eq!(
                b.cmd(&["GET", k]),
                a.cmd(&["GET", k]),
                "seed {seed}, after command #{i}: {cmd:?}"
            );
        }
    }
    // Then the whole dataset must be identical.
    for db in ["0", "1"] {
        a.cmd(&["SELECT", db]);
        b.cmd(&["SELECT", db]);
        let ka = normalize(&["KEYS".into()], a.cmd(&["KEYS", "*"]));
        assert_eq!(
            normalize(&["KEYS".into()], b.cmd(&["KEYS", "*"])),
            ka,
            "seed {seed}: keys of db {db}"
        );
        for i in 0..8 {
            let k = format!("k{i}");
            assert_eq!(
                b.cmd(&["GET", &k]),
                a.cmd(&["GET", &k]),
                "seed {seed}: value of {k} in db {db}"
            );
        }
    }
    true
}

#[test]
fn random_string_key_expiry_mix_matches_redis() {
    for seed in [1, 2, 3, 4] {
        if !run(seed, 5000) {
            return;
        }
    }
}
