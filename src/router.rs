//! The request path, the same for every provider:
//!
//! 1. the path names the provider (by its prefix) or the control plane, before the body is read,
//!    so a body that is too large or too slow is refused in that provider's own shape;
//! 2. the body is read whole, within `--max-body-bytes` and `--body-timeout`;
//! 3. the provider parses the request once ([`Provider::prepare`]): what it is (operation,
//!    account, number) and the work that answers it;
//! 4. fault rules are matched against what it is; the work runs (or the fault answers);
//! 5. when a state file is kept, the answer waits until every change it depends on is written:
//!    a write is never acknowledged before it is durable;
//! 6. the request journal records it.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::StatusCode;
use hyper::body::Body as _;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, DATE, HeaderValue};
use serde_json::json;

use crate::app::App;
use crate::control;
use crate::faults::{Action, Target};
use crate::http::{self, Request, Response, segments};
use crate::journal::{RequestRecord, redact_query};
use crate::providers::{Prepared, Provider, Refusal};
use crate::proxy;

/// How much more of a too-large body is read and thrown away, so that the client finishes
/// sending and reads the 413 instead of meeting a closed socket.
const DRAIN_BYTES: usize = 16 << 20;

/// The connection is to be closed without an answer (an injected reset or drop).
#[derive(Debug)]
pub(crate) struct Abort {
    /// Close with a TCP reset rather than a FIN.
    pub reset: bool,
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.reset { "injected connection reset" } else { "injected dropped connection" })
    }
}

impl std::error::Error for Abort {}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Timeout,
    /// The body ended before it was whole (a connection reset or closed before `Content-Length`
    /// bytes, a chunked body that does not end cleanly): nothing of it is applied.
    Incomplete,
}

/// Answers one request. Its `Date` header reads the server clock, so that it agrees with the
/// timestamps in the body and a frozen clock makes the headers byte-identical too.
pub(crate) async fn handle(app: &App, req: hyper::Request<Incoming>) -> Result<Response, Abort> {
    let mut res = respond(app, req).await?;
    res.headers_mut().insert(DATE, http::date(app.core().clock().now()));
    Ok(res)
}

async fn respond(app: &App, req: hyper::Request<Incoming>) -> Result<Response, Abort> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    // HTTP/1.1 names its host exactly once (RFC 9112 §3.2); HTTP/2 carries `:authority` instead.
    let hosts = parts.headers.get_all(hyper::header::HOST).iter().count();
    if parts.version == hyper::Version::HTTP_11 && (hosts > 1 || (hosts == 0 && parts.uri.authority().is_none())) {
        let why =
            if hosts > 1 { "a request may name its Host once" } else { "an HTTP/1.1 request needs a Host header" };
        return Ok(close(control::error(StatusCode::BAD_REQUEST, why)));
    }
    let method = parts.method.clone();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
    let (path, _) = path_and_query.split_once('?').unwrap_or((&path_and_query, ""));
    let segs = segments(path);
    let segs: Vec<&str> = segs.iter().map(|s| &**s).collect();
    if segs.first() == Some(&"_mock")
        && let Some(refused) = control::guard(app, &method, &parts.uri, &parts.headers, !body.is_end_stream())
    {
        return Ok(refused);
    }
    // An absolute-form request through the proxy: a provider host is served as if it had come
    // directly; any other host is refused (or forwarded with --proxy-passthrough).
    if let Some(host) = proxy::target_host(&parts.uri)
        && !proxy::is_local(app, &parts.uri, &host)
        && !app.providers().serves_host(&host)
    {
        if !app.config().proxy_passthrough {
            return Ok(proxy::refuse(&host));
        }
        return Ok(match read_body(app, body).await {
            Ok(body) => proxy::forward(parts, body).await,
            Err(e) => close(control::error(body_status(&e), &body_message(app, &e))),
        });
    }
    if method == hyper::Method::PUT && segs == ["_mock", "state"] {
        // A state can be far larger than any request body: it has its own limit and streams.
        // Answered only once the imported state is synced, as every other write.
        return Ok(synced(app, control::import_streamed(app, body), control::not_saved).await);
    }
    let body = read_body(app, body).await;
    let host = request_host(&parts);
    let res = match (segs.split_first(), app.providers().route(host.as_deref(), &segs)) {
        (Some((&"_mock", rest)), _) => match body {
            Ok(body) => {
                let req = Request::new(parts.method, &path_and_query, parts.headers, body);
                synced(app, control::handle(app, &req, rest), control::not_saved).await
            }
            Err(e) => close(control::error(body_status(&e), &body_message(app, &e))),
        },
        (_, Some((provider, rest))) => match body {
            Ok(body) => {
                let req = Request::new(parts.method, &path_and_query, parts.headers, body);
                provider_request(app, provider, &req, rest, started).await?
            }
            // A body cut short changes nothing; whoever sent it is most likely gone.
            Err(BodyError::Incomplete) => {
                close(control::error(StatusCode::BAD_REQUEST, &body_message(app, &BodyError::Incomplete)))
            }
            Err(e) => close(provider.refuse(app.core(), path, refusal(app, &e))),
        },
        _ => http::json(StatusCode::NOT_FOUND, &json!({"error": "no such route", "status": 404})),
    };
    tracing::debug!(%method, path = ?path_and_query, status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, "request");
    Ok(res)
}

