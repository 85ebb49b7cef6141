//! Twilio's 2010 error envelope: `{"code", "message", "more_info", "status"}` (never `type` +
//! `title`, which would switch the SDKs to RFC 9457 exceptions), or the legacy XML
//! `RestException` for the non-JSON formats.

use hyper::StatusCode;
use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use serde::Serialize;

use crate::http::{self, Response};

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TwilioError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    code: u32,
    message: &'a str,
    more_info: String,
    status: u16,
}

impl TwilioError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError { status, code, message: message.into() }
    }

    pub fn bad_request(code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 code 20003, with the `WWW-Authenticate` challenge.
    pub fn unauthorized() -> TwilioError {
        TwilioError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 404 code 20404 naming the requested path.
    pub fn not_found(path: &str) -> TwilioError {
        TwilioError::new(StatusCode::NOT_FOUND, 20404, format!("The requested resource {path} was not found"))
    }

    pub fn method_not_allowed() -> TwilioError {
        TwilioError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
    }

    pub fn render(&self) -> Response {
        let body = Body {
            code: self.code,
            message: &self.message,
            more_info: format!("https://www.twilio.com/docs/errors/{}", self.code),
            status: self.status.as_u16(),
        };
        let mut res = http::json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
        }
        res
    }
}

/// The answer to a request for the XML or CSV formats (no `.json` suffix): a legacy XML
/// `RestException` saying the emulator speaks JSON only.
pub(crate) fn xml_not_supported() -> Response {
    let body = "<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><RestException><Status>406</Status>\
        <Message>callerid-mock answers the 2010 API in JSON only: add .json to the path</Message>\
        </RestException></TwilioResponse>";
    http::bytes(StatusCode::NOT_ACCEPTABLE, "application/xml", body)
}
