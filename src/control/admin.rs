//! The server itself: health, counters, the OpenAPI document, the clock, reset.

use hyper::StatusCode;
use serde_json::Value;

use super::wire::{ClockView, Health, KeyView, Keys, Reset, Stats};
use super::{Result, bad};
use crate::app::App;
use crate::core::time::{Timestamp, parse_duration};
use crate::http::{self, Request, Response};

/// The OpenAPI 3.1 document of the control plane; the provider names and operations are
/// filled in from the registry when it is served.
pub(super) const OPENAPI: &str = include_str!("openapi.json");

/// The emulator's CA certificate (PEM), made on first use: what a client trusts to reach the
/// providers' hosts through the proxy or `--tls-bind`.
pub(super) fn ca_cert(app: &App) -> Result {
    let tls = app
        .tls()
        .map_err(|e| super::ControlError { status: StatusCode::SERVICE_UNAVAILABLE, message: e.to_owned() })?;
    Ok(http::bytes(StatusCode::OK, "application/x-pem-file", tls.ca.pem().to_owned()))
}

/// `GET /_mock/keys`: the public keys applications verify the providers' webhooks with.
pub(super) fn keys(app: &App) -> Response {
    let ids = app.core().ids();
    let keys = app
        .providers()
        .all()
        .flat_map(|p| {
            p.public_keys(ids).into_iter().map(move |k| KeyView {
                provider: p.name(),
                algorithm: k.algorithm,
                purpose: k.purpose,
                key: k.key,
                env: k.env,
            })
        })
        .collect();
    http::json(StatusCode::OK, &Keys { keys })
}

/// `200 ok`, or `503` naming why the server cannot keep its promises (the state file cannot be
/// written), so that a container's HEALTHCHECK turns unhealthy.
pub(super) fn health(app: &App) -> Response {
    let uptime_s = app.core().uptime().as_secs();
    let version = env!("CARGO_PKG_VERSION");
    let failure = app.state_file().and_then(|d| d.failure);
    match failure {
        None => http::json(StatusCode::OK, &Health { status: "ok", version, uptime_s, reason: None }),
        Some(cause) => http::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Health {
                status: "unavailable",
                version,
                uptime_s,
                reason: Some(format!("the state file cannot be written: {cause}")),
            },
        ),
    }
}

pub(super) fn stats(app: &App) -> Response {
    let core = app.core().stats();
    let options = app.core().options();
    let durable = app.state_file();
    let view = Stats {
        state_bytes: core.state_bytes,
        max_state_bytes: options.max_state_bytes,
        pending: core.pending,
        max_pending: options.max_pending,
        verifications: core.verifications,
        calls: core.calls,
        timers: core.timers,
        request_journal_bytes: app.requests_bytes(),
        callback_journal_bytes: app.deliveries().bytes(),
        max_journal_bytes: app.config().max_journal_bytes,
        streams: app.waiters(),
        max_streams: app.config().max_waiters,
        entries_visited: core.entries_visited,
        state_file_lsn: durable.as_ref().map(|d| d.lsn),
        state_file_failure: durable.and_then(|d| d.failure).map(|f| f.to_string()),
    };
    http::json(StatusCode::OK, &view)
}

/// The document with the registry's providers and operations written in.
pub(super) fn openapi(app: &App) -> Value {
    let mut doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    doc["info"]["version"] = env!("CARGO_PKG_VERSION").into();
    let names: Vec<Value> = app.providers().names().into_iter().map(Value::from).collect();
    doc["components"]["schemas"]["Provider"]["enum"] = Value::Array(names);
    let operations: Vec<String> = app
        .providers()
        .all()
        .map(|p| format!("{}: {}", p.name(), p.operations().join(", ")))
        .chain(["callback: a webhook (any provider)".to_owned()])
        .collect();
    doc["components"]["schemas"]["Operation"]["description"] = operations.join("; ").into();
    doc
}

pub(super) fn clock_view(app: &App) -> Response {
    let clock = app.core().clock();
    http::json(StatusCode::OK, &ClockView::new(clock.now(), clock.is_frozen(), app.core().stats().timers))
}

pub(super) fn move_clock(app: &App, req: &Request) -> Result {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| bad("body must be JSON"))?;
    match (body.get("advance"), body.get("set")) {
        (Some(advance), None) => {
            let by = match advance {
                Value::String(s) => parse_duration(s),
                Value::Number(n) => n.as_u64().map(std::time::Duration::from_secs),
                _ => None,
            }
            .ok_or_else(|| bad("advance must be a duration such as \"15m\", \"90s\", \"1h30m\" or seconds"))?;
            app.core().advance_clock(by);
        }
        (None, Some(set)) => {
            let to = set
                .as_str()
                .and_then(Timestamp::parse_rfc3339)
                .ok_or_else(|| bad("set must be an RFC 3339 time such as \"2026-01-01T00:00:00Z\""))?;
            app.core().set_clock(to).ok_or_else(|| bad("the clock never runs backwards"))?;
        }
        _ => return Err(bad("give exactly one of \"advance\" and \"set\"")),
    }
    Ok(clock_view(app))
}

/// Wipes every account, or one (every provider's), with its journals and webhooks.
pub(super) fn reset(app: &App, req: &Request) -> Response {
    let account = req.query_param("account");
    let removed = app.reset(account.as_deref());
    let reset = account.unwrap_or_else(|| "all".to_owned());
    http::json(StatusCode::OK, &Reset { reset, namespaces_removed: removed })
}
