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

use super::{Entry, InjectedError};
use crate::core::Auth;
use crate::core::faults::Target;
use crate::core::store::AccountKey;
use crate::http::{Request, Response};
use crate::{App, phone};
use error::PlivoError;
use params::Params;

/// The provider's name in the control plane and state files.
pub(crate) const NAME: &str = "plivo";

/// How long an OTP stays valid.
pub(crate) const OTP_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub(crate) const ENTRY: Entry = Entry {
    name: NAME,
    prefix: "v1",
    classify,
    handle,
    fault,
    base_url,
    caller_id_id: |ids| ids.uuid_v4(),
    call_ended: |_, _, _| None,
};

fn base_url(origin: &str) -> String {
    format!("{origin}/v1/Account/{{auth_id}}/")
}

/// One Plivo operation, with what the path carried.
enum Op<'a> {
    Initiate,
    List,
    Verify { uuid: &'a str },
    Get { number: &'a str },
    Update { number: &'a str },
    Delete { number: &'a str },
}

/// Handles a request whose path started with `/v1`; `segs` is the rest.
pub(crate) fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    let auth_id = match segs {
        ["Account", auth_id, ..] => *auth_id,
        _ => return PlivoError::NotFound.render(app),
    };
    let (user, token) = req.basic_auth().unwrap_or_default();
    match app.core.check_auth(NAME, auth_id, &user, Some(&token)) {
        Auth::Ok => {}
        Auth::Unauthorized => return PlivoError::Unauthorized.render(app),
        Auth::Forbidden => return PlivoError::Forbidden.render(app),
    }
    let op = match route(&req.method, &segs[2..]) {
        Ok(op) => op,
        Err(e) => return e.render(app),
    };
    let key = AccountKey::new(NAME, auth_id);
    let result = match op {
        Op::Initiate => routes::initiate(app, &key, req),
        Op::List => routes::list(app, &key, req),
        Op::Verify { uuid } => routes::verify(app, &key, req, uuid),
        Op::Get { number } => routes::get(app, &key, number),
        Op::Update { number } => routes::update(app, &key, req, number),
        Op::Delete { number } => routes::delete(app, &key, number),
    };
    result.unwrap_or_else(|e| e.render(app))
}

/// The operation, account and number of a request, before it runs.
fn classify(req: &Request, segs: &[&str]) -> Target {
    let account = match segs {
        ["Account", auth_id, ..] => Some((*auth_id).to_owned()),
        _ => None,
    };
    let op = segs.get(2..).and_then(|rest| route(&req.method, rest).ok());
    let (operation, number) = match op {
        Some(Op::Initiate) => {
            let number = Params::from_body(req).ok().and_then(|p| p.text("phone_number"));
            ("initiate", number.and_then(|n| phone::parse_international(&n)).map(|n| n.e164))
        }
        Some(Op::List) => ("list", None),
        Some(Op::Verify { .. }) => ("verify", None),
        Some(Op::Get { number }) => ("get", phone::path_key(number)),
        Some(Op::Update { number }) => ("update", phone::path_key(number)),
        Some(Op::Delete { number }) => ("delete", phone::path_key(number)),
        None => ("", None),
    };
    Target { provider: NAME, operation, account, number }
}

/// An injected error: `{"api_id", "error"}` (no `api_id` on a 401, as Plivo answers).
fn fault(app: &App, e: &InjectedError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error::render(app, status, e.message.to_owned())
}

/// Matches the segments after `Account/{auth_id}`.
fn route<'a>(method: &Method, rest: &[&'a str]) -> Result<Op<'a>, PlivoError> {
    let m = method.clone();
    match rest {
        ["VerifiedCallerId"] => match m {
            Method::POST => Ok(Op::Initiate),
            Method::GET => Ok(Op::List),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", "Verification", uuid] => match m {
            Method::POST => Ok(Op::Verify { uuid }),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        ["VerifiedCallerId", number] => match m {
            Method::GET => Ok(Op::Get { number }),
            Method::POST => Ok(Op::Update { number }),
            Method::DELETE => Ok(Op::Delete { number }),
            _ => Err(PlivoError::MethodNotAllowed),
        },
        _ => Err(PlivoError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_is_matched_before_a_phone_number() {
        let op = route(&Method::POST, &["VerifiedCallerId", "Verification", "abc"]).unwrap();
        assert!(matches!(op, Op::Verify { uuid: "abc" }));
        let op = route(&Method::POST, &["VerifiedCallerId", "+12025551234"]).unwrap();
        assert!(matches!(op, Op::Update { number: "+12025551234" }));
    }

    #[test]
    fn wrong_methods_and_paths_are_refused() {
        assert!(matches!(route(&Method::PUT, &["VerifiedCallerId"]), Err(PlivoError::MethodNotAllowed)));
        assert!(matches!(
            route(&Method::GET, &["VerifiedCallerId", "Verification", "x"]),
            Err(PlivoError::MethodNotAllowed)
        ));
        assert!(matches!(route(&Method::GET, &["Call"]), Err(PlivoError::NotFound)));
        assert!(matches!(route(&Method::GET, &["VerifiedCallerId", "a", "b", "c"]), Err(PlivoError::NotFound)));
    }
}
