//! seven's answers to what goes wrong. The gateway answers a bad API key with HTTP 200 and the
//! bare code `900`, which every SDK understands; `validate_for_voice` reports everything about
//! the number in its JSON record with `success: false`, so refusals that concern the request
//! (a cap, the state file) are reported there too, with the reason in `error`.

use hyper::StatusCode;
use serde_json::json;

use super::wire::{INVALID_NUMBER, SenderRecord};
use crate::core::{CoreError, Limit};
use crate::http::{self, Response};

#[derive(Debug)]
pub(crate) enum SevenError {
    /// A missing or malformed API key, or one strict auth does not know: `900`.
    BadKey,
    /// The number is not valid (as given).
    InvalidNumber(String),
    MethodNotAllowed,
    NotFound,
    /// Any status, with the gateway's bare code when the status is 200 and a code is given.
    Status { status: StatusCode, code: Option<u64>, message: String },
    /// The core refused; `sender` is the number as given.
    Core { error: CoreError, sender: String },
}

impl SevenError {
    pub fn render(&self) -> Response {
        match self {
            SevenError::BadKey => http::json_bytes(StatusCode::OK, b"900".to_vec()),
            SevenError::InvalidNumber(sender) => failed(sender, INVALID_NUMBER.to_owned()),
            SevenError::MethodNotAllowed => plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            SevenError::NotFound => {
                plain(StatusCode::NOT_FOUND, "callerid-mock emulates only /api/validate_for_voice, /api/voice and /api/journal/voice of seven.io")
            }
            SevenError::Status { status, code: Some(code), .. } if *status == StatusCode::OK => {
                http::json_bytes(StatusCode::OK, code.to_string().into_bytes())
            }
            SevenError::Status { status, message, .. } => plain(*status, message),
            SevenError::Core { error, sender } => failed(sender, core_text(error)),
        }
    }
}

/// Every core error as the `error` of a failed validation.
pub(super) fn core_text(e: &CoreError) -> String {
    match e {
        CoreError::NotFound => "Not found".into(),
        CoreError::AlreadyVerified => super::wire::ALREADY_SAVED.into(),
        CoreError::Expired => "The validation expired".into(),
        CoreError::WrongCode { .. } => "The code entered was wrong".into(),
        CoreError::Failed => "The validation failed".into(),
        CoreError::Superseded => "A newer validation replaced this one".into(),
        CoreError::LimitReached(Limit::StateBytes) => {
            "Limit reached: the emulator's memory cap (--max-state-bytes) is full".into()
        }
        CoreError::LimitReached(Limit::Pending) => {
            "Limit reached: too many validations are pending (--max-pending)".into()
        }
        CoreError::NotSaved(cause) => format!("Service unavailable: the emulator's state file cannot be written ({cause})"),
        CoreError::CallerIdNotAllowed => "Invalid sender: not a validated caller ID of this account".into(),
        CoreError::CallEnded => "The call has already ended".into(),
        CoreError::CallNotEnded => "The call has not ended yet".into(),
    }
}

fn failed(sender: &str, error: String) -> Response {
    http::json(
        StatusCode::OK,
        &SenderRecord { id: None, sender: sender.to_owned(), formatted_output: None, success: false, error: Some(error), voice: false },
    )
}

fn plain(status: StatusCode, message: &str) -> Response {
    http::json(status, &json!({"success": false, "error": message}))
}
