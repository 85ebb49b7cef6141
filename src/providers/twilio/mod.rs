//! Twilio's 2010 REST `OutgoingCallerIds` API and its validation call:
//!
//! | operation | request |
//! |---|---|
//! | create a ValidationRequest | `POST /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json` (form: `PhoneNumber`, `FriendlyName`, `CallDelay`, `Extension`, `StatusCallback`, `StatusCallbackMethod`) |
//! | list | `GET /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json?PhoneNumber&FriendlyName&PageSize&Page&PageToken` |
//! | fetch | `GET /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds/{Sid}.json` |
//! | update | `POST` or `PUT …/OutgoingCallerIds/{Sid}.json` (form: `FriendlyName`) |
//! | delete | `DELETE …/OutgoingCallerIds/{Sid}.json` |
//!
//! A ValidationRequest schedules a call that rings after `CallDelay` seconds; the person on the
//! phone (the control plane, or `--auto-answer`) keys in the code, an OutgoingCallerId `PN…` is
//! created, and the signed `StatusCallback` reports the outcome. Authentication is HTTP Basic
//! with the path's AccountSid as user name; the AccountSid is the state namespace. Every
//! response carries `Twilio-Request-Id: RQ…`.

mod callback;
mod error;
mod routes;
mod signature;
mod wire;

use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};

use super::{Entry, InjectedError};
use crate::core::Auth;
use crate::core::faults::Target;
use crate::core::store::AccountKey;
use crate::http::{self, Request, Response};
use crate::{App, phone};
use error::TwilioError;

/// The provider's name in the control plane and state files.
pub(crate) const NAME: &str = "twilio";

pub(crate) const ENTRY: Entry = Entry {
    name: NAME,
    prefix: "2010-04-01",
    classify,
    handle,
    fault,
    base_url: str::to_owned,
    caller_id_id: |ids| ids.sid("PN"),
    call_ended: callback::call_ended,
};

/// The format a path asked for by its suffix.
enum Format {
    Json,
    /// `.xml`, `.csv` or no suffix: formats the emulator does not speak.
    Other,
}

/// Splits `OutgoingCallerIds.json` into `("OutgoingCallerIds", Json)`.
fn format_of(segment: &str) -> (&str, Format) {
    match segment.rsplit_once('.') {
        Some((name, "json")) => (name, Format::Json),
        Some((name, _)) => (name, Format::Other),
        None => (segment, Format::Other),
    }
}

/// Handles a request whose path started with `/2010-04-01`; `segs` is the rest.
fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    with_request_id(app, dispatch(app, req, segs).unwrap_or_else(|e| e.render()))
}

/// Every Twilio response carries `Twilio-Request-Id: RQ…`.
fn with_request_id(app: &App, mut res: Response) -> Response {
    let request_id = app.core.ids.sid("RQ");
    res.headers_mut().insert("twilio-request-id", HeaderValue::from_str(&request_id).expect("hex is a valid header"));
    res
}

/// The operation, account and number of a request, before it runs.
fn classify(req: &Request, segs: &[&str]) -> Target {
    let (account, rest) = match segs {
        ["Accounts", account, rest @ ..] => (Some((*account).to_owned()), rest),
        _ => (None, &[][..]),
    };
    let resource: Vec<&str> = rest.iter().map(|s| format_of(s).0).collect();
    let operation = match (resource.as_slice(), &req.method) {
        (["OutgoingCallerIds"], &Method::POST) => "create",
        (["OutgoingCallerIds"], &Method::GET) => "list",
        (["OutgoingCallerIds", _], &Method::GET) => "fetch",
        (["OutgoingCallerIds", _], &Method::POST | &Method::PUT) => "update",
        (["OutgoingCallerIds", _], &Method::DELETE) => "delete",
        _ => "",
    };
    let number = (operation == "create")
        .then(|| http::form_pairs(&req.body).into_iter().find(|(k, _)| k == "PhoneNumber"))
        .flatten()
        .and_then(|(_, n)| phone::parse_in_region(&n, phonenumber::country::Id::US))
        .map(|n| n.e164);
    Target { provider: NAME, operation, account, number }
}

/// An injected error in the 2010 envelope; `code` defaults to the HTTP status.
fn fault(app: &App, e: &InjectedError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = e.code.and_then(|c| u32::try_from(c).ok()).unwrap_or(u32::from(e.status));
    with_request_id(app, TwilioError::new(status, code, e.message).render())
}

fn dispatch(app: &App, req: &Request, segs: &[&str]) -> Result<Response, TwilioError> {
    let (account, rest) = match segs {
        ["Accounts", account, rest @ ..] if !rest.is_empty() => (*account, rest),
        _ => return Err(TwilioError::not_found(&req.path)),
    };
    let (user, token) = req.basic_auth().unwrap_or_default();
    match app.core.check_auth(NAME, account, &user, Some(&token)) {
        Auth::Ok => {}
        Auth::Unauthorized => return Err(TwilioError::unauthorized()),
        Auth::Forbidden => {
            return Err(TwilioError::new(
                StatusCode::FORBIDDEN,
                20403,
                "Forbidden: the credentials belong to another account",
            ));
        }
    }
    let key = AccountKey::new(NAME, account);
    let last = rest[rest.len() - 1];
    let (last, format) = format_of(last);
    let path: Vec<&str> = rest[..rest.len() - 1].iter().copied().chain([last]).collect();
    let op = match path.as_slice() {
        ["OutgoingCallerIds"] => None,
        ["OutgoingCallerIds", sid] => Some(*sid),
        _ => return Err(TwilioError::not_found(&req.path)),
    };
    if let Format::Other = format {
        return Ok(error::xml_not_supported());
    }
    match (op, &req.method) {
        (None, &Method::POST) => routes::create(app, &key, req),
        (None, &Method::GET) => routes::list(app, &key, req),
        (Some(sid), &Method::GET) => routes::fetch(app, &key, req, sid),
        (Some(sid), &Method::POST | &Method::PUT) => routes::update(app, &key, req, sid),
        (Some(sid), &Method::DELETE) => routes::delete(app, &key, req, sid),
        _ => Err(TwilioError::method_not_allowed()),
    }
}
