//! SignalWire's Compatibility API (formerly LaML) for calls: Twilio's 2010 dialect on a Space,
//! with the project id as the `AccountSid`, served by [`compat`](crate::providers::compat):
//!
//! | operation | request |
//! |---|---|
//! | create_call | `POST /api/laml/2010-04-01/Accounts/{project}/Calls.json` (Twilio's form: `To`, `From`, `Url` / `Twiml`, `StatusCallback`…) |
//! | list_calls | `GET …/Calls.json` with Twilio's filters and paging |
//! | fetch_call | `GET …/Calls/{CallSid}.json` |
//! | update_call | `POST …/Calls/{CallSid}.json` (`Status=completed\|canceled`, `Url` / `Twiml`) |
//! | delete_call | `DELETE …/Calls/{CallSid}.json` |
//!
//! The official SDK (`@signalwire/compatibility-api`, a fork of twilio-node) sends the same
//! paths without `/api/laml` (`https://{space}/2010-04-01/…`): on a Space's host those are served
//! too. The `.json` suffix is optional (SignalWire's own examples omit it). A call's `From` must be
//! a verified caller ID of the project (made through the Space API) or a number it owns.
//! `OutgoingCallerIds` is not part of the Compatibility API (SignalWire's verified caller IDs are
//! the Space API's): it answers 404.

use hyper::StatusCode;

use super::NAME;
use crate::core::model::AccountKey;
use crate::core::{Auth, Core};
use crate::faults::Target;
use crate::http::{Request, Response};
use crate::providers::{Prepared, Refusal};
use crate::providers::compat::error::RestError;
use crate::providers::compat::Dialect;
use crate::providers::compat::calls::CallOp;

/// The API's version segment, after `/api/laml` or on its own on a Space's host.
pub(super) const VERSION: &str = "2010-04-01";

/// How SignalWire speaks the dialect (UNVERIFIED where SignalWire does not say:
/// `docs/providers/signalwire.md`).
pub(super) const DIALECT: Dialect = Dialect {
    root: "/api/laml/2010-04-01",
    errors_url: "https://developer.signalwire.com/compatibility-api/reference/error-codes#",
    realm: "SignalWire",
    brand: "SignalWire",
    user_agent: "SignalWire-Compatibility/1.0",
    idempotency_header: "X-SignalWire-Idempotency-Token",
    signature_headers: &["X-SignalWire-Signature"],
    seller: "SignalWire",
};

/// A request for `Accounts/{account}/{rest…}`.
pub(super) fn prepare<'a>(core: &'a Core, req: &'a Request, account: &'a str, rest: &'a [&'a str]) -> Prepared<'a> {
    let op = route(req, rest);
    let (operation, number) = match &op {
        Ok(op) => (op.name(), op.number()),
        Err(_) => ("", None),
    };
    let target = Target { provider: NAME, operation, account: Some(account.to_owned()), number };
    let (user, password) = req.basic_auth().unwrap_or_default();
    let run = move || {
        let result = op.and_then(|op| {
            match core.check_auth(NAME, account, &user, Some(&password)) {
                Auth::Ok => {}
                Auth::Unauthorized => return Err(RestError::unauthorized()),
                Auth::Forbidden => return Err(RestError::forbidden()),
            }
            op.apply(&DIALECT, core, &AccountKey::new(NAME, account), &req.path, password)
        });
        result.unwrap_or_else(|e| e.render(&DIALECT))
    };
    Prepared { target, run: Box::new(run) }
}

/// Whether `path` is one of the Compatibility API's (with or without `/api/laml`).
pub(super) fn owns(path: &str) -> bool {
    let bare = path.strip_prefix('/').and_then(|p| p.strip_prefix(VERSION)).is_some_and(|p| p.starts_with('/'));
    path.starts_with(DIALECT.root) || bare
}

/// The server's refusal of a Compatibility request, in the dialect's envelope (a fault rule's
/// code, else the status as the code, as Twilio's folder does).
pub(super) fn refuse(why: Refusal) -> Response {
    let e = match why {
        Refusal::Injected { status, code, message } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = code.and_then(|c| u32::try_from(c).ok()).unwrap_or(u32::from(status.as_u16()));
            RestError::new(status, code, message)
        }
        Refusal::BodyTooLarge { limit } => {
            RestError::new(StatusCode::PAYLOAD_TOO_LARGE, 413, format!("The request body is larger than {limit} bytes"))
        }
        Refusal::BodyTimeout => RestError::new(StatusCode::REQUEST_TIMEOUT, 408, "The request body did not arrive in time"),
        Refusal::NotSaved(cause) => RestError::unavailable(cause),
    };
    e.render(&DIALECT)
}

/// A call operation; `.json` may be left out (SignalWire's own examples do), another format is
/// the dialect's 406.
fn route<'a>(req: &Request, rest: &[&'a str]) -> Result<CallOp<'a>, RestError> {
    let op = CallOp::route(req, rest).unwrap_or_else(|| Err(RestError::not_found(&req.path)))?;
    if rest.last().is_some_and(|last| last.contains('.') && !last.ends_with(".json")) {
        return Err(RestError::NotJson);
    }
    Ok(op)
}
