//! SignalWire's error bodies, as its REST reference types them: `{"error":"Unauthorized"}`
//! (401), `{"error":"Not Found"}` (404) and the like for a status alone, and
//! `{"errors":[{"code","title","detail","status"}]}` for a request refused with reasons (422,
//! and the emulator's own 429 and 503). Every failure, whoever refuses the request, answers in
//! one of these shapes. The codes are the emulator's choice (SignalWire publishes none for this
//! API): see `docs/providers/signalwire.md`.

use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER};
use serde::Serialize;

use crate::core::CoreError;
use crate::http::{self, Response};

#[derive(Debug)]
pub(crate) enum SignalWireError {
    /// A status answered with its reason phrase only (401, 404, 405, 400 for a body that is
    /// not JSON).
    Status(StatusCode),
    /// A request refused with a reason: status, code, detail.
    Refused { status: StatusCode, code: &'static str, detail: String },
    Core(CoreError),
}

impl From<CoreError> for SignalWireError {
    fn from(e: CoreError) -> SignalWireError {
        SignalWireError::Core(e)
    }
}

impl SignalWireError {
    /// A 422 validation error.
    pub fn invalid(code: &'static str, detail: impl Into<String>) -> SignalWireError {
        SignalWireError::Refused { status: StatusCode::UNPROCESSABLE_ENTITY, code, detail: detail.into() }
    }

    fn parts(&self) -> Option<(StatusCode, &'static str, String)> {
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        Some(match self {
            SignalWireError::Status(_) => return None,
            SignalWireError::Refused { status, code, detail } => (*status, *code, detail.clone()),
            SignalWireError::Core(e) => match e {
                CoreError::NotFound => return None,
                CoreError::AlreadyVerified => {
                    (invalid, "already_verified", "This verified caller ID is already verified.".into())
                }
                CoreError::WrongCode { remaining } => {
                    let s = if *remaining == 1 { "" } else { "s" };
                    (
                        invalid,
                        "invalid_verification_code",
                        format!("The verification code is incorrect; {remaining} attempt{s} remaining."),
                    )
                }
                CoreError::Expired => (
                    invalid,
                    "verification_code_expired",
                    "The verification code has expired; request a redial of the verification call.".into(),
                ),
                CoreError::Failed | CoreError::Superseded => (
                    invalid,
                    "verification_failed",
                    "No verification code is awaited (5 incorrect attempts, or the verification call was not \
                     answered); request a redial of the verification call."
                        .into(),
                ),
                CoreError::LimitReached(limit) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    format!("The emulator's {} cap is reached.", limit.describe()),
                ),
                CoreError::CallerIdNotAllowed => (
                    invalid,
                    "caller_id_not_allowed",
                    "The From number is neither a number of this project nor one of its verified caller IDs.".into(),
                ),
                CoreError::CallEnded => (invalid, "call_ended", "The call has already ended.".into()),
                CoreError::CallNotEnded => (invalid, "call_not_ended", "The call has not ended yet.".into()),
                CoreError::NotSaved(cause) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    format!("The emulator's state file cannot be written ({cause})."),
                ),
            },
        })
    }

    fn status(&self) -> StatusCode {
        match self {
            SignalWireError::Status(status) => *status,
            _ => self.parts().map_or(StatusCode::NOT_FOUND, |(status, ..)| status),
        }
    }

    pub(crate) fn render(&self) -> Response {
        let status = self.status();
        let Some((status, code, detail)) = self.parts() else {
            return http::json(status, &Reason { error: status.canonical_reason().unwrap_or("Error") });
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = Errors { errors: [Item { code, title, detail, status: status.as_u16().to_string() }] };
        let mut res = http::json(status, &body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

#[derive(Serialize)]
struct Reason {
    error: &'static str,
}

#[derive(Serialize)]
struct Errors {
    errors: [Item; 1],
}

#[derive(Serialize)]
struct Item {
    code: &'static str,
    title: &'static str,
    detail: String,
    status: String,
}