/// The host a request names (its absolute-form URI's, else its `Host` header), lowercase and
/// without the port: through the proxy or `--tls-bind` a provider's host, which picks the
/// provider among those whose paths could match.
fn request_host(parts: &hyper::http::request::Parts) -> Option<String> {
    let raw = match parts.uri.host() {
        Some(host) => host.to_owned(),
        None => {
            let header = parts.headers.get(hyper::header::HOST)?.to_str().ok()?;
            header.parse::<hyper::http::uri::Authority>().ok()?.host().to_owned()
        }
    };
    Some(raw.trim_end_matches('.').to_ascii_lowercase())
}

async fn provider_request(
    app: &App,
    provider: &dyn Provider,
    req: &Request,
    rest: &[&str],
    started: Instant,
) -> Result<Response, Abort> {
    app.phone_ready().await;
    let core = app.core();
    let Prepared { target, run } = provider.prepare(core, req, rest);
    let fault = app.faults().check(&target, core.ids());
    let not_saved = |cause: &str| provider.refuse(core, &req.path, Refusal::NotSaved(cause));
    let res = match fault {
        None => synced(app, async { run() }, not_saved).await,
        Some(Action::Latency { min_ms, .. }) => {
            tokio::time::sleep(Duration::from_millis(min_ms)).await;
            synced(app, async { run() }, not_saved).await
        }
        Some(Action::Error { status, code, message }) => {
            provider.refuse(core, &req.path, Refusal::Injected { status, code, message: &message })
        }
        Some(Action::Reset) => {
            record(app, provider, req, &target, 0, started);
            return Err(Abort { reset: true });
        }
        Some(Action::Drop { hold_ms }) => {
            record(app, provider, req, &target, 0, started);
            let mut shutdown = app.shutdown();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(hold_ms)) => {}
                _ = shutdown.stopped() => {}
            }
            return Err(Abort { reset: false });
        }
    };
    record(app, provider, req, &target, res.status().as_u16(), started);
    Ok(res)
}

/// Runs `work`; when it queued changes for the state file, answers only once they are synced,
/// or with `not_saved(cause)` if they cannot be.
async fn synced(
    app: &App,
    work: impl std::future::Future<Output = Response>,
    not_saved: impl FnOnce(&str) -> Response,
) -> Response {
    if !app.keeps_state_file() {
        return work.await;
    }
    let before = app.core().log_head();
    let res = work.await;
    let after = app.core().log_head();
    if after == before {
        return res;
    }
    match app.synced(after).await {
        Ok(()) => res,
        Err(cause) => not_saved(&cause),
    }
}

/// Reads a body whole within the limits; a body too large is read on (up to [`DRAIN_BYTES`])
/// and thrown away, so the client can read the answer.
async fn read_body(app: &App, mut body: Incoming) -> Result<Bytes, BodyError> {
    let limit = app.config().max_body_bytes;
    // A declared length past what would be drained is refused before a byte is read: at once,
    // and without a `100 Continue` (hyper sends one only when the body is first read).
    if body.size_hint().lower() > (limit + DRAIN_BYTES) as u64 {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        // What the body declares (within the limit) is room made once: a body that grows by
        // doubling leaves freed pieces of every size behind it.
        let mut buf = Vec::with_capacity((body.size_hint().lower() as usize).min(limit));
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                tracing::debug!("a request body ended before it was whole: nothing of it is applied");
                return Err(BodyError::Incomplete);
            };
            let Ok(data) = frame.into_data() else { continue };
            total += data.len();
            if total > limit + DRAIN_BYTES {
                return Err(BodyError::TooLarge);
            }
            if total <= limit {
                buf.extend_from_slice(&data);
            }
        }
        if total > limit { Err(BodyError::TooLarge) } else { Ok(Bytes::from(buf)) }
    };
    let read = tokio::time::timeout(app.config().body_timeout, read).await.unwrap_or(Err(BodyError::Timeout));
    if read.is_err() {
        // What a body that never came whole held is freed with its connection: hand it back.
        crate::memory::give_back();
    }
    read
}

/// What a provider answers for a body the server could not read (an incomplete one is answered
/// by the server itself, before this).
fn refusal(app: &App, e: &BodyError) -> Refusal<'static> {
    match e {
        BodyError::TooLarge => Refusal::BodyTooLarge { limit: app.config().max_body_bytes },
        BodyError::Timeout | BodyError::Incomplete => Refusal::BodyTimeout,
    }
}

fn body_status(e: &BodyError) -> StatusCode {
    match e {
        BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::Timeout => StatusCode::REQUEST_TIMEOUT,
        BodyError::Incomplete => StatusCode::BAD_REQUEST,
    }
}

fn body_message(app: &App, e: &BodyError) -> String {
    match e {
        BodyError::TooLarge => {
            format!("the request body is larger than {} bytes (--max-body-bytes)", app.config().max_body_bytes)
        }
        BodyError::Timeout => {
            format!("the request body did not arrive within {:?} (--body-timeout)", app.config().body_timeout)
        }
        BodyError::Incomplete => "the request body ended before it was whole: nothing of it was applied".to_owned(),
    }
}

/// The connection closes after this answer (its request body was not read whole).
fn close(mut res: Response) -> Response {
    res.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Writes the request journal (status 0: no answer was sent).
fn record(app: &App, provider: &dyn Provider, req: &Request, target: &Target, status: u16, started: Instant) {
    let entry = RequestRecord {
        at: app.core().clock().now(),
        method: req.method.to_string(),
        path: req.path.clone(),
        query: redact_query(&req.query, provider.secret_params()),
        provider: target.provider,
        operation: target.operation,
        account: target.account.clone(),
        status,
        duration_us: started.elapsed().as_micros() as u64,
    };
    let account = target.account.as_deref().unwrap_or_default();
    app.record_request(account, entry);
}
