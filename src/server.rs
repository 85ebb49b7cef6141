//! The accept loop: one task per connection, HTTP/1.1 with keep-alive or HTTP/2 (hyper-util's
//! auto builder), and a graceful shutdown that lets in-flight requests finish.
//!
//! Every connection is bounded in time and number:
//! - `--header-timeout`: a request head must arrive within it (slowloris); hyper runs this timer
//!   while an HTTP/1.1 connection waits for its next request too;
//! - `--idle-timeout`: a connection with no request in flight (nothing sent yet, a partial HTTP/2
//!   preface, an idle HTTP/2 connection, a keep-alive connection) is closed after it; HTTP/2 peers
//!   are also pinged at that interval and dropped if they do not answer within `--header-timeout`;
//! - `--body-timeout` (in the router): a body must arrive within it (408);
//! - `--max-connections`: past it a new connection gets `503` and is closed, at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Method;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::DATE;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::app::App;
use crate::shutdown::Shutdown;
use crate::{http, proxy, router};

/// File descriptors kept free of connections (the state file, webhooks, the 503 itself).
const RESERVED_FDS: u64 = 100;
/// The default `--max-connections` never exceeds this, whatever the descriptor limit.
const MAX_DEFAULT_CONNECTIONS: u64 = 8192;

/// The default of `--max-connections`: the open-file limit less a reserve, at most 8192.
pub(crate) fn default_max_connections() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one plain struct we own.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 { limit.rlim_cur } else { 1024 };
    soft.saturating_sub(RESERVED_FDS).clamp(16, MAX_DEFAULT_CONNECTIONS) as usize
}

/// Raises the open-file soft limit to the hard limit (as Go's runtime does), so that the
/// default `--max-connections` can be as large as the system allows.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write one plain struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// What every connection's task needs: the app, the HTTP builder, the connection slots.
struct Transport {
    app: Arc<App>,
    builder: auto::Builder<TokioExecutor>,
    slots: Arc<Semaphore>,
}

impl Transport {
    /// A slot for one more connection (a tunnel counts as one), if `--max-connections` allows.
    fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

/// Serves the main port, and `--tls-bind` when given, until the server stops; then waits (up to
/// `grace`) for every connection to finish its requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    tls_listener: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
    app: Arc<App>,
    shutdown: Shutdown,
    grace: Duration,
) {
    let config = app.config();
    let (idle_timeout, header_timeout) = (config.idle_timeout, config.header_timeout);
    let max_connections = config.max_connections.unwrap_or_else(default_max_connections);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Every routed answer carries a `Date` from the server clock (`router::handle`), and a
    // tunnel's answer carries no header at all (`proxy::established`): hyper adds none.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout).auto_date_header(false);
    builder
        .http2()
        .auto_date_header(false)
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(idle_timeout))
        .keep_alive_timeout(header_timeout)
        .max_concurrent_streams(256);
    let transport = Arc::new(Transport { app: app.clone(), builder, slots: Arc::new(Semaphore::new(max_connections)) });
    let secure = tls_listener.map(|(listener, tls)| {
        tokio::spawn(accept_loop(listener, Some(tls), transport.clone(), shutdown.clone(), max_connections))
    });
    accept_loop(listener, None, transport.clone(), shutdown, max_connections).await;
    if let Some(secure) = secure {
        let _ = secure.await;
    }
    // Every connection (tunnels too) finishes its requests in flight and gives its slot back.
    let everyone = transport.slots.clone().acquire_many_owned(max_connections as u32);
    tokio::select! {
        _ = everyone => tracing::info!("shut down"),
        _ = tokio::time::sleep(grace) => tracing::warn!("shut down with requests still in flight"),
    }
}

/// Accepts connections until the server stops: each served on a task of its own, after a TLS
/// handshake when `tls` is given (`--tls-bind`).
async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    transport: Arc<Transport>,
    mut shutdown: Shutdown,
    max_connections: usize,
) {
    let stopped = async move { shutdown.stopped().await };
    tokio::pin!(stopped);
    let mut refused_said = false;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(slot) = transport.slot() else {
                    if !std::mem::replace(&mut refused_said, true) {
                        tracing::warn!(max_connections, "--max-connections reached: new connections get 503 until some close");
                    }
                    tokio::spawn(refuse(stream, max_connections));
                    continue;
                };
                refused_said = false;
                let _ = stream.set_nodelay(true);
                let reset = Arc::new(AtomicBool::new(false));
                let io = Conn { stream, reset: reset.clone() };
                match &tls {
                    None => drop(tokio::spawn(serve_http(transport.clone(), io, reset, slot))),
                    Some(tls) => drop(tokio::spawn(serve_tls(transport.clone(), io, reset, slot, tls.clone()))),
                }
            }
            _ = &mut stopped => break,
        }
    }
}

