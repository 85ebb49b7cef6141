//! `POST|GET|DELETE /_mock/faults`.
//!
//! A rule: `{"provider"?, "operation"?, "account"?, "number"?, "action", …, "times"?, "probability"?}`
//! where `action` is `"error"` (`status`, default 500; `code`; `message`), `"latency"`
//! (`latency_ms`: a number or `[min, max]`), `"reset"` or `"drop"` (`hold_ms`, default 30000).
//! `operation: "callback"` targets webhooks instead of API requests.

use hyper::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{FaultView, Faults};
use super::{Result, bad};
use crate::app::App;
use crate::core::phone;
use crate::faults::{Action, Rule};
use crate::http::{self, Request, Response};

/// The operation of a rule that targets webhooks.
const CALLBACK: &str = "callback";

/// The longest a `drop` rule may hold a connection.
const MAX_HOLD_MS: u64 = 120_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleIn {
    provider: Option<String>,
    operation: Option<String>,
    account: Option<String>,
    number: Option<String>,
    action: String,
    status: Option<u16>,
    code: Option<u64>,
    message: Option<String>,
    latency_ms: Option<Value>,
    hold_ms: Option<u64>,
    times: Option<u64>,
    probability: Option<f64>,
}

pub(super) fn add(app: &App, req: &Request) -> Result {
    let r: RuleIn = serde_json::from_slice(&req.body).map_err(|e| bad(format!("not a fault rule: {e}")))?;
    let provider = r.provider.as_deref().map(|p| super::provider(app, p)).transpose()?;
    if let Some(operation) = r.operation.as_deref() {
        // A webhook, or an operation of the rule's provider (of any provider, without one).
        let mut valid: Vec<&str> = match provider.and_then(|p| app.providers().by_name(p)) {
            Some(p) => p.operations().to_vec(),
            None => app.providers().all().flat_map(|p| p.operations()).copied().collect(),
        };
        valid.sort_unstable();
        valid.dedup();
        valid.push(CALLBACK);
        if !valid.contains(&operation) {
            let whose = provider.map_or("any provider".to_owned(), |p| p.to_owned());
            return Err(bad(format!(
                "operation {operation:?} is not one of {whose}'s: {} (a fault rule for it would never fire)",
                valid.join(", ")
            )));
        }
    }
    let number = match r.number.as_deref() {
        None => None,
        Some(n) => Some(phone::path_key(n).ok_or_else(|| bad(format!("number {n:?} is not +digits")))?),
    };
    let action = match r.action.as_str() {
        "error" => {
            let status = r.status.unwrap_or(500);
            if !(100..=599).contains(&status) {
                return Err(bad("status must be an HTTP status, 100 to 599"));
            }
            Action::Error { status, code: r.code, message: r.message.unwrap_or_else(|| "injected fault".into()) }
        }
        "latency" => {
            let (min_ms, max_ms) = match &r.latency_ms {
                Some(Value::Number(n)) => n.as_u64().map(|n| (n, n)),
                Some(Value::Array(a)) if a.len() == 2 => a[0].as_u64().zip(a[1].as_u64()).filter(|(lo, hi)| lo <= hi),
                _ => None,
            }
            .ok_or_else(|| bad("latency_ms must be milliseconds or [min, max]"))?;
            Action::Latency { min_ms, max_ms }
        }
        "reset" => Action::Reset,
        "drop" => Action::Drop { hold_ms: r.hold_ms.unwrap_or(30_000).min(MAX_HOLD_MS) },
        other => return Err(bad(format!("action {other:?} is not one of error, latency, reset, drop"))),
    };
    if r.times == Some(0) {
        return Err(bad("times must be at least 1"));
    }
    if r.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(bad("probability must be between 0 and 1"));
    }
    let rule = app.faults().add(Rule {
        id: 0,
        provider: r.provider,
        operation: r.operation,
        account: r.account,
        number,
        action,
        remaining: r.times,
        probability: r.probability,
        hits: 0,
    });
    Ok(http::json(StatusCode::CREATED, &FaultView::new(&rule)))
}

pub(super) fn list(app: &App) -> Response {
    let faults = app.faults().list().iter().map(FaultView::new).collect();
    http::json(StatusCode::OK, &Faults { faults })
}

pub(super) fn clear(app: &App) -> Response {
    let cleared = app.faults().clear();
    http::json(StatusCode::OK, &serde_json::json!({ "cleared": cleared }))
}
