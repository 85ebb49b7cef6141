//! Plivo's `VerifiedCallerId` API (REST v1), as the official SDKs call it:
//!
//! | operation | request |
//! |---|---|
//! | initiate | `POST /v1/Account/{auth_id}/VerifiedCallerId/` `{phone_number, alias?, channel?, subaccount?}` |
//! | verify | `POST /v1/Account/{auth_id}/VerifiedCallerId/Verification/{verification_uuid}/` `{otp}` |
//! | get | `GET /v1/Account/{auth_id}/VerifiedCallerId/{phone_number}/` |
//! | list | `GET /v1/Account/{auth_id}/VerifiedCallerId/?limit&offset&country&subaccount&alias` |
//! | update | `POST /v1/Account/{auth_id}/VerifiedCallerId/{phone_number}/` `{alias?, subaccount?}` |
//! | delete | `DELETE /v1/Account/{auth_id}/VerifiedCallerId/{phone_number}/` |
//! | create_call | `POST /v1/Account/{auth_id}/Call/` `{from, to, answer_url, …}` |
//! | list_calls | `GET /v1/Account/{auth_id}/Call/?status=live&limit&offset&…` |
//! | get_call | `GET /v1/Account/{auth_id}/Call/{call_uuid}/?status=live` |
//! | transfer_call | `POST /v1/Account/{auth_id}/Call/{call_uuid}/` `{legs, aleg_url, aleg_method}` |
//! | hangup_call | `DELETE /v1/Account/{auth_id}/Call/{call_uuid}/` |
//! | cancel_call | `DELETE /v1/Account/{auth_id}/Request/{request_uuid}/` |
//!
//! Trailing slashes are optional, the number may be `+digits`, `digits` or `%2Bdigits`, and
//! `Verification/…` is matched before `{phone_number}`. Authentication is HTTP Basic with the
//! path's `auth_id` as the user name. The account (`auth_id`) is the state namespace.

mod call_wire;
mod callback;
mod calls;
mod error;
mod params;
mod routes;
mod signature;
mod wire;

use hyper::{Method, StatusCode};

use super::{Prepared, Provider, Refusal};
use crate::core::ids::Ids;
use crate::core::model::{AccountKey, Call, CallError};
use crate::core::phone;
use crate::core::{Auth, Core, CoreError, HangUp};
use crate::delivery::{Document, Webhook};
use crate::faults::Target;
use crate::http::{Request, Response};
use error::PlivoError;
use params::Params;

/// The provider's name in the control plane and state files.
const NAME: &str = "plivo";

/// How long an OTP stays valid.
const OTP_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Wrong OTPs a verification takes before it fails for good.
const MAX_WRONG_OTPS: u32 = 5;

/// The attribute a caller ID's subaccount is kept in.
const SUBACCOUNT: &str = "subaccount";

/// The attribute a verification keeps the channel its initiate request named in (the verify
/// answer repeats it, and says `""` when the request named none).
const REQUESTED_CHANNEL: &str = "requested_channel";

/// The attribute a call keeps the token its webhooks are signed with in.
const SIGNING_KEY: &str = "signing_key";

/// Plivo's flags.
#[derive(clap::Args, Clone, Debug)]
#[group(skip)]
pub struct Options {
    /// Digits in a Plivo OTP.
    #[arg(long = "plivo-otp-length", env = "CALLERID_MOCK_PLIVO_OTP_LENGTH", default_value_t = 6,
        value_parser = clap::value_parser!(u8).range(4..=10))]
    pub otp_length: u8,
}

impl Default for Options {
    fn default() -> Options {
        Options { otp_length: 6 }
    }
}

pub(crate) struct Api {
    otp_length: usize,
}

impl Api {
    pub fn new(options: &Options) -> Api {
        Api { otp_length: usize::from(options.otp_length) }
    }
}

