//! seven.io's caller-ID validation for the Voice API, `validate_for_voice`:
//!
//! `GET|POST /api/validate_for_voice` with `number` and an optional `callback`, the parameters
//! merged from the query, a form body and a JSON body (the SDKs use all three). An unknown valid
//! number gets a 6-digit code and a validation call; the person keys the code in by DTMF (the
//! control plane, or `--auto-answer`), the caller ID is saved with a numeric id, and the
//! `callback` URL is called with GET. The API key is the state namespace (and a secret: it is
//! shown masked); a missing or malformed key gets HTTP 200 with the body `900`, as the gateway
//! answers.
//!
//! The Voice API it validates for ([`voice`]): `POST /api/voice`, `POST /api/voice/{id}/hangup`,
//! `GET /api/journal/voice`.

mod auth;
mod callback;
mod error;
mod params;
mod routes;
mod voice;
mod wire;

use hyper::{Method, StatusCode};

use super::{Prepared, Provider, Refusal};
use crate::core::{Auth, Core, CoreError};
use crate::core::ids::Ids;
use crate::core::model::Verification;
use crate::delivery::Webhook;
use crate::faults::Target;
use crate::http::{Request, Response};
use error::SevenError;

/// The provider's name in the control plane and state files.
const NAME: &str = "seven";

/// seven's flags.
#[derive(clap::Args, Clone, Debug)]
#[group(skip)]
pub struct Options {
    /// ISO region seven.io reads national numbers in (such as 0163 2429751).
    #[arg(long = "seven-region", env = "CALLERID_MOCK_SEVEN_REGION", default_value = "DE", value_parser = parse_region)]
    pub region: phonenumber::country::Id,
}

impl Default for Options {
    fn default() -> Options {
        Options { region: phonenumber::country::Id::DE }
    }
}

fn parse_region(s: &str) -> Result<phonenumber::country::Id, String> {
    s.to_ascii_uppercase().parse().map_err(|_| format!("{s:?} is not an ISO 3166 region such as DE or US"))
}

pub(crate) struct Api {
    region: phonenumber::country::Id,
}

impl Api {
    pub fn new(options: &Options) -> Api {
        Api { region: options.region }
    }
}

impl Provider for Api {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The gateway, under its current name and the older sms77 one (the Python SDK's).
    fn hosts(&self) -> &'static [&'static str] {
        &["gateway.seven.io", "gateway.sms77.io"]
    }

    fn prefixes(&self) -> &'static [&'static [&'static str]] {
        &[&["api"]]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/api")
    }

    fn operations(&self) -> &'static [&'static str] {
        &["validate_for_voice", "voice", "voice_hangup", "journal_voice"]
    }

    fn secret_params(&self) -> &'static [&'static str] {
        &["p"]
    }

    fn account_is_secret(&self) -> bool {
        true
    }

    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        let target = |operation, account, number| Target { provider: NAME, operation, account, number };
        if let Some((op, key)) = voice::Op::route(req, rest, self.region) {
            let target = target(op.name(), key.clone(), op.number());
            let run = move || {
                let key = key.filter(|key| core.check_auth(NAME, key, key, None) == Auth::Ok);
                let Some(key) = key else { return SevenError::BadKey.render() };
                op.run(core, &key)
            };
            return Prepared { target, run: Box::new(run) };
        }
        let v = match route(req, rest, self.region) {
            Ok(v) => v,
            Err(e) => return Prepared { target: target("", None, None), run: Box::new(move || e.render()) },
        };
        let target = target("validate_for_voice", v.key.clone(), v.number.as_ref().map(|n| n.e164.clone()));
        let run = move || {
            let key = v.key.clone().filter(|key| core.check_auth(NAME, key, key, None) == Auth::Ok);
            let Some(key) = key else { return SevenError::BadKey.render() };
            routes::validate_for_voice(core, &key, v).unwrap_or_else(|e| e.render())
        };
        Prepared { target, run: Box::new(run) }
    }

    fn refuse(&self, _core: &Core, _path: &str, why: Refusal) -> Response {
        let e = match why {
            Refusal::Injected { status, code, message } => SevenError::Status {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code,
                message: message.to_owned(),
            },
            Refusal::BodyTooLarge { limit } => SevenError::Status {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: None,
                message: format!("request body is larger than {limit} bytes"),
            },
            Refusal::BodyTimeout => SevenError::Status {
                status: StatusCode::REQUEST_TIMEOUT,
                code: None,
                message: "the request body did not arrive in time".into(),
            },
            Refusal::NotSaved(cause) => SevenError::Status {
                status: StatusCode::OK,
                code: None,
                message: error::core_text(&CoreError::NotSaved(cause.into())),
            },
        };
        e.render()
    }

    /// seven's `id` of a saved caller ID: a number, 1 to 9,999,999.
    fn caller_id_id(&self, ids: &Ids) -> String {
        (ids.below(9_999_999) + 1).to_string()
    }

    fn call_ended(&self, v: &Verification, _ids: &Ids) -> Option<Webhook> {
        callback::call_ended(v)
    }
}

/// The one route, `validate_for_voice` by GET or POST, and what its request carries.
fn route(req: &Request, rest: &[&str], region: phonenumber::country::Id) -> Result<routes::Validate, SevenError> {
    if rest != ["validate_for_voice"] {
        return Err(SevenError::NotFound);
    }
    if !matches!(req.method, Method::GET | Method::POST) {
        return Err(SevenError::MethodNotAllowed);
    }
    Ok(routes::Validate::parse(req, region))
}
