//! The person on the phone, and the calls: `POST /_mock/calls/{id}/answer` (pick up a validation
//! call and key the code in, pick up an outbound call, or never pick up), `POST
//! /_mock/calls/{id}/hangup` (hang up an answered outbound call), `GET /_mock/calls` (the
//! outbound calls placed), and the numbers accounts own (`GET|POST|DELETE /_mock/numbers`), which
//! are valid caller IDs for their calls.

use base64::Engine as _;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{CallView, Calls, CodeView, OwnedNumber, OwnedNumbers};
use super::{ControlError, Result, bad, next_page, paging, provider};
use crate::app::App;
use crate::core::model::{AccountKey, CallStatus};
use crate::core::phone;
use crate::core::{PickedUp, Pickup, PickupError};
use crate::http::{self, Request};

/// `POST /_mock/calls/{id}/answer`: `{"digits": "…"}` picks up and keys digits in (a validation
/// call) or picks up (an outbound call); `{}` picks up an outbound call; `{"outcome": …}` never
/// picks up.
pub(super) fn pick_up(app: &App, req: &Request, id: &str) -> Result {
    let body: Value = match req.body.iter().all(u8::is_ascii_whitespace) {
        true => Value::Object(Default::default()),
        false => serde_json::from_slice(&req.body).map_err(|_| bad("body must be JSON"))?,
    };
    let pickup = match (body.get("digits"), body.get("outcome")) {
        (Some(Value::String(d)), None) => Pickup::Digits(d.clone()),
        (Some(Value::Number(n)), None) => Pickup::Digits(n.to_string()),
        (None, Some(Value::String(o))) => match CallStatus::parse(o) {
            Some(status @ (CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed)) => Pickup::Unanswered(status),
            _ => return Err(bad("outcome must be one of busy, no-answer, failed")),
        },
        (None, None) => Pickup::Answer,
        _ => {
            return Err(bad(
                r#"give at most one of {"digits":"123456"} and {"outcome":"busy"|"no-answer"|"failed"} ({} picks up an outbound call)"#,
            ));
        }
    };
    match app.core().pick_up(id, pickup) {
        Ok(PickedUp::Validation(v)) => Ok(http::json(StatusCode::OK, &CodeView::new(app, &v))),
        Ok(PickedUp::Call(c)) => Ok(http::json(StatusCode::OK, &CallView::new(app, &c))),
        Err(e) => Err(pickup_error(id, e)),
    }
}

/// `POST /_mock/calls/{id}/hangup`: the person hangs up an answered outbound call.
pub(super) fn hang_up(app: &App, id: &str) -> Result {
    match app.core().hang_up_as_person(id) {
        Ok(c) => Ok(http::json(StatusCode::OK, &CallView::new(app, &c))),
        Err(e) => Err(pickup_error(id, e)),
    }
}

fn pickup_error(id: &str, e: PickupError) -> ControlError {
    let conflict = |message: String| ControlError { status: StatusCode::CONFLICT, message };
    match e {
        PickupError::NotFound => ControlError { status: StatusCode::NOT_FOUND, message: format!("no call {id}") },
        PickupError::NotACall => {
            conflict(format!("{id} is a code the application submits itself, not one keyed in on a call"))
        }
        PickupError::NotRinging(at) => {
            conflict(format!("call {id} rings at {}; advance the clock first", at.rfc3339_nanos()))
        }
        PickupError::Ended(state) => conflict(format!("call {id} already ended ({state})")),
        PickupError::NeedsDigits => {
            bad(format!(r#"call {id} is a validation call: key the code in with {{"digits":"…"}}"#))
        }
        PickupError::AlreadyAnswered => conflict(format!("call {id} is answered already")),
        PickupError::NotAnswered(state) => conflict(format!("call {id} is not answered ({state}): nobody can hang up")),
        PickupError::NotSaved(cause) => ControlError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("the state file cannot be written: {cause}"),
        },
    }
}

/// `GET /_mock/calls`: the outbound calls of every account (or `provider`, `account`), newest
/// first, a page at a time.
pub(super) fn list(app: &App, req: &Request) -> Result {
    let provider = req.query_param("provider").map(|p| provider(app, &p)).transpose()?;
    let account = req.query_param("account");
    let (limit, before) = paging(req, "before")?;
    let before =
        before.map(|b| b.parse::<u64>().map_err(|_| bad("before must be a cursor from a next link"))).transpose()?;
    let (found, next) = app.core().calls_across(provider, account.as_deref(), before, limit);
    let calls = found.iter().map(|c| CallView::new(app, c)).collect();
    Ok(http::json(StatusCode::OK, &Calls { calls, next: next_page(req, "before", next.map(|n| n.to_string())) }))
}

/// A number an account owns, as `POST /_mock/numbers` takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberIn {
    provider: String,
    account: String,
    number: String,
}

