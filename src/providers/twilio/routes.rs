//! The operations: what each request carries, parsed once ([`Create`], [`ListQuery`], the
//! `FriendlyName` of an update), and the work that applies it to the core and renders Twilio's
//! body.

use std::time::Duration;

use hyper::StatusCode;
use phonenumber::country::Id as Region;

use super::DIALECT;
use crate::providers::compat::{self, PageToken, error::RestError, invalid_token};
use crate::providers::compat::wire::{OutgoingCallerId, Page, ValidationRequest};
use crate::core::model::{AccountKey, CallbackSpec, CallerId};
use crate::core::phone::{self, Number};
use crate::core::{CallerLookup, CallerQuery, Core, NewVerification, Start};
use crate::http::{self, Pairs, Response};

type Result<T = Response> = std::result::Result<T, RestError>;

const MAX_FRIENDLY_NAME: usize = 64;
const MAX_CALL_DELAY: u64 = 60;
/// How long a validation call rings before it ends unanswered (`no-answer`).
const RING_TIMEOUT: Duration = Duration::from_secs(60);

/// `PhoneNumber` as Twilio reads it: E.164, or a US national form (`(415) 555-1212`).
fn parse_number(raw: &str) -> Option<Number> {
    phone::parse_in_region(raw, Region::US)
}

/// A ValidationRequest.
pub(super) struct Create {
    pub number: Number,
    friendly_name: String,
    call_delay: u64,
    /// The `StatusCallback`, not signed yet (the signing key is known when the work runs).
    callback: Option<CallbackSpec>,
}

impl Create {
    pub fn parse(p: &Pairs) -> Result<Create> {
        let raw = p
            .get("PhoneNumber")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| RestError::bad_request(21401, "A 'PhoneNumber' is required"))?;
        let number = parse_number(raw).ok_or_else(|| {
            RestError::bad_request(21401, format!("The phone number you specified was not a valid phone number: {raw}"))
        })?;
        let friendly_name = match p.get("FriendlyName") {
            Some(name) => check_friendly_name(name)?.to_owned(),
            None => number.national(),
        };
        let call_delay = match p.get("CallDelay") {
            None => 0,
            Some(d) => d.trim().parse::<u64>().ok().filter(|d| *d <= MAX_CALL_DELAY).ok_or_else(|| {
                RestError::bad_request(21454, "Call delay specified must be an integer between 0 and 60")
            })?,
        };
        Ok(Create { number, friendly_name, call_delay, callback: callback_spec(p)? })
    }
}

/// An update's `FriendlyName`, if it gives one.
pub(super) fn friendly_name(p: &Pairs) -> Result<Option<String>> {
    p.get("FriendlyName").map(check_friendly_name).transpose().map(|name| name.map(str::to_owned))
}

fn check_friendly_name(name: &str) -> Result<&str> {
    let len = name.chars().count();
    if len == 0 || len > MAX_FRIENDLY_NAME {
        return Err(RestError::bad_request(20002, "FriendlyName must be between 1 and 64 characters long"));
    }
    Ok(name)
}

fn callback_spec(p: &Pairs) -> Result<Option<CallbackSpec>> {
    let method = match p.get("StatusCallbackMethod").map(str::to_ascii_uppercase).as_deref() {
        None | Some("POST") => "POST",
        Some("GET") => "GET",
        Some(_) => return Err(RestError::bad_request(22106, "StatusCallbackMethod must be GET or POST")),
    };
    let Some(url) = p.get("StatusCallback").filter(|u| !u.is_empty()) else { return Ok(None) };
    let (base, _) = crate::providers::compat::callback::overrides(url);
    if !(base.starts_with("http://") || base.starts_with("https://")) || base.parse::<hyper::Uri>().is_err() {
        return Err(RestError::bad_request(21609, format!("The StatusCallback URL {url} is not a valid URL.")));
    }
    Ok(Some(CallbackSpec { url: url.to_owned(), method, signing_key: None }))
}

/// A list request: its page and filters.
pub(super) struct ListQuery {
    page_size: usize,
    page: usize,
    /// The `PageToken` as given, and what it says.
    token: Option<(String, PageToken)>,
    phone_number: Option<String>,
    friendly_name: Option<String>,
}

impl ListQuery {
    pub fn parse(p: &Pairs) -> Result<ListQuery> {
        let (page_size, page) = compat::page(p)?;
        let token = match p.get("PageToken").filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some((t.to_owned(), PageToken::parse(t).ok_or_else(invalid_token)?)),
        };
        Ok(ListQuery {
            page_size,
            page,
            token,
            phone_number: p.get("PhoneNumber").map(str::to_owned),
            friendly_name: p.get("FriendlyName").map(str::to_owned),
        })
    }
}


