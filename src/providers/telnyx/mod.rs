//! Telnyx's Verified Numbers API (v2), as the official SDKs (`telnyx` on PyPI and npm,
//! generated from Telnyx's OpenAPI document) call it:
//!
//! | operation | request |
//! |---|---|
//! | create | `POST /v2/verified_numbers` `{phone_number, verification_method: sms\|call, extension?}` |
//! | verify | `POST /v2/verified_numbers/{phone_number}/actions/verify` `{verification_code}` |
//! | get | `GET /v2/verified_numbers/{phone_number}` |
//! | list | `GET /v2/verified_numbers?page[number]&page[size]` |
//! | delete | `DELETE /v2/verified_numbers/{phone_number}` |
//!
//! The number in a path may be `+digits`, `%2Bdigits` or `digits`. Authentication is
//! `Authorization: Bearer {API key}`, and the key is the state namespace (a secret: shown
//! masked). The code is submitted by the application, for the newest verification of the
//! number; a code sent by a call is read out when the call is answered, at once.

mod error;
mod routes;
mod wire;

use hyper::{Method, StatusCode};

use super::{Prepared, Provider, Refusal};
use crate::app::App;
use crate::core::Auth;
use crate::core::ids::Ids;
use crate::core::phone;
use crate::core::store::AccountKey;
use crate::faults::Target;
use crate::http::{Request, Response};
use error::TelnyxError;

/// The provider's name in the control plane and state files.
const NAME: &str = "telnyx";

/// Digits in a code, and how long it stays valid (Telnyx documents neither; its examples show
/// six digits).
const CODE_LENGTH: usize = 6;
const CODE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The attribute a verification's DTMF `extension` is kept in.
const EXTENSION: &str = "extension";

/// Telnyx has no flags of its own.
#[derive(clap::Args, Clone, Debug, Default)]
#[group(skip)]
pub struct Options {}

pub(crate) struct Api;

impl Api {
    pub fn new(_options: &Options) -> Api {
        Api
    }
}

/// One operation, with what its request carried, parsed.
enum Op<'a> {
    Create(routes::Result<routes::Create>),
    List,
    Verify { number: &'a str },
    Get { number: &'a str },
    Delete { number: &'a str },
}

impl Op<'_> {
    fn name(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::List => "list",
            Op::Verify { .. } => "verify",
            Op::Get { .. } => "get",
            Op::Delete { .. } => "delete",
        }
    }

    /// The number the request names, for fault rules.
    fn number(&self) -> Option<String> {
        match self {
            Op::Create(Ok(c)) => Some(c.number.e164.clone()),
            Op::Verify { number } | Op::Get { number } | Op::Delete { number } => phone::path_key(number),
            _ => None,
        }
    }
}

impl Provider for Api {
    fn name(&self) -> &'static str {
        NAME
    }

    fn hosts(&self) -> &'static [&'static str] {
        &["api.telnyx.com"]
    }

    fn prefix(&self) -> &'static [&'static str] {
        &["v2"]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/v2")
    }

    fn operations(&self) -> &'static [&'static str] {
        &["create", "verify", "get", "list", "delete"]
    }

    fn account_is_secret(&self) -> bool {
        true
    }

    fn prepare<'a>(&'a self, app: &'a App, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        let key = bearer(req);
        let op = match route(req, rest) {
            Ok(op) => op,
            Err(e) => {
                let target = Target { provider: NAME, operation: "", account: key, number: None };
                return Prepared { target, run: Box::new(move || e.render()) };
            }
        };
        let target = Target { provider: NAME, operation: op.name(), account: key.clone(), number: op.number() };
        let run = move || {
            let key = key.filter(|key| app.core.check_auth(NAME, key, key, None) == Auth::Ok);
            let result = match key {
                None => Err(TelnyxError::Unauthorized),
                Some(key) => run(app, &AccountKey::new(NAME, &key), req, op),
            };
            result.unwrap_or_else(|e| e.render())
        };
        Prepared { target, run: Box::new(run) }
    }

    fn refuse(&self, _app: &App, why: Refusal) -> Response {
        let (status, code, detail) = match why {
            Refusal::Injected { status, code, message } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code.unwrap_or(10007),
                message.to_owned(),
            ),
            Refusal::BodyTooLarge { limit } => {
                (StatusCode::PAYLOAD_TOO_LARGE, 10015, format!("The request body is larger than {limit} bytes."))
            }
            Refusal::BodyTimeout => {
                (StatusCode::REQUEST_TIMEOUT, 10008, "The request body did not arrive in time.".to_owned())
            }
            Refusal::NotSaved(cause) => (
                StatusCode::SERVICE_UNAVAILABLE,
                10007,
                format!("The emulator's state file cannot be written ({cause})."),
            ),
        };
        TelnyxError::Status { status, code, detail }.render()
    }

    /// Verified numbers have no id on Telnyx's wire; the store's is a UUID.
    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.uuid_v4()
    }
}

