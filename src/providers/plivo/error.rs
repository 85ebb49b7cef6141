//! Plivo's error envelope: `{"api_id": "…", "error": "…"}` with the status the docs list
//! (400 bad parameter, 401 authentication, 404 not found, 405 method). A 401 has no `api_id`,
//! as the live API answers (plivo-php PR #367).

use hyper::StatusCode;

use super::wire::ErrorBody;
use crate::App;
use crate::core::CoreError;
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
    Core(CoreError),
}

impl From<CoreError> for PlivoError {
    fn from(e: CoreError) -> PlivoError {
        PlivoError::Core(e)
    }
}

impl PlivoError {
    fn status_and_text(&self) -> (StatusCode, String) {
        use CoreError::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            PlivoError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "authentication credentials were not provided".into())
            }
            PlivoError::Forbidden => {
                (StatusCode::FORBIDDEN, "forbidden: these credentials belong to another account".into())
            }
            PlivoError::NotFound | PlivoError::Core(NotFound) => (StatusCode::NOT_FOUND, "not found".into()),
            PlivoError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into()),
            PlivoError::BadRequest(text) => (bad, text.clone()),
            PlivoError::Core(AlreadyVerified) => (bad, "this number is already a verified caller ID".into()),
            PlivoError::Core(Expired) => (bad, "OTP has expired; initiate the verification again".into()),
            PlivoError::Core(WrongCode { remaining }) => (bad, format!("invalid OTP; {remaining} attempts remaining")),
            PlivoError::Core(Failed) => (bad, "maximum OTP attempts exceeded; initiate the verification again".into()),
            PlivoError::Core(Superseded) => {
                (bad, "a newer verification was initiated for this number; use its verification_uuid".into())
            }
            PlivoError::Core(LimitReached) => (bad, "verified caller ID limit reached for this account".into()),
        }
    }

    pub(crate) fn render(&self, app: &App) -> Response {
        let (status, error) = self.status_and_text();
        render(app, status, error)
    }
}

/// Plivo's error body with `status`; a 401 carries no `api_id`.
pub(crate) fn render(app: &App, status: StatusCode, error: String) -> Response {
    let api_id = (status != StatusCode::UNAUTHORIZED).then(|| app.core.ids.uuid_v4());
    http::json(status, &ErrorBody { api_id, error })
}