/// One Plivo operation with everything its request carries, parsed and checked: the work
/// applies it and renders the answer, and a request that is not valid carries its error.
enum Op {
    Initiate(Result<routes::Initiate, PlivoError>),
    List(Result<routes::ListQuery, PlivoError>),
    Verify { uuid: String, otp: Result<String, PlivoError> },
    /// The number of the path (`None`: not a number, so not found).
    Get { number: Option<String> },
    Update { number: Option<String>, changes: Result<routes::Update, PlivoError> },
    Delete { number: Option<String> },
    CreateCall(Result<calls::Create, PlivoError>),
    ListCalls(Result<calls::ListQuery, PlivoError>),
    /// A call's record, or with `status` (`live`) the live call.
    GetCall { uuid: String, status: Option<String> },
    TransferCall { uuid: String, transfer: Result<calls::Transfer, PlivoError> },
    HangUpCall { uuid: String },
    CancelCall { uuid: String },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Initiate(_) => "initiate",
            Op::List(_) => "list",
            Op::Verify { .. } => "verify",
            Op::Get { .. } => "get",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
            Op::CreateCall(_) => "create_call",
            Op::ListCalls(_) => "list_calls",
            Op::GetCall { .. } => "get_call",
            Op::TransferCall { .. } => "transfer_call",
            Op::HangUpCall { .. } => "hangup_call",
            Op::CancelCall { .. } => "cancel_call",
        }
    }

    /// The number the request names, for fault rules.
    fn number(&self) -> Option<String> {
        match self {
            Op::Initiate(Ok(i)) => Some(i.number.e164.clone()),
            Op::CreateCall(Ok(c)) => Some(c.to.e164.clone()),
            Op::Get { number } | Op::Update { number, .. } | Op::Delete { number } => number.clone(),
            _ => None,
        }
    }
}

impl Provider for Api {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Every Plivo SDK calls verified caller IDs (and its voice fallbacks) on `api.plivo.com`.
    fn hosts(&self) -> &'static [&'static str] {
        &["api.plivo.com"]
    }

    fn prefixes(&self) -> &'static [&'static [&'static str]] {
        &[&["v1"]]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/v1/Account/{{auth_id}}/")
    }

    fn operations(&self) -> &'static [&'static str] {
        &[
            "initiate",
            "verify",
            "get",
            "list",
            "update",
            "delete",
            "create_call",
            "list_calls",
            "get_call",
            "transfer_call",
            "hangup_call",
            "cancel_call",
        ]
    }

    fn secret_params(&self) -> &'static [&'static str] {
        &["auth_token"]
    }

    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        let (auth_id, op) = match rest {
            ["Account", auth_id, rest @ ..] => (*auth_id, route(req, rest)),
            _ => return prepared(None, "", None, move || PlivoError::NotFound.render(core)),
        };
        let op = match op {
            Ok(op) => op,
            Err(e) => return prepared(Some(auth_id), "", None, move || e.render(core)),
        };
        let (operation, number) = (op.name(), op.number());
        let (user, token) = req.basic_auth().unwrap_or_default();
        let auth = core.check_auth(NAME, auth_id, &user, Some(&token));
        prepared(Some(auth_id), operation, number, move || {
            let key = AccountKey::new(NAME, auth_id);
            let result = match auth {
                Auth::Ok => self.run(core, &key, op, token),
                Auth::Unauthorized => Err(PlivoError::Unauthorized),
                Auth::Forbidden => Err(PlivoError::Forbidden),
            };
            result.unwrap_or_else(|e| e.render(core))
        })
    }

    fn refuse(&self, core: &Core, _path: &str, why: Refusal) -> Response {
        PlivoError::from(why).render(core)
    }

    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.uuid_v4()
    }

    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook> {
        callback::call_moved(call, ids)
    }

    fn document(&self, call: &Call, ids: &Ids) -> Option<Document> {
        callback::document(call, ids)
    }

    fn run_document(&self, core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
        callback::run_document(core, call, read)
    }
}

impl Api {
    /// Applies `op` for `key`'s account; `token` is the password the request authenticated
    /// with (a call's webhooks are signed with it unless the account declares its own).
    fn run(&self, core: &Core, key: &AccountKey, op: Op, token: String) -> routes::Result {
        match op {
            Op::Initiate(initiate) => routes::initiate(core, key, initiate?, self.otp_length),
            Op::List(query) => routes::list(core, key, &query?),
            Op::Verify { uuid, otp } => routes::verify(core, key, &uuid, &otp?),
            Op::Get { number } => routes::get(core, key, &number.ok_or(PlivoError::NotFound)?),
            Op::Update { number, changes } => routes::update(core, key, &number.ok_or(PlivoError::NotFound)?, changes?),
            Op::Delete { number } => routes::delete(core, key, &number.ok_or(PlivoError::NotFound)?),
            Op::CreateCall(create) => calls::create(core, key, create?, token),
            Op::ListCalls(query) => calls::list(core, key, &query?),
            Op::GetCall { uuid, status } => calls::get(core, key, &uuid, status.as_deref()),
            Op::TransferCall { uuid, transfer } => calls::transfer(core, key, &uuid, transfer?),
            Op::HangUpCall { uuid } => calls::hang_up(core, key, &uuid, HangUp::Complete),
            Op::CancelCall { uuid } => calls::hang_up(core, key, &uuid, HangUp::Cancel),
        }
    }
}

