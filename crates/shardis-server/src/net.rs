//! Listeners and connections: each connection is one task that reads, parses every complete
//! command in its buffer, runs them inline on its own thread, and writes all replies at once.
//!
//! Shard locks are taken and released inside `execute`; nothing here holds one across an
//! `.await`.

use anyhow::{bail, Context, Result};
use shardis_commands::blocking::Waiter;
use shardis_commands::{execute, Action, Config, Outcome, Session, Shared};
use shardis_protocol::{Limits, ParseError, Parsed, ReplyWriter, RequestParser, Span};
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Smallest free space kept in a read buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// Largest single growth of a read buffer, however big a bulk the client declared: memory
/// follows the bytes that actually arrive.
const MAX_READ_GROWTH: usize = 1024 * 1024;

/// Whether protected mode refuses a peer: no password, no explicit bind, not loopback.
pub fn protected_refuses(cfg: &Config, peer: IpAddr) -> bool {
    let loopback = match peer {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    };
    cfg.protected_mode && cfg.requirepass.is_none() && !cfg.bind_explicit && !loopback
}

fn listen(addr: &str, port: u16) -> std::io::Result<std::net::TcpListener> {
    let ip: IpAddr = match addr {
        "*" => "0.0.0.0".parse().expect("literal"),
        "::*" => "::".parse().expect("literal"),
        a => a
            .parse()
            .map_err(|_| std::io::Error::other(format!("invalid address '{a}'")))?,
    };
    let sa = SocketAddr::new(ip, port);
    let sock = Socket::new(Domain::for_address(sa), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if ip.is_ipv6() {
        // Keep IPv6 listeners off IPv4 so `*` and `::*` can both bind, as in Redis.
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&sa.into())?;
    sock.listen(511)?;
    Ok(sock.into())
}

/// Binds every address of `bind` on `port` (a `-` prefix marks an address whose failure is
/// ignored), synchronously, so CONFIG SET can refuse a port it cannot have.
fn listen_all(binds: &[String], port: u16) -> Result<Vec<std::net::TcpListener>> {
    let mut listeners = Vec::new();
    for b in binds {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, b.as_str()),
        };
        match listen(addr, port) {
            Ok(l) => listeners.push(l),
            Err(e) if optional => tracing::debug!("skipping optional bind {addr}:{port}: {e}"),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("Could not create server TCP listening socket {addr}:{port}")
                })
            }
        }
    }
    if listeners.is_empty() {
        bail!("no listening socket could be created");
    }
    Ok(listeners)
}

/// Changes the log level at run time.
pub type SetLevel = Box<dyn Fn(&str) + Send + Sync>;

/// Runs the server until SIGINT, SIGTERM or SHUTDOWN.
pub async fn run(config: Config, config_file: String, set_level: SetLevel) -> Result<()> {
    let port = config.port;
    let binds = config.bind.clone();
    let shared = Shared::new(config, config_file);
    let _ = shared.allocated_bytes.set(allocated);
    install_aof_progress(&shared);
    // The dataset is loaded before the port opens, so no client ever sees it half loaded.
    shardis_commands::persist::load_at_startup(&shared).map_err(anyhow::Error::msg)?;
    let listeners = listen_all(&binds, port)?;
    // New listeners made by CONFIG SET port/bind, for the main loop to take over.
    let (rebind_tx, mut rebind_rx) = mpsc::unbounded_channel::<Vec<std::net::TcpListener>>();
    // CONFIG SET side effects that reach outside the config: the log level, `dir`, and the
    // listening sockets.
    let _ = shared
        .on_config_change
        .set(Box::new(move |old: &Config, new: &Config| {
            if new.port != old.port || new.bind != old.bind {
                let ls = listen_all(&new.bind, new.port).map_err(|e| format!("{e:#}"))?;
                let _ = rebind_tx.send(ls);
            }
            if new.dir != old.dir {
                std::env::set_current_dir(&new.dir)
                    .map_err(|e| format!("Changing directory: {e}"))?;
            }
            if new.loglevel != old.loglevel {
                set_level(&new.loglevel);
            }
            Ok(())
        }));
    let stop = Arc::new(Notify::new());
    let threads = match shared.config.read().event_loops {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n as usize,
    };
    let workers = Arc::new(Workers::start(threads, &shared, &stop)?);
    let mut accepting = start_accepting(listeners, &workers)?;
    tokio::spawn(sweeper(shared.clone()));
    tracing::info!(
        "shardis {} started, pid {}, {threads} event loop threads",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("Received SIGINT scheduling shutdown...");
                if save_before_exit(&shared).await {
                    break;
                }
            }
            _ = term.recv() => {
                tracing::info!("Received SIGTERM scheduling shutdown...");
                if save_before_exit(&shared).await {
                    break;
                }
            }
            _ = stop.notified() => {
                tracing::info!("User requested shutdown...");
                break;
            }
            Some(ls) = rebind_rx.recv() => {
                // The old sockets close when their accept tasks end; clients stay connected.
                for t in accepting.drain(..) {
                    t.abort();
                }
                accepting = start_accepting(ls, &workers)?;
                shared.tcp_port.store(shared.config.read().port as u32, Relaxed);
            }
        }
    }
    let clients: Vec<_> = shared.clients.lock().values().cloned().collect();
    for c in clients {
        c.kill();
    }
    // Whatever the fsync policy, the log is complete on disk before the process ends.
    let s = shared.clone();
    let _ =
        tokio::task::spawn_blocking(move || shardis_commands::aof_files::flush_for_exit(&s)).await;
    tracing::info!("shardis is now ready to exit, bye bye...");
    Ok(())
}

