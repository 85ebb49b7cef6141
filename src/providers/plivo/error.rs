//! Plivo's error envelope: `{"api_id": "…", "error": "…"}` with the status the docs list
//! (400 bad parameter, 401 authentication, 404 not found, 405 method). A 401 has no `api_id`,
//! as the live API answers (plivo-php PR #367).

use hyper::StatusCode;

use super::wire::ErrorBody;
use crate::core::{Core, CoreError};
use crate::http::{self, Response};

#[derive(Debug)]
pub(crate) enum PlivoError {
    Unauthorized,
    /// Good credentials of another account (strict auth).
    Forbidden,
    NotFound,
    MethodNotAllowed,
    /// A missing or invalid parameter, with Plivo-style text.
    BadRequest(String),
    /// Any status with its text (injected faults, refusals of the server).
    Status(StatusCode, String),
    Core(CoreError),
}

impl From<CoreError> for PlivoError {
    fn from(e: CoreError) -> PlivoError {
        PlivoError::Core(e)
    }
}

impl PlivoError {
    fn status_and_text(&self) -> (StatusCode, String) {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            PlivoError::Unauthorized => (StatusCode::UNAUTHORIZED, "authentication credentials were not provided".into()),
            PlivoError::Forbidden => (StatusCode::FORBIDDEN, "forbidden: these credentials belong to another account".into()),
            PlivoError::NotFound => (StatusCode::NOT_FOUND, "not found".into()),
            PlivoError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into()),
            PlivoError::BadRequest(text) => (bad, text.clone()),
            PlivoError::Status(status, text) => (*status, text.clone()),
            PlivoError::Core(e) => match e {
                CoreError::NotFound => (StatusCode::NOT_FOUND, "not found".into()),
                CoreError::AlreadyVerified => (bad, "this number is already a verified caller ID".into()),
                CoreError::Expired => (bad, "OTP has expired; initiate the verification again".into()),
                CoreError::WrongCode { remaining } => {
                    let s = if *remaining == 1 { "" } else { "s" };
                    (bad, format!("invalid OTP; {remaining} attempt{s} remaining"))
                }
                CoreError::Failed => (bad, "maximum OTP attempts exceeded; initiate the verification again".into()),
                CoreError::Superseded => {
                    (bad, "a newer verification was initiated for this number; use its verification_uuid".into())
                }
                CoreError::LimitReached(limit) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many requests: the emulator's {} cap is reached", limit.describe()),
                ),
                CoreError::CallerIdNotAllowed => {
                    (bad, "from is neither a number on this account nor one of its verified caller IDs".into())
                }
                // A call that ended is no longer live: Plivo's hang-up answers it not found.
                CoreError::CallEnded => (StatusCode::NOT_FOUND, "not found".into()),
                CoreError::CallNotEnded => (bad, "the call is still live".into()),
                CoreError::NotSaved(cause) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("service unavailable: the emulator's state file cannot be written ({cause})"),
                ),
            },
        }
    }

    pub(crate) fn render(&self, core: &Core) -> Response {
        let (status, error) = self.status_and_text();
        let api_id = (status != StatusCode::UNAUTHORIZED).then(|| core.ids().uuid_v4());
        http::json(status, &ErrorBody { api_id, error })
    }
}

