//! Twilio's 2010 REST `OutgoingCallerIds` API and its validation call:
//!
//! | operation | request |
//! |---|---|
//! | create a ValidationRequest | `POST /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json` (form: `PhoneNumber`, `FriendlyName`, `CallDelay`, `Extension`, `StatusCallback`, `StatusCallbackMethod`) |
//! | list | `GET /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json?PhoneNumber&FriendlyName&PageSize&Page&PageToken` |
//! | fetch | `GET /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds/{Sid}.json` |
//! | update | `POST …/OutgoingCallerIds/{Sid}.json` (form: `FriendlyName`; `PUT` is 405 20004, as for any method the resource lacks) |
//! | delete | `DELETE …/OutgoingCallerIds/{Sid}.json` |
//!
//! A ValidationRequest schedules a call that rings after `CallDelay` seconds; the person on the
//! phone (the control plane, or `--auto-answer`) keys in the code, an OutgoingCallerId `PN…` is
//! created, and the signed `StatusCallback` reports the outcome. Authentication is HTTP Basic
//! with the path's AccountSid as user name; the AccountSid is the state namespace. Every
//! response carries `Twilio-Request-Id: RQ…`.

mod routes;

use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};

use super::compat::calls::CallOp;
use super::compat::{Dialect, callback, twiml};
use super::{Prepared, Provider, Refusal};
use crate::core::{Auth, Core};
use crate::core::ids::Ids;
use crate::core::model::{AccountKey, Call, CallError, Verification};
use crate::delivery::{Document, Webhook};
use crate::faults::Target;
use crate::http::{Pairs, Request, Response};
use super::compat::error::RestError;

/// The provider's name in the control plane and state files.
const NAME: &str = "twilio";

/// How Twilio speaks the 2010 dialect (SignalWire's Compatibility API speaks it too).
pub(crate) const DIALECT: Dialect = Dialect {
    root: "/2010-04-01",
    errors_url: "https://www.twilio.com/docs/errors/",
    realm: "Twilio API",
    brand: "Twilio",
    user_agent: "TwilioProxy/1.1",
    idempotency_header: "I-Twilio-Idempotency-Token",
    signature_headers: &["X-Twilio-Signature"],
    seller: "Twilio",
};

/// Twilio's flags (none yet).
#[derive(clap::Args, Clone, Debug, Default)]
#[group(skip)]
pub struct Options {}

pub(crate) struct Api;

impl Api {
    pub fn new(_: &Options) -> Api {
        Api
    }
}