/// On SIGINT/SIGTERM: saves when save points are configured, as Redis does. A failed save
/// keeps the server running (false), so no data is dropped by a signal.
async fn save_before_exit(shared: &Arc<Shared>) -> bool {
    if !shardis_commands::persist::has_save_points(shared) {
        return true;
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    let s = shared.clone();
    match tokio::task::spawn_blocking(move || shardis_commands::persist::save_for_shutdown(&s))
        .await
    {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            tracing::warn!("SIGTERM received but errors trying to shut down the server, check the logs for more information");
            false
        }
        Err(e) => {
            tracing::warn!("the final save did not run: {e}");
            false
        }
    }
}

fn allocated() -> u64 {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    stats::allocated::read().map_or(0, |n| n as u64)
}

/// The event-loop threads. Each runs its own single-threaded Tokio runtime and owns the
/// connections handed to it: a connection's commands always run on that thread, inline, and
/// threads never wake each other to steal work (on a small machine those wake-ups cost more
/// than the commands).
struct Workers {
    queues: Vec<mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>>,
    next: AtomicUsize,
}

impl Workers {
    fn start(n: usize, shared: &Arc<Shared>, stop: &Arc<Notify>) -> Result<Workers> {
        let mut queues = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, mut rx) = mpsc::unbounded_channel::<(std::net::TcpStream, SocketAddr)>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("shardis-io-{i}"))
                .spawn(move || {
                    rt.block_on(async move {
                        while let Some((stream, peer)) = rx.recv().await {
                            let (shared, stop) = (shared.clone(), stop.clone());
                            tokio::spawn(async move {
                                if let Err(e) = serve(stream, peer, shared, stop).await {
                                    tracing::debug!("client {peer} closed: {e}");
                                }
                            });
                        }
                    })
                })?;
            queues.push(tx);
        }
        Ok(Workers {
            queues,
            next: AtomicUsize::new(0),
        })
    }

    /// Hands a new connection to the next thread, round robin.
    fn assign(&self, stream: TcpStream, peer: SocketAddr) {
        let i = self.next.fetch_add(1, Relaxed) % self.queues.len();
        match stream.into_std() {
            Ok(s) => {
                let _ = self.queues[i].send((s, peer));
            }
            Err(e) => tracing::warn!("Accepting client connection: {e}"),
        }
    }
}

/// Starts one accept task per listener.
fn start_accepting(
    listeners: Vec<std::net::TcpListener>,
    workers: &Arc<Workers>,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for l in listeners {
        let l = TcpListener::from_std(l)?;
        tracing::info!("Ready to accept connections tcp {}", l.local_addr()?);
        tasks.push(tokio::spawn(accept_loop(l, workers.clone())));
    }
    Ok(tasks)
}

