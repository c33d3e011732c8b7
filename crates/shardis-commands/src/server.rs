//! Server commands: COMMAND, INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE,
//! ROLE, SHUTDOWN and DEBUG.

use crate::config::Config;
use crate::connection::REDIS_VERSION;
use crate::ctx::{Action, Ctx, Histogram};
use crate::error::{err, CmdError, CmdResult};
use crate::glob::glob_match;
use crate::spec::{index, CommandSpec, Node};
use crate::table::COMMANDS;
use crate::util::is;
use shardis_keyspace::Shard;
use shardis_protocol::Args;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Redis's help reply: a title line, the entries, and the closing HELP entry.
pub fn help(ctx: &mut Ctx<'_>, cmd: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Prints this help.");
}

fn command_info_one(ctx: &mut Ctx<'_>, c: &CommandSpec) {
    let o = &mut *ctx.out;
    o.array(10);
    o.bulk(c.name.as_bytes());
    o.int(c.arity as i64);
    o.set(c.flags.len());
    for f in c.flags {
        o.simple(f);
    }
    o.int(c.first_key as i64);
    o.int(c.last_key as i64);
    o.int(c.step as i64);
    o.set(c.acl.len());
    for a in c.acl {
        o.simple(a);
    }
    c.tips.write(o);
    c.key_specs.write(o);
    o.set(c.subcommands.len());
    for s in c.subcommands {
        command_info_one(ctx, s);
    }
}

pub fn command(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(COMMANDS.len());
    for c in COMMANDS {
        command_info_one(ctx, c);
    }
    Ok(())
}

pub fn command_count(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(COMMANDS.len() as i64);
    Ok(())
}

/// Finds a command by `name` or `parent|sub`.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    index().id(&lower).map(|i| index().all[i])
}