/// The password the request authenticated with signs its callbacks, unless the account has a
/// token from fixtures.
pub(super) fn create(core: &Core, key: &AccountKey, path: &str, c: Create, password: String) -> Result {
    let ids = core.ids();
    let callback = c.callback.map(|cb| CallbackSpec { signing_key: core.account_token(key).or(Some(password)), ..cb });
    let new = NewVerification::keyed_in(
        key.clone(),
        ids.sid("CA"),
        c.number,
        ids.digits(6),
        Duration::from_secs(c.call_delay),
        RING_TIMEOUT,
    )
    .with_label(c.friendly_name)
    .with_callback(callback);
    let v = core.start_verification(new).map_err(|e| RestError::core(&DIALECT, e, path))?;
    Ok(http::json(
        StatusCode::OK,
        &ValidationRequest {
            account_sid: key.account.to_string(),
            call_sid: v.id,
            friendly_name: v.label,
            phone_number: v.phone_number,
            validation_code: v.code,
        },
    ))
}

pub(super) fn fetch(core: &Core, key: &AccountKey, path: &str, sid: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Id(sid)).ok_or_else(|| RestError::not_found(path))?;
    Ok(http::json(StatusCode::OK, &OutgoingCallerId::new(DIALECT.root, key, caller)))
}

pub(super) fn update(core: &Core, key: &AccountKey, path: &str, sid: &str, label: Option<String>) -> Result {
    let caller =
        core.update_caller_id(key, CallerLookup::Id(sid), label, &[]).map_err(|e| RestError::core(&DIALECT, e, path))?;
    Ok(http::json(StatusCode::OK, &OutgoingCallerId::new(DIALECT.root, key, caller)))
}

pub(super) fn delete(core: &Core, key: &AccountKey, path: &str, sid: &str) -> Result {
    core.delete_caller_id(key, CallerLookup::Id(sid)).map_err(|e| RestError::core(&DIALECT, e, path))?;
    Ok(http::empty(StatusCode::NO_CONTENT, None))
}

/// Newest first. `PageToken=PA<sid>` continues after that record and `PB<sid>` ends before
/// it, in O(page); otherwise `Page` × `PageSize` records are skipped, in O(Page × PageSize).
/// A `PhoneNumber` filter uses the number index; `FriendlyName` visits the whole account.
pub(super) fn list(core: &Core, key: &AccountKey, q: &ListQuery) -> Result {
    let (page, page_size) = (q.page, q.page_size);
    let start = match &q.token {
        None => Start::Offset(page.saturating_mul(page_size)),
        Some((_, token)) => token.start(),
    };
    let (phone_number, friendly_name) = (q.phone_number.as_deref(), q.friendly_name.as_deref());
    let keep = |c: &CallerId| friendly_name.is_none_or(|n| c.label == n);
    let query = CallerQuery {
        start,
        limit: page_size,
        number: phone_number,
        keep: friendly_name.is_some().then_some(&keep as &dyn Fn(&CallerId) -> bool),
        count: false,
    };
    let found = core.caller_ids(key, &query).ok_or_else(invalid_token)?;

    let base = format!("/2010-04-01/Accounts/{}/OutgoingCallerIds.json?", key.account);
    // One buffer per URI: the filters, then the paging, as Twilio orders them.
    let page_uri = |page: usize, token: Option<(&str, &str)>| {
        let mut uri = String::with_capacity(base.len() + 96);
        uri.push_str(&base);
        let mut q = form_urlencoded::Serializer::for_suffix(uri, base.len());
        q.extend_pairs(phone_number.map(|n| ("PhoneNumber", n)));
        q.extend_pairs(friendly_name.map(|n| ("FriendlyName", n)));
        q.append_pair("PageSize", &page_size.to_string()).append_pair("Page", &page.to_string());
        if let Some((prefix, rest)) = token {
            q.append_pair("PageToken", &[prefix, rest].concat());
        }
        q.finish()
    };
    let records = found.items;
    let first = page * page_size;
    let body = Page {
        end: first + records.len().saturating_sub(1),
        first_page_uri: page_uri(0, None),
        next_page_uri: (found.more && !records.is_empty())
            .then(|| page_uri(page + 1, records.last().map(|c| ("PA", &*c.id)))),
        page,
        page_size,
        previous_page_uri: (page > 0).then(|| page_uri(page - 1, records.first().map(|c| ("PB", &*c.id)))),
        start: first,
        uri: page_uri(page, q.token.as_ref().map(|(t, _)| ("", t.as_str()))),
        outgoing_caller_ids: records.into_iter().map(|c| OutgoingCallerId::new(DIALECT.root, key, c)).collect(),
    };
    Ok(http::json(StatusCode::OK, &body))
}