async fn accept_loop(listener: TcpListener, workers: Arc<Workers>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => workers.assign(stream, peer),
            Err(e) => {
                // Running out of descriptors must not end the listener; back off and retry.
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Idle-sweeps expired keys: a few milliseconds every 1/hz seconds, one shard at a time.
async fn sweeper(shared: Arc<Shared>) {
    loop {
        let hz = shared.config.read().hz.max(1);
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        shared.keyspace.sweep(Duration::from_millis(2));
        shardis_commands::persist::cron(&shared);
        shardis_commands::aof_files::cron(&shared);
    }
}

/// A client socket driven directly on its event loop through `AsyncFd`, so the connection
/// can skip the read that would only return EAGAIN after a short read (one syscall less per
/// request; Tokio's `TcpStream` needs that EAGAIN to learn the socket is drained).
struct Conn {
    fd: AsyncFd<std::net::TcpStream>,
}

impl Conn {
    /// Reads into `buf`; 0 means the peer closed.
    async fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|s| s.get_ref().read(buf)) {
                Ok(Ok(n)) => {
                    // A short read drained the socket. Readiness is edge-triggered and tracked
                    // by event tick, so data arriving after this read still wakes us.
                    if n > 0 && n < buf.len() {
                        guard.clear_ready();
                    }
                    return Ok(n);
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    async fn write_all(&self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            // A socket is nearly always writable: try first, wait only when it is full.
            match self.fd.get_ref().write(data) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut guard = self.fd.writable().await?;
                    match guard.try_io(|s| s.get_ref().write(data)) {
                        Ok(Ok(n)) => data = &data[n..],
                        Ok(Err(e)) => return Err(e),
                        Err(_would_block) => continue,
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

async fn serve(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
) -> Result<()> {
    let cfg = shared.config.read().clone();
    // SAFETY: the `AsyncFd` owns the `TcpStream`, whose descriptor stays open and unchanged
    // until the `AsyncFd` is dropped: the condition `register` requires.
    #[allow(unsafe_code)]
    let fd = unsafe { AsyncFd::register(stream) }.map_err(|e| anyhow::anyhow!("{e}"))?;
    let conn = Conn { fd };
    if protected_refuses(&cfg, peer.ip()) {
        conn.write_all(DENIED.as_bytes()).await?;
        return Ok(());
    }
    if shared.clients.lock().len() as u64 >= cfg.maxclients {
        shared.rejected_connections.fetch_add(1, Relaxed);
        conn.write_all(b"-ERR max number of clients reached\r\n")
            .await?;
        return Ok(());
    }
    let sock = conn.fd.get_ref();
    sock.set_nodelay(true)?;
    if cfg.tcp_keepalive > 0 {
        let ka = TcpKeepalive::new().with_time(Duration::from_secs(cfg.tcp_keepalive));
        let _ = SockRef::from(sock).set_tcp_keepalive(&ka);
    }
    let local = sock.local_addr()?;
    let handle = shared.register(peer.to_string(), local.to_string());
    let kill = Arc::new(Notify::new());
    let k = kill.clone();
    let _ = handle.waker.set(Box::new(move || k.notify_one()));
    // Publishers on any thread wake this task when they queue a message for it.
    let pushed = Arc::new(Notify::new());
    let p = pushed.clone();
    let _ = handle
        .pubsub
        .outbox
        .wake
        .set(Box::new(move || p.notify_one()));
    let mut sess = Session::new(handle.clone(), cfg.requirepass.is_some());
    let result = connection_loop(&conn, &shared, &mut sess, &kill, &pushed, &stop).await;
    sess.release(&shared);
    shared.unregister(handle.id);
    result
}

async fn connection_loop(
    conn: &Conn,
    shared: &Shared,
    sess: &mut Session,
    kill: &Notify,
    pushed: &Notify,
    stop: &Notify,
) -> Result<()> {
    // `rbuf[..filled]` holds received bytes; the rest is zeroed room for the next read.
    let mut rbuf: Vec<u8> = vec![0; READ_CHUNK];
    let mut filled = 0;
    let mut out = ReplyWriter::new(false);
    let mut parser = RequestParser::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut want = READ_CHUNK;
    // Limits cached per connection and refreshed only when CONFIG SET bumps the generation.
    let mut gen = u64::MAX;
    let (mut timeout, mut max_bulk, mut qbuf_limit) = (0, 0, 0);
    loop {
        if sess.handle.killed.load(Relaxed) {
            return Ok(());
        }
        if rbuf.len() - filled < want.min(READ_CHUNK) {
            // Grow by what the parser says is missing, but never more than a step at a time:
            // memory follows the bytes that arrive, not what a header declared.
            rbuf.resize(filled + want.clamp(READ_CHUNK, MAX_READ_GROWTH), 0);
        }
        let now_gen = shared.config_gen.load(Relaxed);
        if now_gen != gen {
            gen = now_gen;
            let c = shared.config.read();
            (timeout, max_bulk, qbuf_limit) =
                (c.timeout, c.proto_max_bulk_len, c.client_query_buffer_limit);
        }
        // Subscribers are exempt from the idle timeout, as in Redis.
        let idle_limit = if sess.handle.pubsub.active() {
            0
        } else {
            timeout
        };
        let n = tokio::select! {
            r = conn.read(&mut rbuf[filled..]) => r?,
            _ = kill.notified() => return Ok(()),
            _ = idle(idle_limit) => return Ok(()),
            _ = pushed.notified() => {
                // Messages published while the client waits for nothing else go out now.
                sess.handle.pubsub.outbox.take(&mut out.out);
                flush(conn, &mut out, kill).await?;
                continue;
            }
        };
        if n == 0 {
            return Ok(());
        }
        filled += n;
        sess.handle
            .last_active_ms
            .store(shardis_keyspace::now_ms(), Relaxed);
        let mut start = 0;
        let mut close = false;
        loop {
            let limits = Limits {
                max_bulk_len: max_bulk as usize,
                max_multibulk: i32::MAX as usize,
                unauthenticated: !sess.authenticated,
            };
            let input = &rbuf[start..filled];
            match parser.parse(input, &mut spans, &limits) {
                Ok(Parsed::Complete(len)) => {
                    if !spans.is_empty() {
                        let args = parser.args(input, &spans);
                        out.resp3 = sess.resp3;
                        // Messages published before this command precede its reply.
                        if sess.handle.pubsub.outbox.pending() {
                            sess.handle.pubsub.outbox.take(&mut out.out);
                        }
                        loop {
                            match execute(shared, sess, args, &mut out) {
                                Outcome::Done => break,
                                Outcome::Paused(wait) => {
                                    durable(shared, sess).await;
                                    flush(conn, &mut out, kill).await?;
                                    tokio::time::sleep(wait.min(Duration::from_millis(10))).await;
                                }
                            }
                        }
                        match sess.action.take() {
                            None => {}
                            Some(Action::Close) => close = true,
                            Some(Action::Sleep(d)) => {
                                tokio::time::sleep(d).await;
                            }
                            Some(Action::Shutdown) => {
                                stop.notify_one();
                                close = true;
                            }
                            Some(Action::Block(w, timeout)) => {
                                // Replies to earlier commands of the pipeline go out first.
                                durable(shared, sess).await;
                                flush(conn, &mut out, kill).await?;
                                match wait_blocked(conn, shared, &w, timeout, kill).await {
                                    Some(reply) => out.raw(&reply),
                                    None => return Ok(()),
                                }
                                // The pop that served it must be durable before it says so.
                                let served = w.aof_end.load(Relaxed);
                                sess.aof_wait = sess.aof_wait.max(served);
                            }
                        }
                    }
                    spans.clear();
                    start += len;
                    want = READ_CHUNK;
                    if close {
                        break;
                    }
                }
                Ok(Parsed::Incomplete(hint)) => {
                    want = hint;
                    break;
                }
                Err(ParseError(msg)) => {
                    shared.count_error("ERR");
                    out.error(&format!("Protocol error: {msg}"));
                    durable(shared, sess).await;
                    flush(conn, &mut out, kill).await?;
                    tracing::debug!("Protocol error ({msg}) from client {}", sess.handle.addr);
                    return Ok(());
                }
            }
        }
        rbuf.copy_within(start..filled, 0);
        filled -= start;
        if rbuf.len() > MAX_READ_GROWTH && filled < READ_CHUNK {
            // Give back the room a large request needed once it is consumed.
            rbuf.truncate(READ_CHUNK);
            rbuf.shrink_to_fit();
        }
        sess.handle.query_buf.store(filled, Relaxed);
        if sess.handle.pubsub.outbox.pending() {
            sess.handle.pubsub.outbox.take(&mut out.out);
        }
        durable(shared, sess).await;
        flush(conn, &mut out, kill).await?;
        if close {
            return Ok(());
        }
        if filled as u64 > qbuf_limit {
            tracing::warn!(
                "Closing client {} that reached max query buffer length",
                sess.handle.addr
            );
            return Ok(());
        }
    }
}

/// Waits until a blocked client is served, times out, or goes away. Returns the reply to
/// send, or `None` when the connection is to be dropped (killed or closed by the peer).
async fn wait_blocked(
    conn: &Conn,
    shared: &Shared,
    w: &Arc<Waiter>,
    timeout: Option<Duration>,
    kill: &Notify,
) -> Option<Vec<u8>> {
    let woken = Arc::new(Notify::new());
    let n = woken.clone();
    // A wake before this point is not lost: the reply is checked before every wait, and
    // `Notify` keeps a permit for a wake that comes before the wait.
    let _ = w.wake.set(Box::new(move || n.notify_one()));
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let sleep = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    let closed = peer_closed(conn);
    tokio::pin!(closed);
    loop {
        if let Some(reply) = w.take_reply() {
            return Some(reply);
        }
        tokio::select! {
            _ = woken.notified() => {}
            _ = &mut sleep => {
                if shared.blocking.cancel(w.client_id) {
                    return Some(w.timeout_reply());
                }
                // Served at the same moment: the reply is there.
            }
            _ = kill.notified() => {
                shared.blocking.cancel(w.client_id);
                return None;
            }
            _ = &mut closed => {
                shared.blocking.cancel(w.client_id);
                return None;
            }
        }
    }
}

/// Completes when the peer closes the connection. More commands arriving while the client is
/// blocked are left unread (they run after it is served), so this then waits forever.
async fn peer_closed(conn: &Conn) {
    loop {
        let Ok(mut guard) = conn.fd.readable().await else {
            return;
        };
        let mut b = [0u8; 1];
        match conn.fd.get_ref().peek(&mut b) {
            Ok(0) => return,
            Ok(_) => std::future::pending::<()>().await,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => guard.clear_ready(),
            Err(_) => return,
        }
    }
}

async fn idle(timeout: u64) {
    if timeout == 0 {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_secs(timeout)).await;
}

/// Writes the pending replies. A client that stops reading must not pin its task in a write
/// forever: a kill (CLIENT KILL, an output buffer limit, SHUTDOWN) ends the wait.
/// How far the append-only log is durable, published by its writer thread.
static SYNCED: std::sync::OnceLock<tokio::sync::watch::Receiver<u64>> = std::sync::OnceLock::new();

/// Group commit: with `appendfsync always`, waits until every record this client's
/// commands appended is on disk, so no reply acknowledges a write a crash could lose. One
/// fsync of the writer releases every client waiting on the records it covered.
async fn durable(shared: &Shared, sess: &mut Session) {
    let target = std::mem::take(&mut sess.aof_wait);
    if target == 0 {
        return;
    }
    let Some(w) = shared.aof.writer() else {
        return;
    };
    if w.policy() != shardis_persist::aof_writer::Fsync::Always || w.synced() >= target {
        return;
    }
    let Some(rx) = SYNCED.get() else { return };
    let mut rx = rx.clone();
    let _ = rx.wait_for(|&s| s >= target || !shared.aof.on()).await;
}

/// Publishes the writer's progress to waiting connections.
pub fn install_aof_progress(shared: &Shared) {
    let (tx, rx) = tokio::sync::watch::channel(0u64);
    let _ = SYNCED.set(rx);
    let _ = shared.aof_progress.set(Box::new(move |n| {
        // Offsets only grow (a new writer starts where the old one ended).
        tx.send_if_modified(|v| {
            let newer = n > *v;
            if newer {
                *v = n;
            }
            newer
        });
    }));
}

async fn flush(conn: &Conn, out: &mut ReplyWriter, kill: &Notify) -> Result<()> {
    if !out.out.is_empty() {
        tokio::select! {
            // A write that completes at once wins over a pending kill, so a client that kills
            // itself still gets its reply.
            biased;
            r = conn.write_all(&out.out) => r?,
            _ = kill.notified() => bail!("killed while writing"),
        }
        out.out.clear();
        // A huge reply must not keep its buffer forever.
        if out.out.capacity() > 4 * 1024 * 1024 {
            out.out.shrink_to(64 * 1024);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_only_remote_peers_without_password_or_bind() {
        let mut cfg = Config::default();
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(protected_refuses(&cfg, remote));
        assert!(!protected_refuses(&cfg, "127.0.0.1".parse().unwrap()));
        assert!(!protected_refuses(&cfg, "::1".parse().unwrap()));
        assert!(!protected_refuses(
            &cfg,
            "::ffff:127.0.0.1".parse().unwrap()
        ));
        cfg.requirepass = Some(b"x".to_vec());
        assert!(!protected_refuses(&cfg, remote));
        cfg.requirepass = None;
        cfg.bind_explicit = true;
        assert!(!protected_refuses(&cfg, remote));
        cfg.bind_explicit = false;
        cfg.protected_mode = false;
        assert!(!protected_refuses(&cfg, remote));
    }
}