/// A `--tls-bind` connection: the TLS handshake (the certificate of the provider host the
/// client names), then HTTP as on the main port.
async fn serve_tls(
    transport: Arc<Transport>,
    io: Conn,
    reset: Arc<AtomicBool>,
    slot: OwnedSemaphorePermit,
    tls: Arc<rustls::ServerConfig>,
) {
    let handshake = tokio_rustls::TlsAcceptor::from(tls).accept(io);
    match tokio::time::timeout(transport.app.config().header_timeout, handshake).await {
        Ok(Ok(stream)) => serve_http(transport, stream, reset, slot).await,
        Ok(Err(e)) => crate::tls::handshake_failed("--tls-bind", &e),
        Err(_) => tracing::debug!("--tls-bind: no TLS handshake within --header-timeout"),
    }
}

/// Serves HTTP/1.1 or HTTP/2 on one connection (a socket, or a TLS stream in a tunnel) until
/// the peer closes it, it has been idle for `--idle-timeout`, or the server stops (then the
/// requests in flight finish first). A CONNECT request opens a tunnel ([`proxy::connect`]),
/// whose decrypted stream is served here again, as a connection of its own with its own slot.
async fn serve_http<I>(transport: Arc<Transport>, io: I, reset: Arc<AtomicBool>, slot: OwnedSemaphorePermit)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let _slot = slot;
    let activity = Activity::new();
    let (serving, watched) = (transport.clone(), activity.clone());
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let (transport, reset, busy) = (serving.clone(), reset.clone(), watched.busy());
        async move {
            let res = if req.method() == Method::CONNECT {
                let tunnels = transport.clone();
                let serve: proxy::Serve = Box::new(move |tunnel, slot| serve_tunnel(tunnels, tunnel, slot));
                let mut res = proxy::connect(&transport.app, req, transport.slot(), serve);
                if !res.status().is_success() {
                    res.headers_mut().insert(DATE, http::date(transport.app.core().clock().now()));
                }
                Ok(res)
            } else {
                router::handle(&transport.app, req).await
            };
            if let Err(abort) = &res {
                reset.store(abort.reset, Ordering::Relaxed);
            }
            res.map(|res| res.map(|body| Tracked { inner: body, _busy: busy }))
        }
    });
    let mut stop = transport.app.shutdown();
    let conn = transport.builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        ended = conn.as_mut() => if let Err(e) = ended {
            tracing::debug!(error = %e, "connection ended with an error");
        },
        _ = activity.idle_for(transport.app.config().idle_timeout) => tracing::debug!("closed a connection idle for --idle-timeout"),
        _ = stop.stopped() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// [`serve_http`] for a tunnel's stream, boxed: a tunnel is opened from within a connection's
/// service, so its future cannot name its own type.
fn serve_tunnel(
    transport: Arc<Transport>,
    tunnel: proxy::Tunnel,
    slot: OwnedSemaphorePermit,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(serve_http(transport, tunnel, Arc::new(AtomicBool::new(false)), slot))
}

/// Answers a connection past `--max-connections` with a 503 and closes it.
async fn refuse(mut stream: TcpStream, max: usize) {
    let body =
        format!("{{\"error\":\"too many connections: --max-connections {max} are open; retry later\",\"status\":503}}");
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// Whether a connection has requests in flight, and since when it has had none.
struct Activity {
    base: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `base` when the last request finished (or the connection opened).
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity { base: Instant::now(), in_flight: AtomicUsize::new(0), idle_since_ms: AtomicU64::new(0) })
    }

    /// Marks a request in flight until the guard (held by its response body) is dropped.
    fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Resolves once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let now = self.base.elapsed().as_millis() as u64;
            let idle = Duration::from_millis(now.saturating_sub(self.idle_since_ms.load(Ordering::SeqCst)));
            let wait = match self.in_flight.load(Ordering::SeqCst) {
                0 if idle >= timeout => return,
                0 => timeout - idle,
                _ => timeout,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A request in flight on a connection.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since_ms.store(self.0.base.elapsed().as_millis() as u64, Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in flight until it is sent (or dropped):
/// a long event stream is not an idle connection.
struct Tracked<B> {
    inner: B,
    _busy: Busy,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection that can end with a TCP reset: when an injected fault asks for one, the socket
/// is set to linger 0 before it is closed, so the client sees RST instead of FIN.
struct Conn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