/// A prepared request: its target and the work that answers it.
fn prepared<'a>(
    account: Option<&str>,
    operation: &'static str,
    number: Option<String>,
    run: impl FnOnce() -> Response + Send + 'a,
) -> Prepared<'a> {
    Prepared {
        target: Target { provider: NAME, operation, account: account.map(str::to_owned), number },
        run: Box::new(run),
    }
}

/// Matches the segments after `Account/{auth_id}` and parses what the operation reads.
fn route(req: &Request, rest: &[&str]) -> Result<Op, PlivoError> {
    let m = &req.method;
    match rest {
        ["VerifiedCallerId"] => match *m {
            Method::POST => Ok(Op::Initiate(Params::from_body(req).and_then(routes::Initiate::parse))),
            Method::GET => Ok(Op::List(routes::ListQuery::parse(&Params::from_query(req)))),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", "Verification", uuid] => match *m {
            Method::POST => Ok(Op::Verify { uuid: (*uuid).to_owned(), otp: Params::from_body(req).and_then(routes::otp) }),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", number] => {
            let number = phone::path_key(number);
            match *m {
                Method::GET => Ok(Op::Get { number }),
                Method::POST => Ok(Op::Update { number, changes: Params::from_body(req).map(routes::Update::parse) }),
                Method::DELETE => Ok(Op::Delete { number }),
                _ => Err(PlivoError::MethodNotAllowed),
            }
        }
        ["Call"] => match *m {
            Method::POST => Ok(Op::CreateCall(Params::from_body(req).and_then(calls::Create::parse))),
            Method::GET => Ok(Op::ListCalls(calls::ListQuery::parse(&Params::from_query(req)))),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["Call", uuid] => {
            let uuid = (*uuid).to_owned();
            match *m {
                Method::GET => Ok(Op::GetCall { uuid, status: Params::from_query(req).text("status") }),
                Method::POST => Ok(Op::TransferCall { uuid, transfer: Params::from_body(req).and_then(calls::Transfer::parse) }),
                Method::DELETE => Ok(Op::HangUpCall { uuid }),
                _ => Err(PlivoError::MethodNotAllowed),
            }
        }
        ["Request", uuid] => match *m {
            Method::DELETE => Ok(Op::CancelCall { uuid: (*uuid).to_owned() }),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        _ => Err(PlivoError::NotFound),
    }
}

impl From<Refusal<'_>> for PlivoError {
    fn from(why: Refusal) -> PlivoError {
        match why {
            Refusal::Injected { status, message, .. } => {
                PlivoError::Status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message.into())
            }
            Refusal::BodyTooLarge { limit } => PlivoError::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {limit} bytes"),
            ),
            Refusal::BodyTimeout => {
                PlivoError::Status(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time".into())
            }
            Refusal::NotSaved(cause) => PlivoError::Core(CoreError::NotSaved(cause.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Bytes;
    use hyper::header::HeaderMap;

    fn req(method: Method, body: &'static str) -> Request {
        Request::new(method, "/", HeaderMap::new(), Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn verification_is_matched_before_a_phone_number() {
        let op = route(&req(Method::POST, "{}"), &["VerifiedCallerId", "Verification", "abc"]).ok().unwrap();
        assert!(matches!(op, Op::Verify { ref uuid, .. } if uuid == "abc"));
        let op = route(&req(Method::POST, "{}"), &["VerifiedCallerId", "+12025551234"]).ok().unwrap();
        assert!(matches!(op, Op::Update { number: Some(ref n), .. } if n == "+12025551234"));
    }

    #[test]
    fn wrong_methods_and_paths_are_refused() {
        assert!(matches!(route(&req(Method::PUT, ""), &["VerifiedCallerId"]), Err(PlivoError::MethodNotAllowed)));
        assert!(matches!(
            route(&req(Method::GET, ""), &["VerifiedCallerId", "Verification", "x"]),
            Err(PlivoError::MethodNotAllowed)
        ));
        assert!(matches!(route(&req(Method::GET, ""), &["Recording"]), Err(PlivoError::NotFound)));
        assert!(matches!(route(&req(Method::PUT, ""), &["Call"]), Err(PlivoError::MethodNotAllowed)));
        assert!(matches!(route(&req(Method::GET, ""), &["VerifiedCallerId", "a", "b", "c"]), Err(PlivoError::NotFound)));
    }

    #[test]
    fn an_initiate_is_parsed_once_with_its_number() {
        let op = route(&req(Method::POST, r#"{"phone_number":"12025551234"}"#), &["VerifiedCallerId"]).ok().unwrap();
        assert_eq!((op.name(), op.number().as_deref()), ("initiate", Some("+12025551234")));
    }
}
