//! The codes "sent" and the person on the phone: `GET /_mock/codes`, `GET /_mock/codes/latest`,
//! `POST /_mock/calls/{id}/answer`.

use std::time::Duration;

use hyper::StatusCode;
use serde_json::Value;

use super::wire::{CodeView, Codes};
use super::{Result, bad, query_param};
use crate::core::store::{CallStatus, VerificationState};
use crate::core::time::parse_duration;
use crate::core::{Answer, AnswerError, CodeFilter};
use crate::http::{self, Request};
use crate::{App, phone, providers};

/// The longest a `codes/latest` request waits.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

fn filter(req: &Request) -> std::result::Result<CodeFilter, (StatusCode, String)> {
    let mut filter = CodeFilter::default();
    for (name, value) in req.query_pairs() {
        match name.as_str() {
            "provider" if providers::by_name(&value).is_none() => {
                return Err(bad(format!("unknown provider {value:?}; one of {:?}", providers::names())));
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
    Ok(filter)
}

pub(super) fn list(app: &App, req: &Request) -> Result {
    let codes = app.core.codes(&filter(req)?).iter().map(|(k, v)| CodeView::new(k, v)).collect();
    Ok(http::json(StatusCode::OK, &Codes { codes }))
}

/// The newest matching code, waiting up to `wait` (real time, at most [`MAX_WAIT`]) for one to
/// be issued. Woken by the core when a code is issued: no polling.
pub(super) async fn latest(app: &App, req: &Request) -> Result {
    let filter = filter(req)?;
    let wait = match query_param(req, "wait") {
        None => Duration::ZERO,
        Some(w) => parse_duration(&w).ok_or_else(|| bad(format!("wait {w:?} is not a duration such as 10s")))?,
    }
    .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Registered before looking, so a code issued in between still wakes us.
        let issued = app.core.code_issued();
        tokio::pin!(issued);
        issued.as_mut().enable();
        if let Some((key, v)) = app.core.codes(&filter).first() {
            return Ok(http::json(StatusCode::OK, &CodeView::new(key, v)));
        }
        tokio::select! {
            _ = issued => {}
            _ = tokio::time::sleep_until(deadline) => {
                return Err((StatusCode::NOT_FOUND, format!("no matching code within {}ms", wait.as_millis())));
            }
        }
    }
}

pub(super) fn answer(app: &App, req: &Request, id: &str) -> Result {
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
        Err(AnswerError::NotACall) => {
            Err(conflict(format!("{id} is a code the application submits itself, not a call")))
        }
        Err(AnswerError::NotRinging(at)) => {
            Err(conflict(format!("call {id} rings at {}; advance the clock first", at.rfc3339_nanos())))
        }
        Err(AnswerError::Ended(state)) => Err(conflict(format!("call {id} already ended ({})", state.as_str()))),
    }
}
