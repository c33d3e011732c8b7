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

    /// Key positions of a call, from first/last/step (a negative last counts from the end).
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let step = self.step.max(1) as usize;
        (self.first_key as usize..=last.max(0) as usize)
            .step_by(step)
            .filter(|&i| i < argc)
            .collect()
    }
}

/// Dense numbering of every command and subcommand, for statistics arrays, and the name
/// lookup the dispatcher does on every request.
pub struct Index {
    pub all: Vec<&'static CommandSpec>,
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
        Index { all, by_name, top }
    })
}

impl Index {
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
