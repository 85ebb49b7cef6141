//! The seven operations: what each request carries, parsed once ([`Create`], [`ListQuery`],
//! the `name` of an update, the verification code), and the work that applies it to the core and
//! renders SignalWire's body.

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::error::SignalWireError;
use super::wire::{Links, Page, VerifiedCallerId};
use super::{CALLS, CODE_LENGTH, CODE_TTL, EXTENSION, MAX_CALLS_A_WEEK, MAX_WRONG_CODES, REDIAL_GAP, WEEK};
use crate::core::model::{AccountKey, Attributes, CallerId};
use crate::core::phone::{self, Number};
use crate::core::time::Timestamp;
use crate::core::{CallerLookup, CallerQuery, CodeLookup, Core, CoreError, NewVerification, Start};
use crate::http::{self, Pairs, Request, Response};
use crate::providers::compat::PageToken;

pub(super) type Result<T = Response> = std::result::Result<T, SignalWireError>;

/// `page_size` when none is given, and the most it may be.
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;
/// The longest `name`, and the longest `extension` (digits, `*`, `#` and the pause `w`).
const MAX_NAME: usize = 64;
const MAX_EXTENSION: usize = 50;
/// The list's path, for its links.
const LIST_PATH: &str = "/api/relay/rest/verified_caller_ids";

/// A JSON body's fields; an empty body has none.
pub(super) fn body(req: &Request) -> Result<Map<String, Value>> {
    http::json_object(&req.body).ok_or(SignalWireError::Status(StatusCode::BAD_REQUEST))
}

/// A string field; `null` is absent, another type is refused.
fn text<'a>(body: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SignalWireError::invalid("invalid_parameter", format!("{field} must be a string"))),
    }
}

fn check_name(name: &str) -> Result<String> {
    if name.chars().count() > MAX_NAME {
        return Err(SignalWireError::invalid("invalid_parameter", format!("name is longer than {MAX_NAME} characters")));
    }
    Ok(name.to_owned())
}

/// A create request.
pub(super) struct Create {
    pub number: Number,
    name: String,
    extension: String,
}

impl Create {
    pub fn parse(body: Map<String, Value>) -> Result<Create> {
        let raw = text(&body, "number")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| SignalWireError::invalid("missing_required_parameter", "number is required"))?;
        let number = raw
            .trim()
            .starts_with('+')
            .then(|| phone::parse_international(raw))
            .flatten()
            .ok_or_else(|| SignalWireError::invalid("invalid_parameter", format!("number {raw} is not a valid E.164 number")))?;
        let extension = text(&body, "extension")?.unwrap_or_default().to_owned();
        if extension.len() > MAX_EXTENSION || !extension.bytes().all(|b| b.is_ascii_digit() || b"*#w".contains(&b)) {
            return Err(SignalWireError::invalid(
                "invalid_parameter",
                format!("extension may hold up to {MAX_EXTENSION} of 0-9, *, # and w"),
            ));
        }
        let name = match text(&body, "name")? {
            Some(name) => check_name(name)?,
            None => number.e164.clone(),
        };
        Ok(Create { number, name, extension })
    }
}

/// An update's `name`, if it gives one.
pub(super) fn name(body: Map<String, Value>) -> Result<Option<String>> {
    text(&body, "name")?.map(check_name).transpose()
}

/// A submitted `verification_code`.
pub(super) fn code(body: Map<String, Value>) -> Result<String> {
    let code = match body.get("verification_code") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if code.is_empty() {
        return Err(SignalWireError::invalid("missing_required_parameter", "verification_code is required"));
    }
    Ok(code)
}

/// A list request.
pub(super) struct ListQuery {
    page_size: usize,
    /// The `page_token` as given, and what it says.
    token: Option<(String, PageToken)>,
}

impl ListQuery {
    pub fn parse(p: &Pairs) -> Result<ListQuery> {
        let page_size = match p.get("page_size") {
            None => DEFAULT_PAGE_SIZE,
            Some(s) => s.trim().parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
                SignalWireError::invalid("invalid_parameter", format!("page_size must be between 1 and {MAX_PAGE_SIZE}"))
            })?,
        };
        let token = match p.get("page_token").filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some((t.to_owned(), PageToken::parse(t).ok_or_else(invalid_token)?)),
        };
        Ok(ListQuery { page_size, token })
    }
}

fn invalid_token() -> SignalWireError {
    SignalWireError::invalid("invalid_parameter", "page_token is not valid")
}

fn render(status: StatusCode, caller: CallerId) -> Response {
    http::json(status, &VerifiedCallerId::new(caller))
}

/// A verification call that reads a new code to the person.
fn call(core: &Core, key: &AccountKey, number: Number, name: String) -> NewVerification {
    let ids = core.ids();
    NewVerification::submitted(key.clone(), ids.uuid_v4(), number, ids.digits(CODE_LENGTH), CODE_TTL)
        .read_out_by_call()
        .with_label(name)
}

