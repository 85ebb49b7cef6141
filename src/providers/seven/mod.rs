//! seven.io's caller-ID validation for the Voice API, `validate_for_voice`:
//!
//! `GET|POST /api/validate_for_voice` with `number` and an optional `callback`, the parameters
//! merged from the query, a form body and a JSON body (the SDKs use all three). An unknown valid
//! number gets a 6-digit code and a validation call; the person keys the code in by DTMF (the
//! control plane, or `--auto-answer`), the caller ID is saved with a numeric id, and the
//! `callback` URL is called with GET. The API key is the state namespace; a missing or
//! malformed key gets HTTP 200 with the body `900`, as the gateway answers.

mod auth;
mod callback;
mod routes;
mod wire;

use hyper::{Method, StatusCode};

use super::{Entry, InjectedError};
use crate::App;
use crate::core::Auth;
use crate::core::faults::Target;
use crate::http::{self, Request, Response};

/// The provider's name in the control plane and state files.
pub(crate) const NAME: &str = "seven";

pub(crate) const ENTRY: Entry = Entry {
    name: NAME,
    prefix: "api",
    classify,
    handle,
    fault,
    base_url,
    caller_id_id,
    call_ended: callback::call_ended,
};

fn base_url(origin: &str) -> String {
    format!("{origin}/api")
}

/// The operation, account (the API key) and number of a request, before it runs.
fn classify(req: &Request, segs: &[&str]) -> Target {
    let params = routes::Params::read(req);
    let operation = if segs == ["validate_for_voice"] { "validate_for_voice" } else { "" };
    let number =
        params.get("number").and_then(|n| routes::parse_number(n, phonenumber::country::Id::DE)).map(|n| n.e164);
    Target { provider: NAME, operation, account: auth::api_key(req, &params), number }
}

/// An injected error: with HTTP 200 and a `code`, the gateway's bare code (such as `900`);
/// otherwise `{"success": false, "error": …}` with the status.
fn fault(_app: &App, e: &InjectedError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match e.code {
        Some(code) if status == StatusCode::OK => http::json_bytes(status, code.to_string().into_bytes()),
        _ => http::json(status, &serde_json::json!({"success": false, "error": e.message})),
    }
}

/// Handles a request whose path started with `/api`; `segs` is the rest.
fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    match (segs, &req.method) {
        (["validate_for_voice"], &Method::GET | &Method::POST) => {
            let params = routes::Params::read(req);
            match auth::api_key(req, &params).filter(|key| app.core.check_auth(NAME, key, key, None) == Auth::Ok) {
                Some(key) => routes::validate_for_voice(app, &key, &params),
                None => http::json_bytes(StatusCode::OK, b"900".to_vec()),
            }
        }
        (["validate_for_voice"], _) => http::json(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"success": false, "error": "method not allowed"}),
        ),
        _ => http::json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"success": false, "error": "callerid-mock emulates only /api/validate_for_voice of seven.io"}),
        ),
    }
}

/// seven's `id` of a saved caller ID: a number, 1 to 9,999,999.
fn caller_id_id(ids: &crate::core::ids::Ids) -> String {
    (ids.below(9_999_999) + 1).to_string()
}