/// One Twilio operation with everything its request carries, parsed and checked: the work
/// applies it and renders the answer, and a request that is not valid carries its error.
enum Op<'a> {
    Create(Result<routes::Create, RestError>),
    List(Result<routes::ListQuery, RestError>),
    Fetch { sid: &'a str },
    Update { sid: &'a str, friendly_name: Result<Option<String>, RestError> },
    Delete { sid: &'a str },
    Call(CallOp<'a>),
}

impl Op<'_> {
    fn name(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::List(_) => "list",
            Op::Fetch { .. } => "fetch",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
            Op::Call(call) => call.name(),
        }
    }

    /// The number the request names, for fault rules (a call's: the one it calls).
    fn number(&self) -> Option<String> {
        match self {
            Op::Create(Ok(create)) => Some(create.number.e164.clone()),
            Op::Call(call) => call.number(),
            _ => None,
        }
    }
}

impl Provider for Api {
    fn name(&self) -> &'static str {
        NAME
    }

    /// `api.twilio.com`, and the regional and edge forms the SDKs build from `TWILIO_REGION`
    /// and `TWILIO_EDGE` (`api.au1.twilio.com`, `api.sydney.au1.twilio.com`).
    fn hosts(&self) -> &'static [&'static str] {
        &["api.twilio.com", "api.*.twilio.com", "api.*.*.twilio.com"]
    }

    fn prefixes(&self) -> &'static [&'static [&'static str]] {
        &[&["2010-04-01"]]
    }

    fn base_url(&self, origin: &str) -> String {
        origin.to_owned()
    }

    fn operations(&self) -> &'static [&'static str] {
        &["create", "list", "fetch", "update", "delete", "create_call", "list_calls", "fetch_call", "update_call", "delete_call"]
    }

    fn secret_params(&self) -> &'static [&'static str] {
        &["AuthToken"]
    }

    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        let (account, op) = match rest {
            ["Accounts", account, rest @ ..] if !rest.is_empty() => (*account, route(req, rest)),
            _ => return prepared(core, None, "", None, move || Err(RestError::not_found(&req.path))),
        };
        let op = match op {
            Ok(op) => op,
            Err(e) => return prepared(core, Some(account), "", None, move || Err(e)),
        };
        let (user, password) = req.basic_auth().unwrap_or_default();
        let auth = core.check_auth(NAME, account, &user, Some(&password));
        prepared(core, Some(account), op.name(), op.number(), move || {
            match auth {
                Auth::Ok => {}
                Auth::Unauthorized => return Err(RestError::unauthorized()),
                Auth::Forbidden => return Err(RestError::forbidden()),
            }
            let key = AccountKey::new(NAME, account);
            let path = &req.path;
            match op {
                Op::Create(create) => routes::create(core, &key, path, create?, password),
                Op::List(query) => routes::list(core, &key, &query?),
                Op::Fetch { sid } => routes::fetch(core, &key, path, sid),
                Op::Update { sid, friendly_name } => routes::update(core, &key, path, sid, friendly_name?),
                Op::Delete { sid } => routes::delete(core, &key, path, sid),
                Op::Call(call) => call.apply(&DIALECT, core, &key, path, password),
            }
        })
    }

    fn refuse(&self, core: &Core, _path: &str, why: Refusal) -> Response {
        let e = match why {
            Refusal::Injected { status, code, message } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let code = code.and_then(|c| u32::try_from(c).ok()).unwrap_or(u32::from(status.as_u16()));
                RestError::new(status, code, message)
            }
            // Twilio's dictionary has no code for these; like an injected fault without one, the
            // code is the status (20001 means "unknown parameters").
            Refusal::BodyTooLarge { limit } => RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                413,
                format!("The request body is larger than {limit} bytes"),
            ),
            Refusal::BodyTimeout => {
                RestError::new(StatusCode::REQUEST_TIMEOUT, 408, "The request body did not arrive in time")
            }
            Refusal::NotSaved(cause) => RestError::unavailable(cause),
        };
        with_request_id(core, e.render(&DIALECT))
    }

    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.sid("PN")
    }

    fn call_ended(&self, v: &Verification, ids: &Ids) -> Option<Webhook> {
        callback::call_ended(&DIALECT, v, ids)
    }

    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook> {
        callback::call_moved(&DIALECT, call, ids)
    }

    fn document(&self, call: &Call, ids: &Ids) -> Option<Document> {
        callback::document(&DIALECT, call, ids)
    }

    fn run_document(&self, core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
        twiml::run(core, call, read)
    }
}

/// A prepared request: its target, and the work that answers it with Twilio's request id.
fn prepared<'a>(
    core: &'a Core,
    account: Option<&str>,
    operation: &'static str,
    number: Option<String>,
    run: impl FnOnce() -> Result<Response, RestError> + Send + 'a,
) -> Prepared<'a> {
    Prepared {
        target: Target { provider: NAME, operation, account: account.map(str::to_owned), number },
        run: Box::new(move || with_request_id(core, run().unwrap_or_else(|e| e.render(&DIALECT)))),
    }
}

/// Every Twilio response carries `Twilio-Request-Id: RQ…`.
fn with_request_id(core: &Core, mut res: Response) -> Response {
    let request_id = core.ids().sid("RQ");
    res.headers_mut().insert("twilio-request-id", HeaderValue::from_str(&request_id).expect("hex is a valid header"));
    res
}

