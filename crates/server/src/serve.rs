//! Running a router: HTTP/1.1 and HTTP/2 on a listener, each connection bounded by the
//! configuration's [`Limits`], until a shutdown future resolves; in-flight requests finish.
//!
//! Connections that do nothing must not keep anyone else out:
//!
//! - A connection that has not sent a complete request head within `header_read_timeout` of
//!   being accepted is closed, whether it sent some bytes or none (hyper's own header timeout
//!   starts at the first byte, and the HTTP/1-or-2 detection before it has none).
//! - At `max_connections`, a new connection closes the one that has been idle longest (silent
//!   since it was accepted, or between keep-alive requests); connections serving a request are
//!   never closed for it. Only when every connection is busy does the new one wait. So a flood of
//!   idle sockets from one address costs its own oldest sockets, and health checks and
//!   discovery from anyone else keep being answered.

use gatehouse_core::config::Limits;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Raises the soft limit on open files (`RLIMIT_NOFILE`) to the hard limit, as servers that hold
/// many connections do, and returns the limit now in force.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => limit = raised,
            Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
        }
    }
    // `None` is "unlimited".
    limit.current.unwrap_or(u64::MAX)
}

/// Serves `router` on `listener` with the default [`Limits`] until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, Limits::default(), shutdown).await
}

/// One open connection, as the limit sees it.
struct Conn {
    /// Requests being served now: from the request head until the response is ready. A body
    /// still being written after that does not count (Gatehouse's bodies are small and sent at
    /// once), so shedding could cut a large one short.
    busy: AtomicUsize,
    /// Whether it has sent a complete request head yet.
    served: AtomicBool,
    /// When it last started or finished a request (or was accepted), in ms since the server
    /// started: the one idle longest is closed first.
    last_active: AtomicU64,
    /// Told to close (the limit needed its place).
    shed: Notify,
}

/// The open connections and the limit on them.
struct Connections {
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// A connection ended: one waiting for a place may take it.
    freed: Notify,
    limit: usize,
    started: Instant,
    /// The limit has been reached at least once (logged the first time only).
    reached: AtomicBool,
}

enum Admission {
    Admitted,
    /// Every open connection is serving a request: wait for one to end.
    Full,
}

impl Connections {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes room for connection `id` (closing the longest-idle one if the limit is reached).
    fn admit(&self, id: u64, conn: &Arc<Conn>) -> Admission {
        let Ok(mut open) = self.open.lock() else { return Admission::Full };
        if open.len() >= self.limit {
            if !self.reached.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    limit = self.limit,
                    "the connection limit (limits.max_connections) is reached: from now on a new connection closes \
                     the one idle longest, or waits when all are busy (logged once)"
                );
            }
            let idle = open
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
                .min_by_key(|(_, c)| c.last_active.load(Ordering::Relaxed))
                .map(|(k, _)| *k);
            let Some(victim) = idle.and_then(|k| open.remove(&k)) else { return Admission::Full };
            victim.shed.notify_one();
        }
        open.insert(id, conn.clone());
        Admission::Admitted
    }

    fn leave(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
        self.freed.notify_one();
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests complete. HTTP/1.1 and HTTP/2 (prior knowledge), each connection bounded
/// by `limits`; handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Connections {
        open: Mutex::new(HashMap::new()),
        freed: Notify::new(),
        limit: limits.max_connections.max(1),
        started: Instant::now(),
        reached: AtomicBool::new(false),
    });
    let mut shutdown = std::pin::pin!(shutdown);
    let mut next_id: u64 = 0;
    'accepting: loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        next_id = next_id.wrapping_add(1);
        let id = next_id;
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            last_active: AtomicU64::new(connections.now_ms()),
            shed: Notify::new(),
        });
        loop {
            // Registered before checking, so a connection ending in between is not missed.
            let freed = connections.freed.notified();
            match connections.admit(id, &conn) {
                Admission::Admitted => break,
                Admission::Full => tokio::select! {
                    () = freed => {}
                    () = &mut shutdown => break 'accepting,
                },
            }
        }
        let router = router.clone();
        let (tracked, clock) = (conn.clone(), connections.clone());
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            let (tracked, clock) = (tracked.clone(), clock.clone());
            tracked.served.store(true, Ordering::SeqCst);
            tracked.busy.fetch_add(1, Ordering::SeqCst);
            tracked.last_active.store(clock.now_ms(), Ordering::Relaxed);
            let response = router.clone().oneshot(req);
            async move {
                let done = response.await;
                tracked.last_active.store(clock.now_ms(), Ordering::Relaxed);
                tracked.busy.fetch_sub(1, Ordering::SeqCst);
                done
            }
        });
        let served = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let served = graceful.watch(served);
        let (connections, header_timeout) = (connections.clone(), limits.header_read_timeout);
        tokio::spawn(async move {
            let mut served = std::pin::pin!(served);
            let first_head = tokio::time::sleep(header_timeout);
            let mut first_head = std::pin::pin!(first_head);
            let mut waiting_for_first_head = true;
            loop {
                tokio::select! {
                    ended = &mut served => {
                        if let Err(e) = ended {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    () = conn.shed.notified() => {
                        tracing::debug!(%peer, "idle connection closed to make room under the connection limit");
                        break;
                    }
                    () = &mut first_head, if waiting_for_first_head => {
                        if !conn.served.load(Ordering::SeqCst) {
                            tracing::debug!(%peer, "connection closed: no request head within the header timeout");
                            break;
                        }
                        waiting_for_first_head = false;
                    }
                }
            }
            connections.leave(id);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