pub fn command_info(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        return command(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for name in args.tail(2).iter() {
        match find(name) {
            Some(c) => command_info_one(ctx, c),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn command_docs_one(ctx: &mut Ctx<'_>, c: &CommandSpec) {
    let o = &mut *ctx.out;
    o.bulk(c.name.as_bytes());
    let Node::Map(fields) = &c.docs else {
        unreachable!("docs are a map")
    };
    o.map(fields.len() + !c.subcommands.is_empty() as usize);
    for (k, v) in fields.iter() {
        o.bulk(k.as_bytes());
        v.write(o);
    }
    if !c.subcommands.is_empty() {
        o.bulk(b"subcommands");
        o.map(c.subcommands.len());
        for s in c.subcommands {
            command_docs_one(ctx, s);
        }
    }
}

pub fn command_docs(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let found: Vec<&CommandSpec> = if args.len() == 2 {
        COMMANDS.iter().collect()
    } else {
        args.tail(2).iter().filter_map(find).collect()
    };
    ctx.out.map(found.len());
    for c in found {
        command_docs_one(ctx, c);
    }
    Ok(())
}

pub fn command_list(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let filter: Option<(String, &[u8])> = match args.len() {
        2 => None,
        5 if is(args.get(2), "filterby") => {
            let kind = String::from_utf8_lossy(args.get(3)).to_ascii_lowercase();
            if !["module", "aclcat", "pattern"].contains(&kind.as_str()) {
                return Err(CmdError::Syntax);
            }
            Some((kind, args.get(4)))
        }
        _ => return Err(CmdError::Syntax),
    };
    let names: Vec<&str> = index()
        .all
        .iter()
        .filter(|c| match &filter {
            None => true,
            Some((k, v)) => match k.as_str() {
                "module" => false,
                "aclcat" => {
                    let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                    c.acl.contains(&cat.as_str())
                }
                _ => glob_match(v, c.name.as_bytes(), true),
            },
        })
        .map(|c| c.name)
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

pub fn command_getkeys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let call = args.tail(2);
    let (id, spec) =
        crate::dispatch::resolve(&call).map_err(|_| err("Invalid command specified"))?;
    if !spec.arity_ok(call.len()) {
        return Err(err("Invalid number of arguments specified for command"));
    }
    let keys: Vec<usize> = crate::spec::index()
        .keys(id, &call)
        .keys
        .iter()
        .map(|k| k.0)
        .collect();
    if keys.is_empty() {
        return Err(err("The command has no key arguments"));
    }
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(call.get(k));
    }
    Ok(())
}

pub fn command_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    );
    Ok(())
}

fn human_bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Resident set size and CPU seconds (user, system) from /proc, where there is one.
fn proc_stats() -> (u64, f64, f64) {
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096);
    let (user, sys) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((
                f.get(11)?.parse::<f64>().ok()? / 100.0,
                f.get(12)?.parse::<f64>().ok()? / 100.0,
            ))
        })
        .unwrap_or((0.0, 0.0));
    (rss, user, sys)
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// Builds the INFO text for the requested sections.
pub fn info_text(ctx: &Ctx<'_>, wanted: &[String]) -> String {
    let sections: Vec<&str> = if wanted.is_empty() {
        DEFAULT_SECTIONS.to_vec()
    } else {
        let mut v: Vec<&str> = Vec::new();
        for w in wanted {
            match w.as_str() {
                "all" | "everything" => v.extend(ALL_SECTIONS),
                "default" => v.extend(DEFAULT_SECTIONS),
                s => v.extend(ALL_SECTIONS.iter().filter(|x| **x == s)),
            }
        }
        ALL_SECTIONS
            .iter()
            .copied()
            .filter(|s| v.contains(s))
            .collect()
    };
    let sh = ctx.shared;
    let cfg = sh.config.read().clone();
    let mut t = String::new();
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            t.push_str("\r\n");
        }
        match *s {
            "server" => server_section(ctx, &cfg, &mut t),
            "clients" => {
                let n = sh.clients.lock().len();
                let _ = write!(
                    t,
                    "# Clients\r\nconnected_clients:{n}\r\ncluster_connections:0\r\nmaxclients:{}\r\n\
                     client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\n\
                     tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                    cfg.maxclients,
                    sh.blocking.blocked_clients()
                );
            }
            "memory" => {
                let (rss, _, _) = proc_stats();
                let used = sh.allocated_bytes.get().map_or(rss, |f| f());
                let total = std::fs::read_to_string("/proc/meminfo")
                    .ok()
                    .and_then(|m| {
                        m.lines()
                            .next()
                            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    })
                    .map_or(0, |kb| kb * 1024);
                let _ = write!(
                    t,
                    "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\n\
                     used_memory_rss_human:{}\r\ntotal_system_memory:{total}\r\ntotal_system_memory_human:{}\r\n\
                     maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\n\
                     mem_allocator:jemalloc\r\nlazyfree_pending_objects:0\r\n",
                    human_bytes(used),
                    human_bytes(rss),
                    human_bytes(total),
                    cfg.maxmemory,
                    human_bytes(cfg.maxmemory),
                    cfg.maxmemory_policy,
                    if used > 0 { rss as f64 / used as f64 } else { 0.0 },
                );
            }
            "persistence" => t.push_str(&crate::persist::info_section(sh)),
            "stats" => {
                let calls = sh.total(|s| s.calls.iter().map(|a| a.load(Relaxed)).sum());
                let errors = sh.total(|s| {
                    s.failed
                        .iter()
                        .chain(s.rejected.iter())
                        .map(|a| a.load(Relaxed))
                        .sum()
                });
                let _ = write!(
                    t,
                    "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{calls}\r\n\
                     rejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\n\
                     keyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\n\
                     total_error_replies:{errors}\r\n",
                    sh.connections_received.load(Relaxed),
                    sh.rejected_connections.load(Relaxed),
                    sh.keyspace.expired_keys(),
                    sh.total(|s| s.hits.load(Relaxed)),
                    sh.total(|s| s.misses.load(Relaxed)),
                    sh.pubsub.channel_count(),
                    sh.pubsub.pattern_count(),
                    sh.pubsub.shard_count(),
                );
            }
            "replication" => {
                let _ = write!(
                    t,
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n\
                     master_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n\
                     master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n\
                     repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                    sh.run_id
                );
            }
            "cpu" => {
                let (_, user, sys) = proc_stats();
                let _ = write!(
                    t,
                    "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\n\
                     used_cpu_user_children:0.000000\r\n"
                );
            }
            "commandstats" => {
                t.push_str("# Commandstats\r\n");
                for (i, c) in index().all.iter().enumerate() {
                    let calls = sh.total(|s| s.calls[i].load(Relaxed));
                    let rejected = sh.total(|s| s.rejected[i].load(Relaxed));
                    let failed = sh.total(|s| s.failed[i].load(Relaxed));
                    if calls + rejected + failed == 0 {
                        continue;
                    }
                    let usec = sh.total(|s| s.nanos[i].load(Relaxed)) / 1000;
                    let per = if calls > 0 {
                        usec as f64 / calls as f64
                    } else {
                        0.0
                    };
                    let _ = write!(
                        t,
                        "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
                        c.name
                    );
                }
            }
            "modules" => t.push_str("# Modules\r\n"),
            "cluster" => t.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "errorstats" => {
                t.push_str("# Errorstats\r\n");
                for (code, n) in sh.error_counts() {
                    let _ = write!(t, "errorstat_{code}:count={n}\r\n");
                }
            }
            "latencystats" => {
                t.push_str("# Latencystats\r\n");
                for (i, c) in index().all.iter().enumerate() {
                    let Some(h) = sh.latency(i) else { continue };
                    let p = |q: f64| Histogram::percentile(&h, q) as f64 / 1000.0;
                    let _ = write!(
                        t,
                        "latency_percentiles_usec_{}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
                        c.name,
                        p(50.0),
                        p(99.0),
                        p(99.9)
                    );
                }
            }
            "keyspace" => {
                t.push_str("# Keyspace\r\n");
                for db in 0..sh.keyspace.databases() {
                    let (keys, expires) = sh.keyspace.db_stats(db);
                    if keys > 0 {
                        let _ = write!(t, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                    }
                }
            }
            _ => {}
        }
    }
    t
}

