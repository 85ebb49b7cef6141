//! The provider-neutral control plane under `/_mock/`: JSON in and out, for tests.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /_mock/health` | `{"status":"ok","version":…,"uptime_s":…}` |
//! | `GET /_mock/codes` | every code "sent", newest first; filters `provider`, `account`, `number`, `state` |
//! | `GET /_mock/clock` | the clock's reading |
//! | `POST /_mock/clock` | `{"advance":"15m"}` or `{"set":"2026-01-01T00:00:00Z"}`; due events run in order |
//! | `POST /_mock/reset` | wipe all state, or one account's with `?account=…` |
//! | `POST /_mock/calls/{id}/answer` | play the person on the phone: `{"digits":"…"}` or `{"outcome":"busy"\|"no-answer"\|"failed"}` |
//! | `GET /_mock/callbacks` | the webhook delivery journal, newest first; filters `provider`, `account`, `id` |
//!
//! Errors are `{"error": "…", "status": N}`.

mod wire;

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use crate::core::store::{CallStatus, VerificationState};
use crate::core::time::{parse_duration, Timestamp};
use crate::core::{Answer, AnswerError, CodeFilter};
use crate::http::{self, Request, Response};
use crate::{phone, providers, App};
use wire::{Callbacks, ClockView, CodeView, Codes, DeliveryView, Health, Reset};

/// Handles a request whose path started with `/_mock`; `segs` is the rest.
pub(crate) async fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    let result = match (&req.method, segs) {
        (&Method::GET, ["health"]) => Ok(health(app)),
        (&Method::GET, ["codes"]) => codes(app, req),
        (&Method::GET, ["clock"]) => Ok(clock_view(app)),
        (&Method::POST, ["clock"]) => move_clock(app, req),
        (&Method::POST, ["reset"]) => Ok(reset(app, req)),
        (&Method::POST, ["calls", id, "answer"]) => answer(app, req, id),
        (&Method::GET, ["callbacks"]) => Ok(callbacks(app, req)),
        (_, ["health" | "codes" | "clock" | "reset" | "callbacks"] | ["calls", _, "answer"]) => {
            Err((StatusCode::METHOD_NOT_ALLOWED, "method not allowed".to_owned()))
        }
        _ => Err((StatusCode::NOT_FOUND, "no such control route".to_owned())),
    };
    result.unwrap_or_else(|(status, text)| error(status, &text))
}

type Result = std::result::Result<Response, (StatusCode, String)>;

fn error(status: StatusCode, text: &str) -> Response {
    http::json(status, &json!({"error": text, "status": status.as_u16()}))
}

fn bad(text: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, text.into())
}

fn health(app: &App) -> Response {
    let uptime_s = app.core.uptime().as_secs();
    http::json(StatusCode::OK, &Health { status: "ok", version: env!("CARGO_PKG_VERSION"), uptime_s })
}

fn codes(app: &App, req: &Request) -> Result {
    let mut filter = CodeFilter::default();
    for (name, value) in req.query_pairs() {
        match name.as_str() {
            "provider" if !providers::NAMES.contains(&value.as_str()) => {
                return Err(bad(format!("unknown provider {value:?}; one of {:?}", providers::NAMES)));
            }
            "provider" => filter.provider = Some(value),
            "account" => filter.account = Some(value),
            "number" => {
                let key = phone::path_key(&value).ok_or_else(|| bad(format!("number {value:?} is not +digits")))?;
                filter.number = Some(key);
            }
            "state" => {
                let state = VerificationState::parse(&value).ok_or_else(|| bad(format!("unknown state {value:?}")))?;
                filter.state = Some(state);
            }
            _ => {}
        }
    }
    let codes = app.core.codes(&filter).iter().map(|(k, v)| CodeView::new(k, v)).collect();
    Ok(http::json(StatusCode::OK, &Codes { codes }))
}

fn clock_view(app: &App) -> Response {
    let core = &app.core;
    http::json(StatusCode::OK, &ClockView::new(core.clock.now(), core.clock.is_frozen(), core.pending_events()))
}

fn move_clock(app: &App, req: &Request) -> Result {
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
            let to = set.as_str().and_then(Timestamp::parse_rfc3339)
                .ok_or_else(|| bad("set must be an RFC 3339 time such as \"2026-01-01T00:00:00Z\""))?;
            app.core.set_clock(to).ok_or_else(|| bad("the clock never runs backwards"))?;
        }
        _ => return Err(bad("give exactly one of \"advance\" and \"set\"")),
    }
    Ok(clock_view(app))
}

fn reset(app: &App, req: &Request) -> Response {
    let account = req.query_pairs().into_iter().find(|(k, _)| k == "account").map(|(_, v)| v);
    let removed = app.core.reset(account.as_deref());
    let reset = account.unwrap_or_else(|| "all".to_owned());
    http::json(StatusCode::OK, &Reset { reset, namespaces_removed: removed })
}

fn answer(app: &App, req: &Request, id: &str) -> Result {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| bad("body must be JSON"))?;
    let answer = match (body.get("digits"), body.get("outcome")) {
        (Some(Value::String(d)), None) => Answer::Digits(d.clone()),
        (Some(Value::Number(n)), None) => Answer::Digits(n.to_string()),
        (None, Some(Value::String(o))) => match CallStatus::parse(o) {
            Some(status) if status != CallStatus::Completed => Answer::Unanswered(status),
            _ => return Err(bad("outcome must be one of busy, no-answer, failed")),
        },
        _ => return Err(bad(r#"give exactly one of {"digits":"123456"} and {"outcome":"busy"|"no-answer"|"failed"}"#)),
    };
    let conflict = |text: String| (StatusCode::CONFLICT, text);
    match app.core.answer_call(id, answer) {
        Ok((key, v)) => Ok(http::json(StatusCode::OK, &CodeView::new(&key, &v))),
        Err(AnswerError::NotFound) => Err((StatusCode::NOT_FOUND, format!("no call {id}"))),
        Err(AnswerError::NotACall) => Err(conflict(format!("{id} is a code the application submits itself, not a call"))),
        Err(AnswerError::NotRinging(at)) => {
            Err(conflict(format!("call {id} rings at {}; advance the clock first", at.rfc3339_nanos())))
        }
        Err(AnswerError::Ended(state)) => Err(conflict(format!("call {id} already ended ({})", state.as_str()))),
    }
}

fn callbacks(app: &App, req: &Request) -> Response {
    let query = req.query_pairs();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (provider, account, id) = (param("provider"), param("account"), param("id"));
    let deliveries = app.core.webhooks.journal(|w| {
        provider.is_none_or(|p| p == w.provider)
            && account.is_none_or(|a| a == w.account)
            && id.is_none_or(|i| i == w.verification_id)
    });
    let callbacks = deliveries.iter().map(DeliveryView::new).collect();
    http::json(StatusCode::OK, &Callbacks { callbacks })
}
