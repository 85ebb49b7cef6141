//! The dialect's error envelope: `{"code", "message", "more_info", "status"}` (never `type` +
//! `title`, which would switch the SDKs to RFC 9457 exceptions), or the legacy XML
//! `RestException` for the non-JSON formats.

use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use serde::Serialize;

use super::Dialect;
use crate::core::CoreError;
use crate::http::{self, Response};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RestError {
    /// An error in the JSON envelope.
    Api { status: StatusCode, code: u32, message: String },
    /// The XML or CSV formats (no `.json` suffix), which the emulator does not speak.
    NotJson,
}

#[derive(Serialize)]
struct Body<'a> {
    code: u32,
    message: &'a str,
    more_info: String,
    status: u16,
}

impl RestError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> RestError {
        RestError::Api { status, code, message: message.into() }
    }

    pub fn bad_request(code: u32, message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 code 20003, with the `WWW-Authenticate` challenge.
    pub fn unauthorized() -> RestError {
        RestError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 404 code 20404 naming the requested path.
    pub fn not_found(path: &str) -> RestError {
        RestError::new(StatusCode::NOT_FOUND, 20404, format!("The requested resource {path} was not found"))
    }

    /// 403 code 20403: good credentials of another account (strict auth).
    pub fn forbidden() -> RestError {
        RestError::new(StatusCode::FORBIDDEN, 20403, "Forbidden: the credentials belong to another account")
    }

    pub fn method_not_allowed() -> RestError {
        RestError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
    }

    /// 400 code 21210: the `From` of a call is neither a verified caller ID nor a number the
    /// account owns.
    pub fn unverified_from(d: &Dialect, from: Option<&str>) -> RestError {
        let number = from.map(|f| format!(", {f},")).unwrap_or_default();
        RestError::bad_request(
            21210,
            format!(
                "The source phone number provided{number} is not yet verified for your account. You may only make \
                 calls from phone numbers that you've verified or purchased from {}.",
                d.seller
            ),
        )
    }

    /// 503 code 20503: the emulator's state file cannot be written.
    pub fn unavailable(cause: &str) -> RestError {
        RestError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            format!("Service Unavailable: the emulator's state file cannot be written ({cause})"),
        )
    }

    /// Every core error, for a request on `path`.
    pub fn core(d: &Dialect, e: CoreError, path: &str) -> RestError {
        match e {
            CoreError::AlreadyVerified => RestError::bad_request(
                21450,
                "You attempted to verify a phone number for your account, but that number is already verified for your account.",
            ),
            // Codes are keyed in during the validation call, never submitted on these routes:
            // what no longer waits for a code is simply not found here.
            CoreError::NotFound
            | CoreError::Expired
            | CoreError::Failed
            | CoreError::Superseded
            | CoreError::WrongCode { .. } => RestError::not_found(path),
            CoreError::LimitReached(limit) => RestError::new(
                StatusCode::TOO_MANY_REQUESTS,
                20429,
                format!("Too Many Requests: the emulator's {} cap is reached", limit.flag()),
            ),
            CoreError::NotSaved(cause) => RestError::unavailable(&cause),
            CoreError::CallerIdNotAllowed => RestError::unverified_from(d, None),
            CoreError::CallEnded => RestError::bad_request(21220, "Call is not in-progress. Cannot redirect."),
            CoreError::CallNotEnded => {
                RestError::bad_request(20009, "Unable to delete record: the call is still in progress")
            }
        }
    }

    pub fn render(&self, d: &Dialect) -> Response {
        let (status, code, message) = match self {
            RestError::Api { status, code, message } => (*status, *code, message),
            RestError::NotJson => return xml_not_supported(d),
        };
        let body = Body { code, message, more_info: format!("{}{code}", d.errors_url), status: status.as_u16() };
        let mut res = http::json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            let challenge = format!("Basic realm=\"{}\"", d.realm);
            res.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("a realm is text"));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

/// The answer to a request for the XML or CSV formats (no `.json` suffix): a legacy XML
/// `RestException` saying the emulator speaks JSON only.
fn xml_not_supported(d: &Dialect) -> Response {
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<{0}Response><RestException><Status>406</Status>\
        <Message>callerid-mock answers the 2010 API in JSON only: add .json to the path</Message>\
        </RestException></{0}Response>",
        d.brand
    );
    http::bytes(StatusCode::NOT_ACCEPTABLE, "application/xml", body)
}
