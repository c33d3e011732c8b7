//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT.

use crate::ctx::{Action, ClientHandle, Ctx, ReplyMode};
use crate::error::{err, CmdError, CmdResult};
use crate::server::help;
use crate::util::{db_index, int, is};
use shardis_protocol::Args;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The version this server reports as its Redis compatibility level.
pub const REDIS_VERSION: &str = "7.0.15";

pub fn ping(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() <= 2 && !ctx.sess.resp3 && ctx.sess.handle.pubsub.active() {
        // A subscribed RESP2 client gets a message-shaped reply, like Redis.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out
            .bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(CmdError::Arity("ping".into())),
    }
    Ok(())
}

pub fn echo(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

pub fn select(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let db = db_index(args.get(1), ctx.shared.keyspace.databases())?;
    ctx.sess.db = db;
    ctx.sess.handle.db.store(db, Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Checks a user/password pair against `requirepass` (the only user is `default`).
fn check_password(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &ctx.shared.config.read().requirepass {
        None => true,
        Some(p) => p == pass,
    }
}

fn set_authenticated(ctx: &mut Ctx<'_>) {
    ctx.sess.authenticated = true;
    ctx.sess.handle.authenticated.store(true, Relaxed);
}

const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.";

pub fn auth(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if args.len() == 2 && ctx.shared.config.read().requirepass.is_none() {
        return Err(err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    let (user, pass) = if args.len() == 2 {
        (&b"default"[..], args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    if !check_password(ctx, user, pass) {
        return Err(err(WRONGPASS));
    }
    set_authenticated(ctx);
    ctx.out.ok();
    Ok(())
}

/// Client names and library attributes may hold only printable non-space ASCII.
fn valid_name(s: &[u8]) -> bool {
    s.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

pub fn hello(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut ver = None;
    if args.len() >= 2 {
        let v = crate::num::parse_i64(args.get(1))
            .ok_or_else(|| err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(err("-NOPROTO unsupported protocol version"));
        }
        ver = Some(v);
    }
    let mut auth = None;
    let mut name = None;
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "auth") && more >= 2 {
            auth = Some((args.get(j + 1), args.get(j + 2)));
            j += 3;
        } else if is(a, "setname") && more >= 1 {
            name = Some(args.get(j + 1));
            j += 2;
        } else {
            return Err(err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if let Some((u, p)) = auth {
        if !check_password(ctx, u, p) {
            return Err(err(WRONGPASS));
        }
        set_authenticated(ctx);
    }
    if !ctx.sess.authenticated {
        return Err(err("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        if !valid_name(n) {
            return Err(err(
                "Client names cannot contain spaces, newlines or special characters.",
            ));
        }
        *ctx.sess.handle.name.lock() = n.to_vec();
    }
    if let Some(v) = ver {
        ctx.sess.resp3 = v == 3;
        ctx.out.resp3 = v == 3;
        ctx.sess.handle.resp.store(v as u32, Relaxed);
    }
    let o = &mut *ctx.out;
    o.map(7);
    o.bulk(b"server");
    o.bulk(b"redis");
    o.bulk(b"version");
    o.bulk(REDIS_VERSION.as_bytes());
    o.bulk(b"proto");
    o.int(if ctx.sess.resp3 { 3 } else { 2 });
    o.bulk(b"id");
    o.int(ctx.sess.id() as i64);
    o.bulk(b"mode");
    o.bulk(b"standalone");
    o.bulk(b"role");
    o.bulk(b"master");
    o.bulk(b"modules");
    o.array(0);
    Ok(())
}

pub fn quit(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.ok();
    ctx.sess.action = Some(Action::Close);
    Ok(())
}

pub fn reset(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.sess.release(ctx.shared);
    let s = &mut *ctx.sess;
    s.db = 0;
    s.resp3 = false;
    s.reply_mode = ReplyMode::On;
    s.authenticated = ctx.shared.config.read().requirepass.is_none();
    let h = &s.handle;
    h.db.store(0, Relaxed);
    h.resp.store(2, Relaxed);
    h.name.lock().clear();
    h.no_evict.store(false, Relaxed);
    h.no_touch.store(false, Relaxed);
    h.authenticated.store(s.authenticated, Relaxed);
    ctx.out.resp3 = false;
    ctx.out.simple("RESET");
    Ok(())
}

pub fn client_id(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.sess.id() as i64);
    Ok(())
}

pub fn client_setname(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let n = args.get(2);
    if !valid_name(n) {
        return Err(err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *ctx.sess.handle.name.lock() = n.to_vec();
    ctx.out.ok();
    Ok(())
}

pub fn client_getname(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.sess.handle.name.lock().clone();
    if n.is_empty() {
        ctx.out.null();
    } else {
        ctx.out.bulk(&n);
    }
    Ok(())
}

pub fn client_setinfo(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (attr, val) = (args.get(2), args.get(3));
    let slot = if is(attr, "lib-name") {
        &ctx.sess.handle.lib_name
    } else if is(attr, "lib-ver") {
        &ctx.sess.handle.lib_ver
    } else {
        return Err(err(format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    };
    if !valid_name(val) {
        return Err(err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr).to_ascii_uppercase()
        )));
    }
    *slot.lock() = val.to_vec();
    ctx.out.ok();
    Ok(())
}

pub fn client_list(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut typ: Option<Vec<u8>> = None;
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        if is(a, "type") && j + 1 < args.len() {
            let t = args.get(j + 1);
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| is(t, n))
            {
                return Err(err(format!(
                    "Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                )));
            }
            typ = Some(t.to_ascii_lowercase());
            j += 2;
        } else if is(a, "id") && j + 1 < args.len() {
            let mut v = Vec::new();
            for x in args.tail(j + 1).iter() {
                // Any integer is a valid ID to ask for; ones no client has match nothing.
                match int(x) {
                    Ok(n) => v.push(n as u64),
                    Err(_) => return Err(err("Invalid client ID")),
                }
            }
            ids = Some(v);
            j = args.len();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let clients: Vec<Arc<ClientHandle>> = ctx.shared.clients.lock().values().cloned().collect();
    let mut text = String::new();
    for c in clients
        .iter()
        .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
        .filter(|c| typ.as_deref().is_none_or(|t| t == client_type(c)))
    {
        text.push_str(&c.describe(ctx.shared.blocking.is_blocked(c.id)));
        text.push('\n');
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

pub fn client_info(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    // The client asking is running a command, so it is not blocked.
    let mut line = ctx.sess.handle.describe(false);
    line.push('\n');
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

pub fn client_kill(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let clients: Vec<Arc<ClientHandle>> = ctx.shared.clients.lock().values().cloned().collect();
    let me = ctx.sess.id();
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port, one client, +OK or an error.
        let addr = args.get(2);
        let Some(c) = clients.iter().find(|c| c.addr.as_bytes() == addr) else {
            return Err(err("No such client"));
        };
        c.kill();
        if c.id == me {
            ctx.sess.action = Some(Action::Close);
        }
        ctx.out.ok();
        return Ok(());
    }
    let (mut id, mut addr, mut laddr, mut user, mut skipme) = (None, None, None, None, true);
    let mut typ: Option<Vec<u8>> = None;
    let mut j = 2;
    while j < args.len() {
        if j + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        let (k, v) = (args.get(j), args.get(j + 1));
        if is(k, "id") {
            match int(v) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(err("client-id should be greater than 0")),
            }
        } else if is(k, "addr") {
            addr = Some(v);
        } else if is(k, "laddr") {
            laddr = Some(v);
        } else if is(k, "user") {
            if v != b"default" {
                return Err(err(format!(
                    "No such user '{}'",
                    String::from_utf8_lossy(v)
                )));
            }
            user = Some(v);
        } else if is(k, "type") {
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| is(v, n))
            {
                return Err(err(format!(
                    "Unknown client type '{}'",
                    String::from_utf8_lossy(v)
                )));
            }
            typ = Some(v.to_ascii_lowercase());
        } else if is(k, "skipme") {
            if is(v, "yes") {
                skipme = true;
            } else if is(v, "no") {
                skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let _ = user;
    let mut killed = 0;
    for c in &clients {
        let matches = id.is_none_or(|i| c.id == i)
            && addr.is_none_or(|a| c.addr.as_bytes() == a)
            && laddr.is_none_or(|a| c.laddr.as_bytes() == a)
            && typ.as_deref().is_none_or(|t| t == client_type(c))
            && !(skipme && c.id == me);
        if matches {
            c.kill();
            if c.id == me {
                ctx.sess.action = Some(Action::Close);
            }
            killed += 1;
        }
    }
    ctx.out.int(killed);
    Ok(())
}

/// A client's type for CLIENT LIST/KILL TYPE: pubsub while subscribed, else normal (this
/// server has no replicas or masters).
fn client_type(c: &ClientHandle) -> &'static [u8] {
    if c.pubsub.active() {
        b"pubsub"
    } else {
        b"normal"
    }
}

fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

pub fn client_unblock(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let id = int(args.get(2))?;
    let with_error = match args.len() {
        3 => false,
        4 if is(args.get(3), "timeout") => false,
        4 if is(args.get(3), "error") => true,
        _ => return Err(err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    // Inside EXEC the transaction holds shard locks, and the blocking registry is taken
    // before shard locks: answer from the lock-free view and unblock after EXEC.
    let done = if ctx.sess.in_exec {
        let blocked = id > 0 && ctx.shared.blocking.is_blocked(id as u64);
        if blocked {
            ctx.sess.exec_unblocks.push((id as u64, with_error));
        }
        blocked
    } else {
        id > 0 && ctx.shared.blocking.unblock(id as u64, with_error)
    };
    ctx.out.int(done as i64);
    Ok(())
}

pub fn client_no_evict(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ctx.sess
        .handle
        .no_evict
        .store(on_off(args.get(2))?, Relaxed);
    ctx.out.ok();
    Ok(())
}

pub fn client_no_touch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ctx.sess
        .handle
        .no_touch
        .store(on_off(args.get(2))?, Relaxed);
    ctx.out.ok();
    Ok(())
}

pub fn client_reply(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let a = args.get(2);
    if is(a, "on") {
        ctx.sess.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if is(a, "off") {
        ctx.sess.reply_mode = ReplyMode::Off;
    } else if is(a, "skip") {
        if ctx.sess.reply_mode != ReplyMode::Off {
            ctx.sess.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

pub fn client_pause(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let ms = crate::num::parse_i64(args.get(2))
        .ok_or_else(|| err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(err("timeout is negative"));
    }
    let write_only = match args.len() {
        3 => false,
        4 if is(args.get(3), "write") => true,
        4 if is(args.get(3), "all") => false,
        4 => return Err(err("CLIENT PAUSE mode must be WRITE or ALL")),
        _ => {
            return Err(err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                String::from_utf8_lossy(args.get(1))
            )))
        }
    };
    let mut p = ctx.shared.pause.lock();
    let until = Instant::now() + Duration::from_millis(ms as u64);
    // A longer or stricter pause already in force is kept, as in Redis.
    let keep_mode = p.until.is_some_and(|u| u > Instant::now()) && !p.write_only;
    p.until = Some(p.until.map_or(until, |u| u.max(until)));
    p.write_only = write_only && !keep_mode;
    ctx.shared.paused.store(true, Relaxed);
    drop(p);
    ctx.out.ok();
    Ok(())
}

pub fn client_unpause(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let mut p = ctx.shared.pause.lock();
    p.until = None;
    ctx.shared.paused.store(false, Relaxed);
    drop(p);
    ctx.out.ok();
    Ok(())
}

pub fn client_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(
        ctx,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p]… [OPTIN] [OPTOUT] [NOLOOP].
pub fn client_tracking(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut mode = crate::tracking::Mode::default();
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        let more = j + 1 < args.len();
        if is(a, "redirect") && more {
            j += 1;
            if mode.redirect != 0 {
                return Err(err("A client can only redirect to a single other client"));
            }
            let id = int(args.get(j))?;
            if !ctx.shared.clients.lock().contains_key(&(id as u64)) {
                return Err(err("The client ID you want redirect to does not exist"));
            }
            mode.redirect = id as u64;
        } else if is(a, "bcast") {
            mode.bcast = true;
        } else if is(a, "optin") {
            mode.optin = true;
        } else if is(a, "optout") {
            mode.optout = true;
        } else if is(a, "noloop") {
            mode.noloop = true;
        } else if is(a, "prefix") && more {
            j += 1;
            mode.prefixes.push(args.get(j).to_vec());
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let tracking = &ctx.shared.tracking;
    if is(args.get(2), "on") {
        tracking.enable(&ctx.sess.handle, mode)?;
    } else if is(args.get(2), "off") {
        tracking.disable(&ctx.sess.handle);
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.out.ok();
    Ok(())
}

pub fn client_caching(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let m = ctx.sess.handle.tracking.mode.lock().clone();
    if !m.on {
        return Err(err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    }
    let opt = args.get(2);
    if is(opt, "yes") {
        if !m.optin {
            return Err(err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(opt, "no") {
        if !m.optout {
            return Err(err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.sess.caching = true;
    ctx.out.ok();
    Ok(())
}

pub fn client_getredir(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let m = ctx.sess.handle.tracking.mode.lock().clone();
    ctx.out.int(if m.on { m.redirect as i64 } else { -1 });
    Ok(())
}

pub fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let m = ctx.sess.handle.tracking.mode.lock().clone();
    let mut flags: Vec<&str> = Vec::new();
    if !m.on {
        flags.push("off");
    } else {
        flags.push("on");
        if m.bcast {
            flags.push("bcast");
        }
        if m.optin {
            flags.push("optin");
            if ctx.sess.caching {
                flags.push("caching-yes");
            }
        }
        if m.optout {
            flags.push("optout");
            if ctx.sess.caching {
                flags.push("caching-no");
            }
        }
        if m.noloop {
            flags.push("noloop");
        }
        if m.broken_redirect {
            flags.push("broken_redirect");
        }
    }
    ctx.out.map(3);
    ctx.out.bulk(b"flags");
    ctx.out.set(flags.len());
    for f in flags {
        ctx.out.bulk(f.as_bytes());
    }
    ctx.out.bulk(b"redirect");
    ctx.out.int(if m.on { m.redirect as i64 } else { -1 });
    ctx.out.bulk(b"prefixes");
    ctx.out.array(m.prefixes.len());
    for p in &m.prefixes {
        ctx.out.bulk(p);
    }
    Ok(())
}
