//! `validate_for_voice`: what the request carries, parsed once ([`Validate`]), and the work that
//! looks the number up, issues a code or answers with the record.

use std::time::Duration;

use hyper::StatusCode;

use super::error::SevenError;
use super::wire::{ALREADY_SAVED, CodeIssued, SenderRecord};
use super::{NAME, auth, params};
use crate::core::model::{AccountKey, CallbackSpec};
use crate::core::phone::{self, Number};
use crate::core::{CallerLookup, Core, CoreError, NewVerification};
use crate::http::{self, Request, Response};

/// How long the validation call rings before it ends unanswered (`no-answer`).
const RING_TIMEOUT: Duration = Duration::from_secs(60);

/// A `validate_for_voice` request.
pub(super) struct Validate {
    /// The API key, if one is given and well formed.
    pub key: Option<String>,
    /// The number as given, and as read (`None`: not a number).
    raw: String,
    pub number: Option<Number>,
    callback: Option<String>,
}

impl Validate {
    pub fn parse(req: &Request, region: phonenumber::country::Id) -> Validate {
        let params = params::read(req);
        let raw = params.get("number").map(str::trim).unwrap_or("").to_owned();
        Validate {
            key: auth::api_key(req, &params),
            number: parse_number(&raw, region),
            raw,
            callback: params.get("callback").map(str::to_owned),
        }
    }
}

/// "The format is almost arbitrary": national forms in the configured region, `00` and `+`
/// prefixes, and international digits without a prefix.
pub(super) fn parse_number(raw: &str, region: phonenumber::country::Id) -> Option<Number> {
    phone::parse_in_region(raw, region).or_else(|| {
        let digits_only = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
        digits_only.then(|| phone::parse_international(raw)).flatten()
    })
}

pub(super) fn validate_for_voice(core: &Core, api_key: &str, v: Validate) -> Result<Response, SevenError> {
    let number = v.number.ok_or_else(|| SevenError::InvalidNumber(v.raw.clone()))?;
    let key = AccountKey::new(NAME, api_key);
    let ids = core.ids();
    let callback = v.callback.map(|url| CallbackSpec { url, method: "GET", signing_key: None });
    let id = ids.uuid_v4();
    // 100000-999999: the PHP SDK reads the code as an int, so no leading zero.
    let code = (ids.below(900_000) + 100_000).to_string();
    let e164 = number.e164.clone();
    let international = number.international();
    let new = NewVerification::keyed_in(key.clone(), id, number, code, Duration::ZERO, RING_TIMEOUT)
        .with_callback(callback);
    match core.start_verification(new) {
        Ok(v) => Ok(http::json(StatusCode::OK, &CodeIssued { success: true, code: v.code, error: None })),
        Err(CoreError::AlreadyVerified) => {
            let id = core.caller_id(&key, CallerLookup::Number(&e164)).and_then(|c| c.id.parse().ok());
            Ok(http::json(
                StatusCode::OK,
                &SenderRecord {
                    id,
                    sender: e164.trim_start_matches('+').to_owned(),
                    formatted_output: Some(international),
                    success: true,
                    error: Some(ALREADY_SAVED.to_owned()),
                    voice: true,
                },
            ))
        }
        Err(error) => Err(SevenError::Core { error, sender: v.raw }),
    }
}
