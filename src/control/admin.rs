//! The server itself: health, the clock, reset, the callback journal.

use hyper::StatusCode;
use serde_json::Value;

use super::wire::{Callbacks, ClockView, DeliveryView, Health, Reset};
use super::{Result, bad, query_param};
use crate::App;
use crate::core::time::{Timestamp, parse_duration};
use crate::http::{self, Request, Response};

pub(super) fn health(app: &App) -> Response {
    let uptime_s = app.core.uptime().as_secs();
    http::json(StatusCode::OK, &Health { status: "ok", version: env!("CARGO_PKG_VERSION"), uptime_s })
}

pub(super) fn clock_view(app: &App) -> Response {
    let core = &app.core;
    http::json(StatusCode::OK, &ClockView::new(core.clock.now(), core.clock.is_frozen(), core.pending_events()))
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
            app.core.advance_clock(by);
        }
        (None, Some(set)) => {
            let to = set
                .as_str()
                .and_then(Timestamp::parse_rfc3339)
                .ok_or_else(|| bad("set must be an RFC 3339 time such as \"2026-01-01T00:00:00Z\""))?;
            app.core.set_clock(to).ok_or_else(|| bad("the clock never runs backwards"))?;
        }
        _ => return Err(bad("give exactly one of \"advance\" and \"set\"")),
    }
    Ok(clock_view(app))
}

pub(super) fn reset(app: &App, req: &Request) -> Response {
    let account = query_param(req, "account");
    let removed = app.core.reset(account.as_deref());
    let reset = account.unwrap_or_else(|| "all".to_owned());
    http::json(StatusCode::OK, &Reset { reset, namespaces_removed: removed })
}

pub(super) fn callbacks(app: &App, req: &Request) -> Response {
    let (provider, account, id) = (query_param(req, "provider"), query_param(req, "account"), query_param(req, "id"));
    let deliveries = app.core.webhooks.journal(|w| {
        provider.as_deref().is_none_or(|p| p == w.provider)
            && account.as_deref().is_none_or(|a| a == w.account)
            && id.as_deref().is_none_or(|i| i == w.verification_id)
    });
    let callbacks = deliveries.iter().map(DeliveryView::new).collect();
    http::json(StatusCode::OK, &Callbacks { callbacks })
}

pub(super) fn export_state(app: &App) -> Response {
    http::json(StatusCode::OK, &app.core.export_state())
}

/// Replaces all state with the body (the state file format); a bad body changes nothing.
pub(super) fn import_state(app: &App, req: &Request) -> Result {
    let file = serde_json::from_slice(&req.body).map_err(|e| bad(format!("not a state file: {e}")))?;
    app.core.load_state(file, true).map_err(bad)?;
    Ok(export_state(app))
}
