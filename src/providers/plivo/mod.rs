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
//!
//! Trailing slashes are optional, the number may be `+digits`, `digits` or `%2Bdigits`, and
//! `Verification/…` is matched before `{phone_number}`. Authentication is HTTP Basic with the
//! path's `auth_id` as the user name. The account (`auth_id`) is the state namespace.

mod error;
mod params;
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
use error::PlivoError;
use params::Params;

/// The provider's name in the control plane and state files.
const NAME: &str = "plivo";

/// How long an OTP stays valid.
const OTP_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The attribute a caller ID's subaccount is kept in.
const SUBACCOUNT: &str = "subaccount";

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

/// One Plivo operation, with what its request carried, parsed.
enum Op<'a> {
    Initiate(Result<routes::Initiate, PlivoError>),
    List(Params),
    Verify { uuid: &'a str, body: Result<Params, PlivoError> },
    Get { number: &'a str },
    Update { number: &'a str, body: Result<Params, PlivoError> },
    Delete { number: &'a str },
}

impl Op<'_> {
    fn name(&self) -> &'static str {
        match self {
            Op::Initiate(_) => "initiate",
            Op::List(_) => "list",
            Op::Verify { .. } => "verify",
            Op::Get { .. } => "get",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
        }
    }

    /// The number the request names, for fault rules.
    fn number(&self) -> Option<String> {
        match self {
            Op::Initiate(Ok(i)) => Some(i.number.e164.clone()),
            Op::Get { number } | Op::Update { number, .. } | Op::Delete { number } => phone::path_key(number),
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

    fn prefix(&self) -> &'static [&'static str] {
        &["v1"]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/v1/Account/{{auth_id}}/")
    }

    fn operations(&self) -> &'static [&'static str] {
        &["initiate", "verify", "get", "list", "update", "delete"]
    }

    fn secret_params(&self) -> &'static [&'static str] {
        &["auth_token"]
    }

    fn prepare<'a>(&'a self, app: &'a App, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        let (auth_id, op) = match rest {
            ["Account", auth_id, rest @ ..] => (*auth_id, route(req, rest)),
            _ => return answer(None, "", None, move || PlivoError::NotFound.render(app)),
        };
        let op = match op {
            Ok(op) => op,
            Err(e) => return answer(Some(auth_id), "", None, move || e.render(app)),
        };
        let (operation, number) = (op.name(), op.number());
        let (user, token) = req.basic_auth().unwrap_or_default();
        let auth = app.core.check_auth(NAME, auth_id, &user, Some(&token));
        answer(Some(auth_id), operation, number, move || {
            let refused = match auth {
                Auth::Ok => None,
                Auth::Unauthorized => Some(PlivoError::Unauthorized),
                Auth::Forbidden => Some(PlivoError::Forbidden),
            };
            let key = AccountKey::new(NAME, auth_id);
            let result = match refused {
                Some(e) => Err(e),
                None => self.run(app, &key, op),
            };
            result.unwrap_or_else(|e| e.render(app))
        })
    }

    fn refuse(&self, app: &App, why: Refusal) -> Response {
        PlivoError::from(why).render(app)
    }

    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.uuid_v4()
    }
}

impl Api {
    fn run(&self, app: &App, key: &AccountKey, op: Op) -> routes::Result {
        match op {
            Op::Initiate(initiate) => routes::initiate(app, key, initiate?, self.otp_length),
            Op::List(params) => routes::list(app, key, &params),
            Op::Verify { uuid, body } => routes::verify(app, key, &body?, uuid),
            Op::Get { number } => routes::get(app, key, number),
            Op::Update { number, body } => routes::update(app, key, &body?, number),
            Op::Delete { number } => routes::delete(app, key, number),
        }
    }
}

/// A prepared request: its target and the work that answers it.
fn answer<'a>(
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
fn route<'a>(req: &Request, rest: &[&'a str]) -> Result<Op<'a>, PlivoError> {
    let m = &req.method;
    match rest {
        ["VerifiedCallerId"] => match *m {
            Method::POST => Ok(Op::Initiate(Params::from_body(req).and_then(routes::Initiate::parse))),
            Method::GET => Ok(Op::List(Params::from_query(req))),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", "Verification", uuid] => match *m {
            Method::POST => Ok(Op::Verify { uuid, body: Params::from_body(req) }),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", number] => match *m {
            Method::GET => Ok(Op::Get { number }),
            Method::POST => Ok(Op::Update { number, body: Params::from_body(req) }),
            Method::DELETE => Ok(Op::Delete { number }),
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
            Refusal::NotSaved(cause) => PlivoError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("service unavailable: the emulator's state file cannot be written ({cause})"),
            ),
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
        assert!(matches!(op, Op::Verify { uuid: "abc", .. }));
        let op = route(&req(Method::POST, "{}"), &["VerifiedCallerId", "+12025551234"]).ok().unwrap();
        assert!(matches!(op, Op::Update { number: "+12025551234", .. }));
    }

    #[test]
    fn wrong_methods_and_paths_are_refused() {
        assert!(matches!(route(&req(Method::PUT, ""), &["VerifiedCallerId"]), Err(PlivoError::MethodNotAllowed)));
        assert!(matches!(
            route(&req(Method::GET, ""), &["VerifiedCallerId", "Verification", "x"]),
            Err(PlivoError::MethodNotAllowed)
        ));
        assert!(matches!(route(&req(Method::GET, ""), &["Call"]), Err(PlivoError::NotFound)));
        assert!(matches!(route(&req(Method::GET, ""), &["VerifiedCallerId", "a", "b", "c"]), Err(PlivoError::NotFound)));
    }

    #[test]
    fn an_initiate_is_parsed_once_with_its_number() {
        let op = route(&req(Method::POST, r#"{"phone_number":"12025551234"}"#), &["VerifiedCallerId"]).ok().unwrap();
        assert_eq!((op.name(), op.number().as_deref()), ("initiate", Some("+12025551234")));
    }
}
