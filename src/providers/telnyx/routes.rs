//! The five operations: parse what the request carries, apply it to the core, render Telnyx's
//! body.

use std::time::Duration;

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::error::{Source, TelnyxError};
use super::wire::{Data, ListBody, Meta, Requested, VerifiedNumber};
use super::{CODE_LENGTH, CODE_TTL, EXTENSION};
use crate::app::App;
use crate::core::phone::{self, Number};
use crate::core::store::{AccountKey, Attributes, Channel, Entry};
use crate::core::{CallerLookup, CallerQuery, CodeLookup, NewVerification, SigningKey, Start};
use crate::http::{self, Request, Response};

pub(super) type Result<T = Response> = std::result::Result<T, TelnyxError>;

/// `page[size]` when none is given, and the most it may be.
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 250;

/// The longest `extension`, and the characters it may hold (digits, A-D, `*`, `#`, and the
/// pauses `w` and `W`).
const MAX_EXTENSION: usize = 50;

/// A JSON body's fields; an empty body has none.
pub(super) fn body(req: &Request) -> Result<Map<String, Value>> {
    let raw = req.body.as_ref();
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TelnyxError::InvalidJson),
    }
}

/// A string field; `null` is absent, another type is refused.
fn text<'a>(body: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TelnyxError::Invalid(Source::Field(field), format!("The '{field}' parameter must be a string."))),
    }
}

/// A create request, parsed.
pub(super) struct Create {
    pub number: Number,
    pub channel: Channel,
    extension: Option<String>,
}

impl Create {
    pub fn parse(body: Result<Map<String, Value>>) -> Result<Create> {
        let body = body?;
        let raw = text(&body, "phone_number")?.filter(|s| !s.is_empty()).ok_or(TelnyxError::Missing("phone_number"))?;
        if !raw.starts_with('+') {
            return Err(TelnyxError::NotE164("phone_number"));
        }
        let number = phone::parse_international(raw).ok_or(TelnyxError::InvalidNumber)?;
        let channel = match text(&body, "verification_method")? {
            None | Some("") => return Err(TelnyxError::Missing("verification_method")),
            Some("sms") => Channel::Sms,
            Some("call") => Channel::Call,
            Some(other) => {
                let detail = format!("'{other}' is not a verification method: use 'sms' or 'call'.");
                return Err(TelnyxError::Invalid(Source::Field("verification_method"), detail));
            }
        };
        let extension = text(&body, "extension")?.filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(ext) = &extension {
            let invalid = |detail: &str| TelnyxError::Invalid(Source::Field("extension"), detail.to_owned());
            if ext.len() > MAX_EXTENSION {
                return Err(invalid("The extension is longer than 50 characters."));
            }
            if !ext.bytes().all(|b| b.is_ascii_digit() || b"ABCD*#wW".contains(&b)) {
                return Err(invalid("The extension may hold only 0-9, A-D, *, #, w and W."));
            }
            if channel != Channel::Call {
                return Err(invalid("An extension works only with the 'call' verification method."));
            }
        }
        Ok(Create { number, channel, extension })
    }
}

pub(super) fn create(app: &App, key: &AccountKey, c: Create) -> Result {
    let ids = app.core.ids();
    let mut attributes = Attributes::default();
    if let Some(ext) = &c.extension {
        attributes.set(EXTENSION, ext);
    }
    let new = NewVerification {
        key: key.clone(),
        id: ids.uuid_v4(),
        phone_number: c.number.e164,
        country: c.number.country,
        label: String::new(),
        attributes,
        requested_channel: Some(c.channel),
        channel: c.channel,
        entry: Entry::Api,
        code: ids.digits(CODE_LENGTH),
        ttl: CODE_TTL,
        // A code sent by a call rings at once and is read out when answered.
        rings_after: (c.channel == Channel::Call).then_some(Duration::ZERO),
        callback: None,
        signing_key: SigningKey::AsGiven,
    };
    let v = app.core.start_verification(new)?;
    let body = Requested { phone_number: &v.phone_number, verification_method: v.channel.as_str() };
    Ok(http::json(StatusCode::OK, &body))
}

pub(super) fn verify(app: &App, key: &AccountKey, number: &str, body: Result<Map<String, Value>>) -> Result {
    let body = body?;
    let code = text(&body, "verification_code")?.ok_or(TelnyxError::Missing("verification_code"))?;
    let number = phone::path_key(number).ok_or(TelnyxError::NotFound)?;
    let (_, caller) = app.core.check_code(key, CodeLookup::Number(&number), code.trim())?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(caller) }))
}

pub(super) fn get(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(TelnyxError::NotFound)?;
    let caller = app.core.caller_id(key, CallerLookup::Number(&number)).ok_or(TelnyxError::NotFound)?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(caller) }))
}

pub(super) fn delete(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(TelnyxError::NotFound)?;
    let removed = app.core.delete_caller_id(key, CallerLookup::Number(&number))?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(removed) }))
}

/// Newest first; page `n` skips `(n - 1) * size` entries, so it costs O(n * size).
pub(super) fn list(app: &App, key: &AccountKey, req: &Request) -> Result {
    let query = req.query_pairs();
    let number = |name: &'static str, default: usize, max: usize| -> Result<usize> {
        match query.get(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                TelnyxError::Invalid(Source::Parameter(name), format!("{name} must be an integer from 1 to {max}."))
            }),
        }
    };
    let page_size = number("page[size]", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let page_number = number("page[number]", 1, usize::MAX)?;
    let query = CallerQuery {
        start: Start::Offset((page_number - 1).saturating_mul(page_size)),
        limit: page_size,
        number: None,
        keep: None,
        count: true,
    };
    let page = app.core.caller_ids(key, &query).unwrap_or_default();
    let meta = Meta { page_number, page_size, total_pages: page.total.div_ceil(page_size), total_results: page.total };
    let data = page.items.into_iter().map(VerifiedNumber::new).collect();
    Ok(http::json(StatusCode::OK, &ListBody { data, meta }))
}