/// Records the caller ID awaiting verification and places its first verification call.
pub(super) fn create(core: &Core, key: &AccountKey, c: Create) -> Result {
    let now = core.clock().now();
    let mut attributes = Attributes::default();
    attributes.set(EXTENSION, &c.extension);
    attributes.set(CALLS, &now.unix_seconds().to_string());
    let first = call(core, key, c.number.clone(), c.name.clone());
    let caller = core.register_caller_id(key, core.ids().uuid_v4(), &c.number, &c.name, &attributes, first).map_err(
        |e| match e {
            CoreError::AlreadyVerified => SignalWireError::invalid(
                "number_taken",
                format!("number {} already has a verified caller ID in this project", c.number.e164),
            ),
            e => e.into(),
        },
    )?;
    Ok(render(StatusCode::CREATED, caller))
}

pub(super) fn fetch(core: &Core, key: &AccountKey, id: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Id(id)).ok_or(SignalWireError::Core(CoreError::NotFound))?;
    Ok(render(StatusCode::OK, caller))
}

pub(super) fn update(core: &Core, key: &AccountKey, id: &str, name: Option<String>) -> Result {
    Ok(render(StatusCode::OK, core.update_caller_id(key, CallerLookup::Id(id), name, &[])?))
}

pub(super) fn delete(core: &Core, key: &AccountKey, id: &str) -> Result {
    core.delete_caller_id(key, CallerLookup::Id(id))?;
    Ok(http::empty(StatusCode::NO_CONTENT, None))
}

/// Checks the code read by the newest verification call of the record's number.
pub(super) fn verify(core: &Core, key: &AccountKey, id: &str, code: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Id(id)).ok_or(SignalWireError::Core(CoreError::NotFound))?;
    if caller.verified() {
        return Err(CoreError::AlreadyVerified.into());
    }
    let (_, caller) = core.check_code(key, CodeLookup::Number(&caller.phone_number), code, MAX_WRONG_CODES)?;
    Ok(render(StatusCode::OK, caller))
}

/// Places a new verification call (a new code), at most one a minute and ten a week per number.
pub(super) fn redial(core: &Core, key: &AccountKey, id: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Id(id)).ok_or(SignalWireError::Core(CoreError::NotFound))?;
    if caller.verified() {
        return Err(CoreError::AlreadyVerified.into());
    }
    let now = core.clock().now().unix_seconds();
    let week = WEEK.as_secs() as i64;
    let mut calls: Vec<i64> = caller
        .attributes
        .get(CALLS)
        .unwrap_or_default()
        .split(' ')
        .filter_map(|t| t.parse().ok())
        .filter(|at| now - at < week)
        .collect();
    if let Some(last) = calls.last().filter(|last| now - *last < REDIAL_GAP.as_secs() as i64) {
        let wait = REDIAL_GAP.as_secs() as i64 - (now - last);
        return Err(SignalWireError::invalid(
            "redial_too_soon",
            format!("A verification call was placed less than a minute ago; redial again in {wait} seconds"),
        ));
    }
    if calls.len() >= MAX_CALLS_A_WEEK {
        let again = Timestamp::from_nanos((calls[0] + week) * 1_000_000_000).rfc3339_micros();
        return Err(SignalWireError::invalid(
            "redial_limit_reached",
            format!("{MAX_CALLS_A_WEEK} verification calls were placed to this number within a week; redial again after {again}"),
        ));
    }
    calls.push(now);
    let calls = calls.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
    let caller = core.update_caller_id(key, CallerLookup::Id(id), None, &[(CALLS, Some(calls))])?;
    let number = phone::parse_international(&caller.phone_number).expect("a stored number parses");
    core.start_verification(call(core, key, number, caller.label.clone()))?;
    Ok(render(StatusCode::OK, caller))
}

/// Newest first, awaiting and verified alike. `page_token=PA<id>` continues after that record
/// and `PB<id>` ends before it, in O(page).
pub(super) fn list(core: &Core, key: &AccountKey, q: &ListQuery) -> Result {
    let start = q.token.as_ref().map_or(Start::Offset(0), |(_, token)| token.start());
    let query = CallerQuery { start, limit: q.page_size, number: None, keep: None, count: false };
    let found = core.caller_ids(key, &query).ok_or_else(invalid_token)?;
    let page_size = q.page_size;
    let link = |token: Option<(&str, &str)>| {
        let mut uri = format!("{LIST_PATH}?page_size={page_size}");
        if let Some((prefix, id)) = token {
            uri.push_str("&page_token=");
            uri.push_str(prefix);
            uri.extend(form_urlencoded::byte_serialize(id.as_bytes()));
        }
        uri
    };
    let records = found.items;
    let links = Links {
        this: link(q.token.as_ref().map(|(t, _)| ("", t.as_str()))),
        first: link(None),
        next: (found.more && !records.is_empty()).then(|| link(records.last().map(|c| ("PA", c.id.as_str())))),
        prev: q.token.is_some().then(|| link(records.first().map(|c| ("PB", c.id.as_str())))).filter(|_| !records.is_empty()),
    };
    Ok(http::json(StatusCode::OK, &Page { links, data: records.into_iter().map(VerifiedCallerId::new).collect() }))
}
