//! The shape of a command-table entry and the lookup index built from the table.
//!
//! Everything that needs to know about a command — arity check, NOAUTH exemption, COMMAND
//! INFO/DOCS/COUNT/LIST/GETKEYS, per-command statistics — reads these entries.

use crate::ctx::Ctx;
use crate::error::CmdResult;
use crate::table::COMMANDS;
use shardis_protocol::{Args, ReplyWriter};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A command handler: parses `args` (already arity-checked), runs, writes its reply.
pub type Handler = fn(&mut Ctx<'_>, Args<'_>) -> CmdResult;

/// A typed reply tree for the nested parts of COMMAND INFO and COMMAND DOCS, so one table
/// renders correctly in RESP2 and RESP3.
pub enum Node {
    Map(&'static [(&'static str, Node)]),
    Array(&'static [Node]),
    Set(&'static [Node]),
    Bulk(&'static str),
    Simple(&'static str),
    Int(i64),
}

impl Node {
    pub fn write(&self, out: &mut ReplyWriter) {
        match self {
            Node::Map(kv) => {
                out.map(kv.len());
                for (k, v) in kv.iter() {
                    out.bulk(k.as_bytes());
                    v.write(out);
                }
            }
            Node::Array(items) => {
                out.array(items.len());
                items.iter().for_each(|i| i.write(out));
            }
            Node::Set(items) => {
                out.set(items.len());
                items.iter().for_each(|i| i.write(out));
            }
            Node::Bulk(s) => out.bulk(s.as_bytes()),
            Node::Simple(s) => out.simple(s),
            Node::Int(n) => out.int(*n),
        }
    }
}

/// One command (or subcommand, named `parent|sub`) and its Redis metadata.
pub struct CommandSpec {
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum count if negative (name included).
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub acl: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// COMMAND INFO's tips and key specifications, as Redis 7.0 reports them.
    pub tips: Node,
    pub key_specs: Node,
    /// COMMAND DOCS's map for this command, without its subcommands.
    pub docs: Node,
    /// `None` for container commands (CLIENT, CONFIG…), which dispatch to `subcommands`.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has_flag(&self, f: &str) -> bool {
        self.flags.contains(&f)
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }
}

/// Where a key specification starts looking for keys.
#[derive(Debug, Clone)]
enum Begin {
    Index(usize),
    /// Search for `keyword` from `from` (forward), or from the end when `from` is negative.
    Keyword {
        keyword: &'static str,
        from: i64,
    },
    Unknown,
}

/// How a key specification finds its keys from where it began.
#[derive(Debug, Clone)]
enum Find {
    Range {
        last: i64,
        step: usize,
        limit: i64,
    },
    Keynum {
        idx: usize,
        first: usize,
        step: usize,
    },
    Unknown,
}

/// One of a command's key specifications (COMMAND INFO's `key_specs`), compiled once.
#[derive(Debug, Clone)]
struct KeySpec {
    begin: Begin,
    find: Find,
    /// The keys are written (RW, OW or RM), not only read.
    write: bool,
}

fn field<'n>(n: &'n Node, name: &str) -> Option<&'n Node> {
    match n {
        Node::Map(kv) => kv.iter().find(|(k, _)| *k == name).map(|(_, v)| v),
        _ => None,
    }
}

fn int_field(n: &Node, name: &str) -> i64 {
    match field(n, name) {
        Some(Node::Int(i)) => *i,
        _ => 0,
    }
}

fn compile(specs: &Node) -> Vec<KeySpec> {
    let Node::Set(items) = specs else {
        return Vec::new();
    };
    items
        .iter()
        .map(|ks| {
            let write = match field(ks, "flags") {
                Some(Node::Set(f)) => f
                    .iter()
                    .any(|x| matches!(x, Node::Simple("RW" | "OW" | "RM"))),
                _ => false,
            };
            let kind = |part| match field(ks, part).and_then(|b| field(b, "type")) {
                Some(Node::Bulk(t)) => *t,
                _ => "unknown",
            };
            let spec = |part| field(ks, part).and_then(|b| field(b, "spec"));
            let begin = match (kind("begin_search"), spec("begin_search")) {
                ("index", Some(sp)) => Begin::Index(int_field(sp, "index") as usize),
                ("keyword", Some(sp)) => match field(sp, "keyword") {
                    Some(Node::Bulk(k)) => Begin::Keyword {
                        keyword: k,
                        from: int_field(sp, "startfrom"),
                    },
                    _ => Begin::Unknown,
                },
                _ => Begin::Unknown,
            };
            let find = match (kind("find_keys"), spec("find_keys")) {
                ("range", Some(sp)) => Find::Range {
                    last: int_field(sp, "lastkey"),
                    step: int_field(sp, "keystep").max(1) as usize,
                    limit: int_field(sp, "limit"),
                },
                ("keynum", Some(sp)) => Find::Keynum {
                    idx: int_field(sp, "keynumidx") as usize,
                    first: int_field(sp, "firstkey") as usize,
                    step: int_field(sp, "keystep").max(1) as usize,
                },
                _ => Find::Unknown,
            };
            KeySpec { begin, find, write }
        })
        .collect()
}

