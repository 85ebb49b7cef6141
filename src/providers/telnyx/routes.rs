//! The five operations: what each request carries, parsed once ([`Create`], [`ListQuery`], the
//! verification code), and the work that applies it to the core and renders Telnyx's body.

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::error::{Source, TelnyxError};
use super::wire::{Data, ListBody, Meta, Requested, VerifiedNumber};
use super::{CODE_LENGTH, CODE_TTL, EXTENSION, MAX_WRONG_CODES};
use crate::core::phone::{self, Number};
use crate::core::model::{AccountKey, Attributes, Channel};
use crate::core::{CallerLookup, CallerQuery, CodeLookup, Core, NewVerification, Start};
use crate::http::{self, Pairs, Request, Response};

pub(super) type Result<T = Response> = std::result::Result<T, TelnyxError>;

/// `page[size]` when none is given, and the most it may be.
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 250;

/// The longest `extension`, and the characters it may hold (digits, A-D, `*`, `#`, and the
/// pauses `w` and `W`).
const MAX_EXTENSION: usize = 50;

/// A JSON body's fields; an empty body has none.
pub(super) fn body(req: &Request) -> Result<Map<String, Value>> {
    http::json_object(&req.body).ok_or(TelnyxError::InvalidJson)
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
    pub fn parse(body: Map<String, Value>) -> Result<Create> {
        let raw = text(&body, "phone_number")?.filter(|s| !s.is_empty()).ok_or(TelnyxError::Missing("phone_number"))?;
        if !raw.starts_with('+') {
            return Err(TelnyxError::NotE164("phone_number"));
        }
        let number = phone::parse_international(raw).ok_or(TelnyxError::InvalidNumber("phone_number"))?;
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

/// A verify request's code.
pub(super) fn code(body: Map<String, Value>) -> Result<String> {
    Ok(text(&body, "verification_code")?.ok_or(TelnyxError::Missing("verification_code"))?.trim().to_owned())
}

/// A list request's page.
pub(super) struct ListQuery {
    page_number: usize,
    page_size: usize,
}

impl ListQuery {
    pub fn parse(query: &Pairs) -> Result<ListQuery> {
        let number = |name: &'static str, default: usize, max: usize| -> Result<usize> {
            match query.get(name) {
                None => Ok(default),
                Some(raw) => raw.trim().parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                    TelnyxError::Invalid(Source::Parameter(name), format!("{name} must be an integer from 1 to {max}."))
                }),
            }
        };
        let page_size = number("page[size]", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        Ok(ListQuery { page_number: number("page[number]", 1, usize::MAX)?, page_size })
    }
}

pub(super) fn create(core: &Core, key: &AccountKey, c: Create) -> Result {
    let ids = core.ids();
    let mut attributes = Attributes::default();
    if let Some(ext) = &c.extension {
        attributes.set(EXTENSION, ext);
    }
    let new = NewVerification::submitted(key.clone(), ids.uuid_v4(), c.number, ids.digits(CODE_LENGTH), CODE_TTL)
        .with_attributes(attributes);
    // A code sent by a call rings at once and is read out when answered.
    let new = if c.channel == Channel::Call { new.read_out_by_call() } else { new };
    let v = core.start_verification(new)?;
    let body = Requested { phone_number: &v.phone_number, verification_method: v.channel.as_str() };
    Ok(http::json(StatusCode::OK, &body))
}

pub(super) fn verify(core: &Core, key: &AccountKey, number: &str, code: &str) -> Result {
    let (_, caller) = core.check_code(key, CodeLookup::Number(number), code, MAX_WRONG_CODES)?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(caller) }))
}

pub(super) fn get(core: &Core, key: &AccountKey, number: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Number(number)).ok_or(TelnyxError::NotFound)?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(caller) }))
}

pub(super) fn delete(core: &Core, key: &AccountKey, number: &str) -> Result {
    let removed = core.delete_caller_id(key, CallerLookup::Number(number))?;
    Ok(http::json(StatusCode::OK, &Data { data: VerifiedNumber::new(removed) }))
}

/// Newest first; page `n` skips `(n - 1) * size` entries, so it costs O(n * size).
pub(super) fn list(core: &Core, key: &AccountKey, q: &ListQuery) -> Result {
    let (page_number, page_size) = (q.page_number, q.page_size);
    let query = CallerQuery {
        start: Start::Offset((page_number - 1).saturating_mul(page_size)),
        limit: page_size,
        number: None,
        keep: None,
        count: true,
    };
    let page = core.caller_ids(key, &query).unwrap_or_default();
    let meta = Meta { page_number, page_size, total_pages: page.total.div_ceil(page_size), total_results: page.total };
    let data = page.items.into_iter().map(VerifiedNumber::new).collect();
    Ok(http::json(StatusCode::OK, &ListBody { data, meta }))
}