/// `GET /_mock/numbers`: the numbers accounts own (of `provider`, `account`), a page at a time.
pub(super) fn numbers(app: &App, req: &Request) -> Result {
    let provider = req.query_param("provider").map(|p| provider(app, &p)).transpose()?;
    let account = req.query_param("account");
    let (limit, after) = paging(req, "after")?;
    let after = after
        .map(|a| decode_cursor(app, &a).ok_or_else(|| bad("after must be a cursor from a next link")))
        .transpose()?;
    let (found, next) = app.core().owned_numbers(provider, account.as_deref(), after, limit);
    let numbers = found.iter().map(|(key, n)| OwnedNumber::new(app, key, n)).collect();
    let next = next_page(req, "after", next.map(|c| encode_cursor(&c)));
    Ok(http::json(StatusCode::OK, &OwnedNumbers { numbers, next }))
}

/// `POST /_mock/numbers`: `{"provider", "account", "number"}` now owns the number (201, or 200
/// if it did already).
pub(super) fn own(app: &App, req: &Request) -> Result {
    let n: NumberIn = serde_json::from_slice(&req.body).map_err(|e| bad(format!("not a number to own: {e}")))?;
    let key = AccountKey::new(provider(app, &n.provider)?, &n.account);
    let number = phone::parse_international(&n.number)
        .ok_or_else(|| bad(format!("number {:?} is not a valid phone number with its country code", n.number)))?;
    let added = app.core().set_owned(&key, &number.e164, true).map_err(super::core_error)?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok(http::json(status, &OwnedNumber::new(app, &key, &number.e164)))
}

/// `DELETE /_mock/numbers?provider&account&number`: the account no longer owns the number.
pub(super) fn disown(app: &App, req: &Request) -> Result {
    let required = |name: &str| req.query_param(name).ok_or_else(|| bad(format!("{name} is required")));
    let key = AccountKey::new(provider(app, &required("provider")?)?, &required("account")?);
    let raw = required("number")?;
    let number = phone::path_key(&raw).ok_or_else(|| bad(format!("number {raw:?} is not +digits")))?;
    match app.core().set_owned(&key, &number, false).map_err(super::core_error)? {
        true => Ok(http::json(StatusCode::OK, &OwnedNumber::new(app, &key, &number))),
        false => Err(ControlError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "{} {} does not own {number}",
                key.provider,
                app.shown_account(key.provider, &key.account)
            ),
        }),
    }
}

fn encode_cursor((key, number): &(AccountKey, String)) -> String {
    // The account last: it is the one part that may hold any character.
    let raw = format!("{}\n{}\n{}", key.provider, number, key.account);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(app: &App, cursor: &str) -> Option<(AccountKey, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.splitn(3, '\n');
    let provider = app.providers().by_name(parts.next()?)?.name();
    let number = parts.next()?.to_owned();
    Some((AccountKey::new(provider, parts.next()?), number))
}