/// Matches the segments after `Accounts/{AccountSid}` and parses what the operation reads: the
/// resource, then the format its last segment asks for (`.json`; any other answers 406).
fn route<'a>(req: &Request, rest: &[&'a str]) -> Result<Op<'a>, RestError> {
    let op = match rest {
        [last] if matches!(*last, "OutgoingCallerIds" | "OutgoingCallerIds.json" | "OutgoingCallerIds.xml" | "OutgoingCallerIds.csv") => {
            match req.method {
                Method::POST => Op::Create(routes::Create::parse(&Pairs::form(&req.body))),
                Method::GET => Op::List(routes::ListQuery::parse(&req.query_pairs())),
                _ => return Err(RestError::method_not_allowed()),
            }
        }
        ["OutgoingCallerIds", sid] => {
            let sid = sid.rsplit_once('.').map_or(*sid, |(sid, _)| sid);
            match req.method {
                Method::GET => Op::Fetch { sid },
                // "HTTP POST or PUT: Updates the caller id" (the API's own page).
                Method::POST | Method::PUT => {
                    Op::Update { sid, friendly_name: routes::friendly_name(&Pairs::form(&req.body)) }
                }
                Method::DELETE => Op::Delete { sid },
                _ => return Err(RestError::method_not_allowed()),
            }
        }
        _ => match CallOp::route(req, rest) {
            Some(call) => Op::Call(call?),
            None => return Err(RestError::not_found(&req.path)),
        },
    };
    if !rest.last().is_some_and(|last| last.ends_with(".json")) {
        return Err(RestError::NotJson);
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Bytes;
    use hyper::header::HeaderMap;

    fn route_of(method: Method, rest: &[&'static str]) -> Result<&'static str, RestError> {
        let req = Request::new(method, "/", HeaderMap::new(), Bytes::new());
        route(&req, rest).map(|op| op.name())
    }

    #[test]
    fn one_matcher_names_every_operation() {
        assert_eq!(route_of(Method::POST, &["OutgoingCallerIds.json"]), Ok("create"));
        assert_eq!(route_of(Method::GET, &["OutgoingCallerIds.json"]), Ok("list"));
        assert_eq!(route_of(Method::GET, &["OutgoingCallerIds", "PN1.json"]), Ok("fetch"));
        assert_eq!(route_of(Method::POST, &["OutgoingCallerIds", "PN1.json"]), Ok("update"));
        assert_eq!(route_of(Method::PUT, &["OutgoingCallerIds", "PN1.json"]), Ok("update"), "the seed: POST or PUT");
        assert!(route_of(Method::PUT, &["OutgoingCallerIds.json"]).is_err(), "PUT on the list stays 405");
        assert_eq!(route_of(Method::POST, &["Calls.json"]), Ok("create_call"));
        assert_eq!(route_of(Method::GET, &["Calls.json"]), Ok("list_calls"));
        assert_eq!(route_of(Method::GET, &["Calls", "CA1.json"]), Ok("fetch_call"));
        assert_eq!(route_of(Method::POST, &["Calls", "CA1.json"]), Ok("update_call"));
        assert_eq!(route_of(Method::DELETE, &["Calls", "CA1.json"]), Ok("delete_call"));
        assert_eq!(route_of(Method::DELETE, &["OutgoingCallerIds", "PN1.json"]), Ok("delete"));
    }

    #[test]
    fn other_formats_are_not_json_and_other_paths_not_found() {
        assert_eq!(route_of(Method::GET, &["OutgoingCallerIds.xml"]), Err(RestError::NotJson));
        assert_eq!(route_of(Method::GET, &["OutgoingCallerIds"]), Err(RestError::NotJson));
        assert_eq!(route_of(Method::GET, &["OutgoingCallerIds", "PN1"]), Err(RestError::NotJson));
        assert!(matches!(route_of(Method::GET, &["Messages.json"]), Err(RestError::Api { .. })));
        assert!(matches!(route_of(Method::PATCH, &["OutgoingCallerIds.json"]), Err(RestError::Api { .. })));
    }
}
