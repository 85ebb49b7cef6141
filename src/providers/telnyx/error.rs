//! Telnyx's error envelope, `{"errors":[{"code","title","detail","source","meta":{"url"}}]}`,
//! with the platform's numeric codes (strings on the wire) and the titles of its error catalogue
//! (developers.telnyx.com/docs/overview/errors). Every failure, whoever refuses the request
//! (the route, the core, a cap, a fault rule, the server), answers in this shape.

use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER};
use serde::Serialize;

use crate::core::CoreError;
use crate::http::{self, Response};

/// Where in the request the error is: a JSON pointer into the body or a query parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    None,
    /// A body field, by name (`phone_number` is the pointer `/phone_number`).
    Field(&'static str),
    Parameter(&'static str),
}

#[derive(Debug)]
pub(crate) enum TelnyxError {
    /// No `Authorization: Bearer …`, or a key strict auth does not know (10009).
    Unauthorized,
    /// An unknown path under `/v2` (10005).
    NoRoute,
    /// A known path with another method.
    MethodNotAllowed,
    /// No verified number (or no verification) for this number (10005).
    NotFound,
    /// The body is not a JSON object (10023).
    InvalidJson,
    /// A required parameter is absent (10004).
    Missing(&'static str),
    /// A number without its `+` (10016).
    NotE164(&'static str),
    /// Not a valid number (10002), in this field.
    InvalidNumber(&'static str),
    /// A parameter with a value Telnyx refuses (10015), and why.
    Invalid(Source, String),
    /// Any status and code, with a detail (fault rules, the server's refusals).
    Status { status: StatusCode, code: u64, detail: String },
    Core(CoreError),
}

impl From<CoreError> for TelnyxError {
    fn from(e: CoreError) -> TelnyxError {
        TelnyxError::Core(e)
    }
}

/// The catalogue's title of a code.
fn title(code: u64) -> &'static str {
    match code {
        10002 => "Invalid phone number",
        10003 => "Invalid URL",
        10004 => "Missing required parameter",
        10005 => "Resource not found",
        10007 => "Unexpected error",
        10008 => "Request timeout",
        10009 => "Authentication failed",
        10011 => "Too many requests",
        10012 => "Duplicate resource",
        10016 => "Phone number must be in +E.164 format",
        10023 => "Invalid JSON",
        90018 => "Call has already ended",
        _ => "Bad Request",
    }
}

impl TelnyxError {
    fn parts(&self) -> (StatusCode, u64, String, Source) {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let bad = StatusCode::BAD_REQUEST;
        let none = Source::None;
        match self {
            TelnyxError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                10009,
                "The required authentication headers were either invalid or not included in the request.".into(),
                none,
            ),
            TelnyxError::NoRoute => (
                StatusCode::NOT_FOUND,
                10005,
                "The requested resource or URL could not be found (callerid-mock emulates /v2/verified_numbers and \
                 /v2/calls)."
                    .into(),
                none,
            ),
            TelnyxError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, 10015, "The method is not allowed on this resource.".into(), none)
            }
            TelnyxError::NotFound => {
                (StatusCode::NOT_FOUND, 10005, "The requested resource or URL could not be found.".into(), none)
            }
            TelnyxError::InvalidJson => (bad, 10023, "The request body is not a valid JSON object.".into(), none),
            TelnyxError::Missing(field) => {
                (unprocessable, 10004, format!("The '{field}' parameter is required."), Source::Field(field))
            }
            TelnyxError::NotE164(field) => (
                unprocessable,
                10016,
                "The specified phone number parameter must be in +E.164 format.".into(),
                Source::Field(field),
            ),
            TelnyxError::InvalidNumber(field) => {
                (unprocessable, 10002, "The phone number is invalid.".into(), Source::Field(field))
            }
            TelnyxError::Invalid(source, detail) => (unprocessable, 10015, detail.clone(), source.clone()),
            TelnyxError::Status { status, code, detail } => (*status, *code, detail.clone(), none),
            TelnyxError::Core(e) => match e {
                CoreError::NotFound => (
                    StatusCode::NOT_FOUND,
                    10005,
                    "No verification is pending for this phone number.".into(),
                    none,
                ),
                CoreError::AlreadyVerified => {
                    (unprocessable, 10012, "This phone number is already verified.".into(), Source::Field("phone_number"))
                }
                CoreError::WrongCode { remaining } => {
                    let s = if *remaining == 1 { "" } else { "s" };
                    let detail = format!("The verification code is invalid; {remaining} attempt{s} remaining.");
                    (bad, 10015, detail, Source::Field("verification_code"))
                }
                CoreError::Expired => (
                    bad,
                    10015,
                    "The verification code has expired; request a new verification.".into(),
                    Source::Field("verification_code"),
                ),
                CoreError::Failed => (
                    bad,
                    10015,
                    "The verification failed (too many invalid codes, or its call was not answered); request a new one."
                        .into(),
                    Source::Field("verification_code"),
                ),
                // The newest verification of a number is never superseded; kept for completeness.
                CoreError::Superseded => (
                    bad,
                    10015,
                    "A newer verification was requested for this phone number.".into(),
                    Source::Field("verification_code"),
                ),
                CoreError::LimitReached(limit) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    10011,
                    format!("You have exceeded the emulator's {} cap.", limit.describe()),
                    none,
                ),
                CoreError::CallerIdNotAllowed => (
                    unprocessable,
                    10015,
                    "The 'from' number is neither a Telnyx number of this account nor one of its verified numbers."
                        .into(),
                    Source::Field("from"),
                ),
                CoreError::CallEnded => (unprocessable, 90018, "Call has already ended".into(), none),
                CoreError::CallNotEnded => (unprocessable, 10015, "The call has not ended yet.".into(), none),
                CoreError::NotSaved(cause) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    10007,
                    format!("The emulator's state file cannot be written ({cause})."),
                    none,
                ),
            },
        }
    }

    pub(crate) fn render(&self) -> Response {
        let (status, code, detail, source) = self.parts();
        let code_text = code.to_string();
        let body = Body {
            errors: [Error {
                title: title(code),
                detail,
                source: match source {
                    Source::None => None,
                    Source::Field(f) => Some(SourceBody { pointer: Some(format!("/{f}")), parameter: None }),
                    Source::Parameter(p) => Some(SourceBody { pointer: None, parameter: Some(p) }),
                },
                meta: Meta { url: format!("https://developers.telnyx.com/docs/overview/errors/{code_text}") },
                code: code_text,
            }],
        };
        let mut res = http::json(status, &body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}


#[derive(Serialize)]
struct Body {
    errors: [Error; 1],
}

#[derive(Serialize)]
struct Error {
    code: String,
    title: &'static str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<SourceBody>,
    meta: Meta,
}

#[derive(Serialize)]
struct SourceBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'static str>,
}

#[derive(Serialize)]
struct Meta {
    url: String,
}