fn server_section(ctx: &Ctx<'_>, cfg: &Config, t: &mut String) {
    let sh = ctx.shared;
    let up = sh.started.elapsed().as_secs();
    let now_us = shardis_keyspace::now_ms() * 1000;
    let _ = write!(
        t,
        "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
         redis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\n\
         atomicvar_api:c11-builtin\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\n\
         server_time_usec:{now_us}\r\nuptime_in_seconds:{up}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\n\
         lru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\nshardis_version:{}\r\n",
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::process::id(),
        sh.run_id,
        sh.tcp_port.load(Relaxed),
        up / 86400,
        cfg.hz,
        cfg.hz,
        (now_us / 1_000_000) & 0xff_ffff,
        sh.executable,
        sh.config_file,
        env!("CARGO_PKG_VERSION"),
    );
}

pub fn info(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let wanted: Vec<String> = args
        .tail(1)
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = info_text(ctx, &wanted);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

pub fn config_get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let patterns: Vec<&[u8]> = args.tail(2).iter().collect();
    let pairs = ctx.shared.config.read().get_matching(&patterns);
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

pub fn config_set(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let rest = args.tail(2);
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(String, String)> = (0..rest.len())
        .step_by(2)
        .map(|i| {
            (
                String::from_utf8_lossy(rest.get(i)).into_owned(),
                String::from_utf8_lossy(rest.get(i + 1)).into_owned(),
            )
        })
        .collect();
    // Built on a copy and swapped in whole, so a bad pair changes nothing.
    let next = ctx.shared.config.read().set_many(&pairs).map_err(err)?;
    ctx.shared
        .set_config(next)
        .map_err(|e| err(format!("CONFIG SET failed - {e}")))?;
    ctx.out.ok();
    Ok(())
}

pub fn config_resetstat(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.shared.reset_stats();
    ctx.out.ok();
    Ok(())
}

pub fn config_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(())
}

pub fn dbsize(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.shared.keyspace.dbsize(ctx.db()) as i64);
    Ok(())
}

/// Frees flushed shards: on the lazy-free thread for ASYNC, here otherwise.
fn dispose(old: Vec<Shard>, async_free: bool) {
    if async_free {
        shardis_keyspace::lazyfree::free_shards(old);
    } else {
        drop(old);
    }
}

fn flush_mode(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.shared.config.read().lazyfree_lazy_user_flush),
        2 if is(args.get(1), "async") => Ok(true),
        2 if is(args.get(1), "sync") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

pub fn flushdb(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let lazy = flush_mode(ctx, &args)?;
    let (old, removed) = ctx.shared.keyspace.flush(Some(ctx.db()));
    ctx.dirty(removed);
    dispose(old, lazy);
    ctx.out.ok();
    Ok(())
}

