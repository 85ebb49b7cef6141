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
//! | dial | `POST /v2/calls` `{connection_id, to, from, webhook_url?, timeout_secs?, time_limit_secs?, client_state?}` |
//! | call_status | `GET /v2/calls/{call_control_id}` |
//! | hangup | `POST /v2/calls/{call_control_id}/actions/hangup` |
//!
//! The number in a path may be `+digits`, `%2Bdigits` or `digits`. Authentication is
//! `Authorization: Bearer {API key}`, and the key is the state namespace (a secret: shown
//! masked). The code is submitted by the application, for the newest verification of the
//! number; a code sent by a call is read out when the call is answered, at once.

mod callback;
mod calls;
mod error;
mod routes;
mod wire;

use hyper::{Method, StatusCode};

use super::{Prepared, Provider, PublicKey, Refusal};
use crate::core::{Auth, Core, CoreError};
use crate::core::ids::Ids;
use crate::core::phone;
use crate::core::model::{AccountKey, Call};
use crate::delivery::Webhook;
use crate::faults::Target;
use crate::http::{Request, Response};
use error::TelnyxError;

/// The provider's name in the control plane and state files.
const NAME: &str = "telnyx";

/// Digits in a code, and how long it stays valid (Telnyx documents neither; its examples show
/// six digits).
const CODE_LENGTH: usize = 6;
const CODE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Wrong codes a verification takes before it fails for good (Telnyx does not document it).
const MAX_WRONG_CODES: u32 = 5;

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

/// One operation with everything its request carries, parsed and checked: the work applies it
/// and renders the answer, and a request that is not valid carries its error. A number of the
/// path that is not a number is `None` (not found).
enum Op {
    Create(routes::Result<routes::Create>),
    List(routes::Result<routes::ListQuery>),
    Verify { number: Option<String>, code: routes::Result<String> },
    Get { number: Option<String> },
    Delete { number: Option<String> },
    Dial(routes::Result<calls::Dial>),
    CallStatus { id: String },
    HangUp { id: String },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::List(_) => "list",
            Op::Verify { .. } => "verify",
            Op::Get { .. } => "get",
            Op::Delete { .. } => "delete",
            Op::Dial(_) => "dial",
            Op::CallStatus { .. } => "call_status",
            Op::HangUp { .. } => "hangup",
        }
    }

    /// The number the request names, for fault rules.
    fn number(&self) -> Option<String> {
        match self {
            Op::Create(Ok(c)) => Some(c.number.e164.clone()),
            Op::Dial(Ok(d)) => Some(d.to.e164.clone()),
            Op::Verify { number, .. } | Op::Get { number } | Op::Delete { number } => number.clone(),
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

    fn prefixes(&self) -> &'static [&'static [&'static str]] {
        &[&["v2"]]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/v2")
    }

    fn operations(&self) -> &'static [&'static str] {
        &["create", "verify", "get", "list", "delete", "dial", "call_status", "hangup"]
    }

    fn account_is_secret(&self) -> bool {
        true
    }

    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
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
            let key = key.filter(|key| core.check_auth(NAME, key, key, None) == Auth::Ok);
            let result = match key {
                None => Err(TelnyxError::Unauthorized),
                Some(key) => run(core, &AccountKey::new(NAME, &key), op),
            };
            result.unwrap_or_else(|e| e.render())
        };
        Prepared { target, run: Box::new(run) }
    }

    fn refuse(&self, _core: &Core, _path: &str, why: Refusal) -> Response {
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
            Refusal::NotSaved(cause) => return TelnyxError::Core(CoreError::NotSaved(cause.into())).render(),
        };
        TelnyxError::Status { status, code, detail }.render()
    }

    /// Verified numbers have no id on Telnyx's wire; the store's is a UUID.
    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.uuid_v4()
    }

    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook> {
        callback::call_moved(call, ids)
    }

    fn public_keys(&self, ids: &Ids) -> Vec<PublicKey> {
        vec![callback::public_key(ids)]
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
fn route(req: &Request, rest: &[&str]) -> Result<Op, TelnyxError> {
    let m = &req.method;
    match rest {
        ["verified_numbers"] => match *m {
            Method::POST => Ok(Op::Create(routes::body(req).and_then(routes::Create::parse))),
            Method::GET => Ok(Op::List(routes::ListQuery::parse(&req.query_pairs()))),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["verified_numbers", number, "actions", "verify"] => match *m {
            Method::POST => {
                Ok(Op::Verify { number: phone::path_key(number), code: routes::body(req).and_then(routes::code) })
            }
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["verified_numbers", number] => match *m {
            Method::GET => Ok(Op::Get { number: phone::path_key(number) }),
            Method::DELETE => Ok(Op::Delete { number: phone::path_key(number) }),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["calls"] => match *m {
            Method::POST => Ok(Op::Dial(routes::body(req).and_then(calls::Dial::parse))),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["calls", id] => match *m {
            Method::GET => Ok(Op::CallStatus { id: (*id).to_owned() }),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        ["calls", id, "actions", "hangup"] => match *m {
            Method::POST => Ok(Op::HangUp { id: (*id).to_owned() }),
            _ => Err(TelnyxError::MethodNotAllowed),
        },
        _ => Err(TelnyxError::NoRoute),
    }
}

fn run(core: &Core, key: &AccountKey, op: Op) -> routes::Result {
    match op {
        Op::Create(create) => routes::create(core, key, create?),
        Op::List(query) => routes::list(core, key, &query?),
        Op::Verify { number, code } => {
            let code = code?;
            routes::verify(core, key, &number.ok_or(TelnyxError::NotFound)?, &code)
        }
        Op::Get { number } => routes::get(core, key, &number.ok_or(TelnyxError::NotFound)?),
        Op::Delete { number } => routes::delete(core, key, &number.ok_or(TelnyxError::NotFound)?),
        Op::Dial(dial) => calls::dial(core, key, dial?),
        Op::CallStatus { id } => calls::status(core, key, &id),
        Op::HangUp { id } => calls::hang_up(core, key, &id),
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
        assert!(matches!(route(&get, &["verified_numbers"]), Ok(Op::List(Ok(_)))));
        assert!(matches!(route(&get, &["verified_numbers", "+15551234567"]), Ok(Op::Get { number: Some(ref n) }) if n == "+15551234567"));
        let post = req(Method::POST, None);
        assert!(matches!(route(&post, &["verified_numbers", "+1555", "actions", "verify"]), Ok(Op::Verify { .. })));
        assert!(matches!(route(&post, &["verified_numbers", "+1555"]), Err(TelnyxError::MethodNotAllowed)));
        assert!(matches!(route(&get, &["verified_numbers", "+1555", "actions", "verify"]), Err(TelnyxError::MethodNotAllowed)));
        assert!(matches!(route(&get, &["messages"]), Err(TelnyxError::NoRoute)));
    }
}
