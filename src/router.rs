//! Reads a request whole, then sends it by its first path segment to the provider that owns
//! that prefix, or to the control plane. For a provider request it also applies any injected
//! fault and writes the request journal, the same way for every provider.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Limited};
use hyper::StatusCode;
use hyper::body::Incoming;
use serde_json::json;

use crate::core::faults::{Action, Target};
use crate::core::journal::{RequestRecord, redact_query};
use crate::http::{self, Request, Response};
use crate::providers::{self, Entry, InjectedError};
use crate::{App, control};

/// The largest request body accepted; larger ones get 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

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

pub(crate) async fn handle(app: &App, req: hyper::Request<Incoming>) -> Result<Response, Abort> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(http::json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": "request body too large or unreadable", "status": 413}),
            ));
        }
    };
    let req = Request::new(parts.method, &path_and_query, parts.headers, body);
    let segments = req.segments();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let res = match segs.split_first() {
        Some((&"_mock", rest)) => control::handle(app, &req, rest).await,
        Some((first, rest)) => match providers::by_prefix(first) {
            Some(provider) => provider_request(app, provider, &req, rest, started).await?,
            None => not_found(),
        },
        None => not_found(),
    };
    tracing::debug!(method = %req.method, path = %req.path, status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, "request");
    Ok(res)
}

async fn provider_request(
    app: &App,
    provider: &Entry,
    req: &Request,
    segs: &[&str],
    started: Instant,
) -> Result<Response, Abort> {
    let target = (provider.classify)(req, segs);
    let res = match app.core.faults.check(&target, &app.core.ids) {
        None => (provider.handle)(app, req, segs),
        Some(Action::Latency { min_ms, .. }) => {
            tokio::time::sleep(Duration::from_millis(min_ms)).await;
            (provider.handle)(app, req, segs)
        }
        Some(Action::Error { status, code, message }) => {
            (provider.fault)(app, &InjectedError { status, code, message: &message })
        }
        Some(Action::Reset) => {
            record(app, req, &target, 0, started);
            return Err(Abort { reset: true });
        }
        Some(Action::Drop { hold_ms }) => {
            record(app, req, &target, 0, started);
            tokio::time::sleep(Duration::from_millis(hold_ms)).await;
            return Err(Abort { reset: false });
        }
    };
    record(app, req, &target, res.status().as_u16(), started);
    Ok(res)
}

/// Writes the request journal (status 0: no answer was sent).
fn record(app: &App, req: &Request, target: &Target, status: u16, started: Instant) {
    let entry = RequestRecord {
        at: app.core.clock.now(),
        method: req.method.to_string(),
        path: req.path.clone(),
        query: redact_query(&req.query),
        provider: target.provider,
        operation: target.operation,
        account: target.account.clone(),
        status,
        duration_us: started.elapsed().as_micros() as u64,
    };
    let account = target.account.clone().unwrap_or_default();
    app.core.requests.lock().push(&account, entry);
}

fn not_found() -> Response {
    http::json(StatusCode::NOT_FOUND, &json!({"error": "no such route", "status": 404}))
}
