//! SignalWire's Verified Caller IDs, on a Space's REST API (`https://{space}.signalwire.com`),
//! as the official SDK (`signalwire-sdk` on PyPI: `client.verified_callers`) calls it:
//!
//! | operation | request |
//! |---|---|
//! | create | `POST /api/relay/rest/verified_caller_ids` `{number, name?, extension?}` → 201 |
//! | list | `GET /api/relay/rest/verified_caller_ids?page_size&page_token` |
//! | fetch | `GET /api/relay/rest/verified_caller_ids/{id}` |
//! | update | `PUT /api/relay/rest/verified_caller_ids/{id}` `{name}` |
//! | delete | `DELETE /api/relay/rest/verified_caller_ids/{id}` → 204 |
//! | verify | `PUT /api/relay/rest/verified_caller_ids/{id}/verification` `{verification_code}` |
//! | redial | `POST /api/relay/rest/verified_caller_ids/{id}/verification` |
//!
//! Unlike the other providers, the record exists from the moment it is asked for, with `status`
//! "Awaiting Verification": the core keeps it as a caller ID that is not verified yet (it is
//! never presented on a call). Creating it places a call that reads a 6-digit code to the person
//! (answered at once unless a magic number makes it busy, unanswered or failed); the application
//! submits the code, at most 5 wrong ones per call; a redial places a new call with a new code,
//! at most one a minute and ten a week per number. Authentication is HTTP Basic with the project
//! id and an API token; the project id is the state namespace.
//!
//! Calls from those caller IDs go through the Compatibility API ([`laml`]), Twilio's dialect.

mod error;
mod laml;
mod routes;
mod wire;

use std::time::Duration;

use hyper::{Method, StatusCode};

use super::compat::{callback, twiml};
use super::{Prepared, Provider, Refusal};
use crate::core::ids::Ids;
use crate::core::model::{AccountKey, Call, CallError};
use crate::core::{Auth, Core, CoreError};
use crate::delivery::{Document, Webhook};
use crate::faults::Target;
use crate::http::{Request, Response};
use error::SignalWireError;

/// The provider's name in the control plane and state files.
const NAME: &str = "signalwire";

/// The code a verification call reads, how long it may be submitted, and how many wrong ones
/// each call allows.
const CODE_LENGTH: usize = 6;
const CODE_TTL: Duration = Duration::from_secs(10 * 60);
const MAX_WRONG_CODES: u32 = 5;

/// At most one verification call a minute, and ten a week, per number.
const REDIAL_GAP: Duration = Duration::from_secs(60);
const MAX_CALLS_A_WEEK: usize = 10;
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

/// The caller ID's attributes: the extension its calls dial, and when (unix seconds, space
/// separated) the calls of the past week were placed.
const EXTENSION: &str = "extension";
const CALLS: &str = "calls";

/// SignalWire's flags (none yet).
#[derive(clap::Args, Clone, Debug, Default)]
#[group(skip)]
pub struct Options {}

pub(crate) struct Api;

impl Api {
    pub fn new(_: &Options) -> Api {
        Api
    }
}