/// The API key of `Authorization: Bearer KEY`.
fn bearer(req: &Request) -> Option<String> {
    let value = req.header("authorization")?.trim();
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then(|| key.to_owned())
}

/// Matches the segments after `/v2` and parses what the operation reads.
fn route<'a>(req: &Request, rest: &[&'a str]) -> Result<Op<'a>, TelnyxError> {
    let m = &req.method;
    match rest {
        ["verified_numbers"] => match *m {
            Method::POST => Ok(Op::Create(routes::Create::parse(routes::body(req)))),
            Method::GET => Ok(Op::List),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["verified_numbers", number, "actions", "verify"] => match *m {
            Method::POST => Ok(Op::Verify { number }),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["verified_numbers", number] => match *m {
            Method::GET => Ok(Op::Get { number }),
            Method::DELETE => Ok(Op::Delete { number }),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        _ => Err(TelnyxError::NoRoute),
    }
}

fn run(app: &App, key: &AccountKey, req: &Request, op: Op) -> routes::Result {
    match op {
        Op::Create(create) => routes::create(app, key, create?),
        Op::List => routes::list(app, key, req),
        Op::Verify { number } => routes::verify(app, key, number, routes::body(req)),
        Op::Get { number } => routes::get(app, key, number),
        Op::Delete { number } => routes::delete(app, key, number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Bytes;
    use hyper::header::{HeaderMap, HeaderValue};

    fn req(method: Method, auth: Option<&'static str>) -> Request {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert("authorization", HeaderValue::from_static(a));
        }
        Request::new(method, "/", headers, Bytes::new())
    }

    #[test]
    fn reads_the_bearer_key() {
        assert_eq!(bearer(&req(Method::GET, Some("Bearer KEY123"))).as_deref(), Some("KEY123"));
        assert_eq!(bearer(&req(Method::GET, Some("bearer  KEY123 "))).as_deref(), Some("KEY123"));
        assert_eq!(bearer(&req(Method::GET, Some("Basic abc"))), None);
        assert_eq!(bearer(&req(Method::GET, Some("Bearer "))), None);
        assert_eq!(bearer(&req(Method::GET, None)), None);
    }

    #[test]
    fn routes_by_path_and_method() {
        let get = req(Method::GET, None);
        assert!(matches!(route(&get, &["verified_numbers"]), Ok(Op::List)));
        assert!(matches!(route(&get, &["verified_numbers", "+15551234567"]), Ok(Op::Get { number: "+15551234567" })));
        let post = req(Method::POST, None);
        assert!(matches!(route(&post, &["verified_numbers", "+1555", "actions", "verify"]), Ok(Op::Verify { .. })));
        assert!(matches!(route(&post, &["verified_numbers", "+1555"]), Err(TelnyxError::MethodNotAllowed)));
        assert!(matches!(route(&get, &["verified_numbers", "+1555", "actions", "verify"]), Err(TelnyxError::MethodNotAllowed)));
        assert!(matches!(route(&get, &["messages"]), Err(TelnyxError::NoRoute)));
    }
}
