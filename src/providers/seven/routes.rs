//! `validate_for_voice`: look the number up, issue a code or answer with the record.

use std::time::Duration;

use hyper::StatusCode;

use super::NAME;
use super::error::SevenError;
use super::wire::{ALREADY_SAVED, CodeIssued, SenderRecord};
use crate::app::App;
use crate::core::phone::{self, Number};
use crate::core::store::{AccountKey, Attributes, CallbackSpec, Channel, Entry};
use crate::core::{CallerLookup, CoreError, NewVerification, RING_TIMEOUT, SigningKey};
use crate::http::{self, Response};

/// "The format is almost arbitrary": national forms in the configured region, `00` and `+`
/// prefixes, and international digits without a prefix.
pub(super) fn parse_number(raw: &str, region: phonenumber::country::Id) -> Option<Number> {
    phone::parse_in_region(raw, region).or_else(|| {
        let digits_only = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
        digits_only.then(|| phone::parse_international(raw)).flatten()
    })
}

pub(super) fn validate_for_voice(
    app: &App,
    api_key: &str,
    raw: &str,
    number: Option<Number>,
    callback: Option<&str>,
) -> Result<Response, SevenError> {
    let number = number.ok_or_else(|| SevenError::InvalidNumber(raw.to_owned()))?;
    let key = AccountKey::new(NAME, api_key);
    let ids = app.core.ids();
    let callback = callback.map(|url| CallbackSpec { url: url.to_owned(), method: "GET", signing_key: None });
    let new = NewVerification {
        key: key.clone(),
        id: ids.uuid_v4(),
        phone_number: number.e164.clone(),
        country: number.country.clone(),
        label: String::new(),
        attributes: Attributes::default(),
        requested_channel: Some(Channel::Call),
        channel: Channel::Call,
        entry: Entry::Keypad,
        // 100000-999999: the PHP SDK reads the code as an int, so no leading zero.
        code: (ids.below(900_000) + 100_000).to_string(),
        ttl: RING_TIMEOUT,
        rings_after: Some(Duration::ZERO),
        callback,
        signing_key: SigningKey::AsGiven,
    };
    match app.core.start_verification(new) {
        Ok(v) => Ok(http::json(StatusCode::OK, &CodeIssued { success: true, code: v.code, error: None })),
        Err(CoreError::AlreadyVerified) => {
            let id = app.core.caller_id(&key, CallerLookup::Number(&number.e164)).and_then(|c| c.id.parse().ok());
            Ok(http::json(
                StatusCode::OK,
                &SenderRecord {
                    id,
                    sender: number.e164.trim_start_matches('+').to_owned(),
                    formatted_output: Some(number.international()),
                    success: true,
                    error: Some(ALREADY_SAVED.to_owned()),
                    voice: true,
                },
            ))
        }
        Err(error) => Err(SevenError::Core { error, sender: raw.to_owned() }),
    }
}