/// The keys of one call: argument positions and whether each is written.
#[derive(Debug, Default)]
pub struct CallKeys {
    pub keys: Vec<(usize, bool)>,
    /// False when the command may touch keys its arguments don't name (SORT … BY/GET), or
    /// its key specifications could not be followed (malformed call).
    pub complete: bool,
}

/// Finds a call's keys by its key specifications, as Redis's `getKeysUsingKeySpecs` does.
fn find_keys(specs: &[KeySpec], args: &Args<'_>) -> CallKeys {
    let argc = args.len();
    let mut out = CallKeys {
        keys: Vec::new(),
        complete: true,
    };
    for ks in specs {
        let first = match ks.begin {
            Begin::Index(i) => i,
            Begin::Keyword { keyword, from } => {
                let hit = if from >= 0 {
                    (from.max(1) as usize..argc.saturating_sub(1))
                        .find(|&i| args.get(i).eq_ignore_ascii_case(keyword.as_bytes()))
                } else {
                    let start = argc as i64 + from;
                    (1..=start.max(0) as usize)
                        .rev()
                        .find(|&i| args.get(i).eq_ignore_ascii_case(keyword.as_bytes()))
                };
                match hit {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            Begin::Unknown => {
                out.complete = false;
                continue;
            }
        };
        let (first, last, step) = match ks.find {
            Find::Range { last, step, limit } => {
                let l = if last >= 0 {
                    first as i64 + last
                } else if limit <= 1 {
                    argc as i64 + last
                } else {
                    first as i64 + ((argc as i64 - first as i64) / limit + last)
                };
                (first, l, step)
            }
            Find::Keynum {
                idx,
                first: f,
                step,
            } => {
                let n = (first + idx < argc)
                    .then(|| {
                        std::str::from_utf8(args.get(first + idx))
                            .ok()?
                            .parse::<i64>()
                            .ok()
                    })
                    .flatten();
                match n {
                    Some(n) if n >= 0 => {
                        let start = first + f;
                        let last = (n - 1).saturating_mul(step as i64);
                        (start, (start as i64).saturating_add(last), step)
                    }
                    _ => {
                        out.complete = false;
                        continue;
                    }
                }
            }
            Find::Unknown => {
                out.complete = false;
                continue;
            }
        };
        let mut i = first;
        while i as i64 <= last {
            if i >= argc {
                out.complete = false;
                break;
            }
            out.keys.push((i, ks.write));
            i += step;
        }
    }
    out
}

/// Dense numbering of every command and subcommand, for statistics arrays, and the name
/// lookup the dispatcher does on every request.
pub struct Index {
    pub all: Vec<&'static CommandSpec>,
    /// Each command's key specifications, compiled.
    key_specs: Vec<Vec<KeySpec>>,
    by_name: HashMap<&'static str, usize, foldhash::fast::FixedState>,
    /// Top-level commands only, so a lookup never returns a `parent|sub` entry.
    top: HashMap<&'static str, usize, foldhash::fast::FixedState>,
}

pub fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut all = Vec::new();
        let mut top = HashMap::default();
        for c in COMMANDS {
            top.insert(c.name, all.len());
            all.push(c);
            all.extend(c.subcommands.iter());
        }
        let by_name = all.iter().enumerate().map(|(i, c)| (c.name, i)).collect();
        let key_specs = all.iter().map(|c| compile(&c.key_specs)).collect();
        Index {
            all,
            key_specs,
            by_name,
            top,
        }
    })
}

impl Index {
    /// The keys of a call of command `id`. SORT's BY and GET patterns name keys only its
    /// data knows, so a SORT using them is incomplete.
    pub fn keys(&self, id: usize, args: &Args<'_>) -> CallKeys {
        let spec = self.all[id];
        if matches!(spec.name, "sort" | "sort_ro") {
            return sort_keys(args);
        }
        find_keys(&self.key_specs[id], args)
    }

    /// The number of a command or `parent|sub` name (lowercase).
    pub fn id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Finds a top-level command by its case-insensitive name: `(number, spec)`.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.top.get(lower).map(|&i| (i, self.all[i]))
    }

    /// Finds `parent|sub` of a container command: `(number, spec)`.
    pub fn lookup_sub(&self, parent: usize, sub: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let p = self.all[parent];
        p.subcommands.iter().enumerate().find_map(|(i, c)| {
            let short = &c.name[p.name.len() + 1..];
            short
                .as_bytes()
                .eq_ignore_ascii_case(sub)
                .then_some((parent + 1 + i, c))
        })
    }
}

/// SORT's keys like Redis's `sortGetKeys`: the sorted key and STORE's destination, with the
/// option arguments skipped so a value that looks like a keyword is not taken for one.
fn sort_keys(args: &Args<'_>) -> CallKeys {
    let mut out = CallKeys {
        keys: vec![(1, false)],
        complete: true,
    };
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        let skip = if a.eq_ignore_ascii_case(b"limit") {
            2
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            out.complete = false;
            1
        } else if a.eq_ignore_ascii_case(b"store") {
            if i + 1 < args.len() {
                out.keys.push((i + 1, true));
            }
            1
        } else {
            0
        };
        i += 1 + skip;
    }
    out
}