/// One operation with everything its request carries, parsed and checked.
enum Op<'a> {
    Create(routes::Result<routes::Create>),
    List(routes::Result<routes::ListQuery>),
    Fetch { id: &'a str },
    Update { id: &'a str, name: routes::Result<Option<String>> },
    Delete { id: &'a str },
    Verify { id: &'a str, code: routes::Result<String> },
    Redial { id: &'a str },
}

impl Op<'_> {
    fn name(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::List(_) => "list",
            Op::Fetch { .. } => "fetch",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
            Op::Verify { .. } => "verify",
            Op::Redial { .. } => "redial",
        }
    }
}

impl Provider for Api {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Any Space: `{space}.signalwire.com`.
    fn hosts(&self) -> &'static [&'static str] {
        &["*.signalwire.com"]
    }

    /// The Space API, and the Compatibility API (whose paths the SDK also sends without
    /// `/api/laml`, served on a Space's host: see [`laml`]).
    fn prefixes(&self) -> &'static [&'static [&'static str]] {
        &[&["api", "relay", "rest"], &["api", "laml", "2010-04-01"]]
    }

    fn base_url(&self, origin: &str) -> String {
        format!("{origin}/api/relay/rest")
    }

    fn operations(&self) -> &'static [&'static str] {
        &[
            "create",
            "list",
            "fetch",
            "update",
            "delete",
            "verify",
            "redial",
            "create_call",
            "list_calls",
            "fetch_call",
            "update_call",
            "delete_call",
        ]
    }

    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a> {
        if let Some((account, rest)) = compatibility(req, rest) {
            return laml::prepare(core, req, account, rest);
        }
        let (user, token) = req.basic_auth().unwrap_or_default();
        let account = (!user.is_empty()).then(|| user.clone());
        let op = match route(req, rest) {
            Ok(op) => op,
            Err(e) => {
                let target = Target { provider: NAME, operation: "", account, number: None };
                return Prepared { target, run: Box::new(move || e.render()) };
            }
        };
        let number = match &op {
            Op::Create(Ok(c)) => Some(c.number.e164.clone()),
            _ => None,
        };
        let target = Target { provider: NAME, operation: op.name(), account, number };
        let run = move || {
            let result = match core.check_auth(NAME, &user, &user, Some(&token)) {
                Auth::Ok if !user.is_empty() => run(core, &AccountKey::new(NAME, &user), op),
                _ => Err(SignalWireError::Status(StatusCode::UNAUTHORIZED)),
            };
            result.unwrap_or_else(|e| e.render())
        };
        Prepared { target, run: Box::new(run) }
    }

    fn refuse(&self, _core: &Core, path: &str, why: Refusal) -> Response {
        if laml::owns(path) {
            return laml::refuse(why);
        }
        let e = match why {
            Refusal::Injected { status, code: _, message } => SignalWireError::Refused {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code: "injected_fault",
                detail: message.to_owned(),
            },
            Refusal::BodyTooLarge { limit } => SignalWireError::Refused {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large",
                detail: format!("The request body is larger than {limit} bytes."),
            },
            Refusal::BodyTimeout => SignalWireError::Refused {
                status: StatusCode::REQUEST_TIMEOUT,
                code: "request_timeout",
                detail: "The request body did not arrive in time.".to_owned(),
            },
            Refusal::NotSaved(cause) => SignalWireError::Core(CoreError::NotSaved(cause.into())),
        };
        e.render()
    }

    fn caller_id_id(&self, ids: &Ids) -> String {
        ids.uuid_v4()
    }

    /// The Space the SDKs read when the application names none (the Python SDK's
    /// `SIGNALWIRE_SPACE`, the Compatibility SDK's `SIGNALWIRE_SPACE_URL`): any Space name
    /// reaches the emulator through the proxy.
    fn env_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[("SIGNALWIRE_SPACE", "example.signalwire.com"), ("SIGNALWIRE_SPACE_URL", "example.signalwire.com")]
    }

    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook> {
        callback::call_moved(&laml::DIALECT, call, ids)
    }

    fn document(&self, call: &Call, ids: &Ids) -> Option<Document> {
        callback::document(&laml::DIALECT, call, ids)
    }

    fn run_document(&self, core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
        twiml::run(core, call, read)
    }
}

/// A Compatibility API request: its account and the segments after `Accounts/{account}`. Under
/// `/api/laml/2010-04-01` (`rest` is after it), or the SDK's bare `/2010-04-01/…` that reached
/// this provider whole (a Space's host).
fn compatibility<'a>(req: &Request, rest: &'a [&'a str]) -> Option<(&'a str, &'a [&'a str])> {
    match rest {
        ["Accounts", account, rest @ ..] if req.path.starts_with(laml::DIALECT.root) => Some((account, rest)),
        [version, "Accounts", account, rest @ ..] if *version == laml::VERSION => Some((account, rest)),
        _ => None,
    }
}

/// Matches the segments after `/api/relay/rest` and parses what the operation reads.
fn route<'a>(req: &Request, rest: &[&'a str]) -> Result<Op<'a>, SignalWireError> {
    let not_allowed = || SignalWireError::Status(StatusCode::METHOD_NOT_ALLOWED);
    Ok(match rest {
        ["verified_caller_ids"] => match req.method {
            Method::POST => Op::Create(routes::body(req).and_then(routes::Create::parse)),
            Method::GET => Op::List(routes::ListQuery::parse(&req.query_pairs())),
            _ => return Err(not_allowed()),
        },
        ["verified_caller_ids", id] => match req.method {
            Method::GET => Op::Fetch { id },
            Method::PUT => Op::Update { id, name: routes::body(req).and_then(routes::name) },
            Method::DELETE => Op::Delete { id },
            _ => return Err(not_allowed()),
        },
        ["verified_caller_ids", id, "verification"] => match req.method {
            Method::PUT => Op::Verify { id, code: routes::body(req).and_then(routes::code) },
            Method::POST => Op::Redial { id },
            _ => return Err(not_allowed()),
        },
        _ => return Err(SignalWireError::Status(StatusCode::NOT_FOUND)),
    })
}

fn run(core: &Core, key: &AccountKey, op: Op) -> routes::Result {
    match op {
        Op::Create(create) => routes::create(core, key, create?),
        Op::List(query) => routes::list(core, key, &query?),
        Op::Fetch { id } => routes::fetch(core, key, id),
        Op::Update { id, name } => routes::update(core, key, id, name?),
        Op::Delete { id } => routes::delete(core, key, id),
        Op::Verify { id, code } => routes::verify(core, key, id, &code?),
        Op::Redial { id } => routes::redial(core, key, id),
    }
}
