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
use hyper::Method;

use crate::core::store::AccountKey;
use crate::http::{Request, Response};
use crate::App;
pub(crate) use callback::call_ended;
use error::TwilioError;

/// The provider's name in the control plane and state files.
pub(crate) const NAME: &str = "twilio";

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
pub(crate) fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    let mut res = dispatch(app, req, segs).unwrap_or_else(|e| e.render());
    let request_id = app.core.ids.sid("RQ");
    res.headers_mut().insert("twilio-request-id", HeaderValue::from_str(&request_id).expect("hex is a valid header"));
    res
}

fn dispatch(app: &App, req: &Request, segs: &[&str]) -> Result<Response, TwilioError> {
    let (account, rest) = match segs {
        ["Accounts", account, rest @ ..] if !rest.is_empty() => (*account, rest),
        _ => return Err(TwilioError::not_found(&req.path)),
    };
    if !matches!(req.basic_auth(), Some((user, _)) if user == account) {
        return Err(TwilioError::unauthorized());
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