pub fn flushall(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let lazy = flush_mode(ctx, &args)?;
    let (old, removed) = ctx.shared.keyspace.flush(None);
    ctx.dirty(removed);
    dispose(old, lazy);
    // As Redis: with save points, the (now empty) dataset is saved at once, and a
    // background save of the old data is dropped rather than left to bring it back.
    crate::persist::after_flushall(ctx.shared);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

pub fn swapdb(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let n = ctx.shared.keyspace.databases();
    let parse = |a: &[u8], which: &str| -> Result<usize, CmdError> {
        let v = crate::num::parse_i64(a)
            .filter(|v| *v >= i32::MIN as i64 && *v <= i32::MAX as i64)
            .ok_or_else(|| err(format!("invalid {which} DB index")))?;
        if v < 0 || v as usize >= n {
            return Err(CmdError::DbIndex);
        }
        Ok(v as usize)
    };
    let a = parse(args.get(1), "first")?;
    let b = parse(args.get(2), "second")?;
    ctx.shared.keyspace.swap_dbs(a, b);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

pub fn time(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(d.as_secs().to_string().as_bytes());
    ctx.out.bulk(d.subsec_micros().to_string().as_bytes());
    Ok(())
}

pub fn role(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(3);
    ctx.out.bulk(b"master");
    ctx.out.int(0);
    ctx.out.array(0);
    Ok(())
}

pub fn shutdown(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (mut nosave, mut save, mut abort, mut force) = (false, false, false, false);
    for a in args.tail(1).iter() {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "abort") {
            abort = true;
        } else if is(a, "force") {
            force = true;
        } else if !is(a, "now") {
            return Err(CmdError::Syntax);
        }
    }
    if (nosave && save) || (abort && args.len() > 2) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Err(err("No shutdown in progress."));
    }
    if save || (!nosave && crate::persist::has_save_points(ctx.shared)) {
        if let Err(e) = crate::persist::save_for_shutdown(ctx.shared) {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            if !force {
                return Err(err("Errors trying to SHUTDOWN. Check logs."));
            }
        }
    }
    ctx.shared.shutdown_requested.store(true, Relaxed);
    ctx.sess.action = Some(Action::Shutdown);
    Ok(())
}

/// C's `strtod` as DEBUG uses it: the longest numeric prefix, 0 when there is none.
fn c_strtod(arg: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(&arg[..arg.len().min(64)]);
    let t = s.trim_start();
    (1..=t.len())
        .rev()
        .find_map(|n| t.get(..n).and_then(|p| p.parse::<f64>().ok()))
        .unwrap_or(0.0)
}

/// C's `atoi`: optional sign and leading digits, 0 when there are none.
fn c_atoi(arg: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(arg);
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse::<i64>().unwrap_or(0)
}

/// Pauses every client's commands for `d` (never shortening a longer pause in force).
fn pause_all(shared: &crate::ctx::Shared, d: Duration) {
    let mut p = shared.pause.lock();
    let until = std::time::Instant::now() + d;
    if p.until.is_none_or(|u| u < until) {
        p.until = Some(until);
    }
    p.write_only = false;
    shared.paused.store(true, Relaxed);
}

/// The length a value would take in an RDB file without compression, as DEBUG OBJECT
/// reports it (`rdbSavedObjectLen`): small integers use RDB's integer encodings.
fn serialized_len(v: &shardis_keyspace::Value) -> usize {
    // Collections get their RDB sizes with persistence (issue 5); until then they report 0.
    let shardis_keyspace::Value::Str(s) = v else {
        return 0;
    };
    let as_int = if s.len() <= 11 {
        crate::num::parse_i64(s)
    } else {
        None
    };
    match as_int {
        Some(n) if (-128..=127).contains(&n) => 2,
        Some(n) if (-32768..=32767).contains(&n) => 3,
        Some(n) if (i32::MIN as i64..=i32::MAX as i64).contains(&n) => 5,
        _ => {
            let len = s.len();
            let prefix = match len {
                0..=63 => 1,
                64..=16383 => 2,
                _ if len <= u32::MAX as usize => 5,
                _ => 9,
            };
            prefix + len
        }
    }
}

pub fn debug(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let sub = args.get(1);
    if is(sub, "sleep") && args.len() == 3 {
        // Redis's DEBUG SLEEP stalls the whole server (its one thread sleeps); test suites
        // rely on that, so every client's commands wait, not only this one's.
        let secs = c_strtod(args.get(2)).clamp(0.0, 1e9);
        let d = Duration::from_secs_f64(secs);
        pause_all(ctx.shared, d);
        ctx.sess.action = Some(Action::Sleep(d));
        ctx.out.ok();
    } else if is(sub, "set-active-expire") && args.len() == 3 {
        ctx.shared
            .keyspace
            .set_active_expire(c_atoi(args.get(2)) != 0);
        ctx.out.ok();
    } else if is(sub, "object") && args.len() == 3 {
        let (db, key) = (ctx.db(), args.get(2));
        let mut l = ctx.shared.keyspace.lock_key(db, key);
        let now = l.now;
        let line = l.peek(db, key).map(|e| {
            format!(
                "Value at:0x0 refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.value.refcount(),
                e.value.encoding(),
                serialized_len(&e.value),
                e.lru & 0xff_ffff,
                (now / 1000).saturating_sub(e.lru as u64)
            )
        });
        drop(l);
        match line {
            Some(l) => ctx.out.simple(&l),
            None => return Err(CmdError::NoSuchKey),
        }
    } else if is(sub, "reload") {
        return crate::persist::debug_reload(ctx, args);
    } else if is(sub, "help") {
        help(
            ctx,
            "DEBUG",
            &[
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    } else {
        return Err(err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        )));
    }
    Ok(())
}
