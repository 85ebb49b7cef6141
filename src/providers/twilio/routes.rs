//! The operations: create (a ValidationRequest), list, fetch, update, delete.

use std::time::Duration;

use hyper::StatusCode;
use phonenumber::country::Id as Region;

use super::error::TwilioError;
use super::wire::{OutgoingCallerId, Page, ValidationRequest};
use crate::core::store::{AccountKey, CallbackSpec, Channel};
use crate::core::{CoreError, NewVerification, RING_TIMEOUT};
use crate::http::{self, Request, Response};
use crate::{App, phone};

type Result = std::result::Result<Response, TwilioError>;

const MAX_FRIENDLY_NAME: usize = 64;
const MAX_CALL_DELAY: u64 = 60;
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;

/// Form or query parameters; the first value of a name wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The password the request authenticated with signs its callbacks, unless the account has a
/// token from fixtures.
pub(super) fn create(app: &App, key: &AccountKey, req: &Request) -> Result {
    let p = Params(http::form_pairs(&req.body));
    let raw = p
        .get("PhoneNumber")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| TwilioError::bad_request(21401, "A 'PhoneNumber' is required"))?;
    let number = phone::parse_in_region(raw, Region::US).ok_or_else(|| {
        TwilioError::bad_request(21401, format!("The phone number you specified was not a valid phone number: {raw}"))
    })?;
    let friendly_name = match p.get("FriendlyName") {
        Some(name) => check_friendly_name(name)?.to_owned(),
        None => number.national(),
    };
    let call_delay = match p.get("CallDelay") {
        None => 0,
        Some(d) => d.trim().parse::<u64>().ok().filter(|d| *d <= MAX_CALL_DELAY).ok_or_else(|| {
            TwilioError::bad_request(21454, "Call delay specified must be an integer between 0 and 60")
        })?,
    };
    let callback = callback_spec(app, key, req, &p)?;
    let core = &app.core;
    let new = NewVerification {
        id: core.ids.sid("CA"),
        phone_number: number.e164.clone(),
        country: number.country.clone(),
        label: friendly_name,
        subaccount: String::new(),
        requested_channel: Some(Channel::Call),
        channel: Channel::Call,
        code: core.ids.digits(6),
        ttl: Some(RING_TIMEOUT),
        rings_after: Some(Duration::from_secs(call_delay)),
        callback,
    };
    let v = core.start_verification(key, new).map_err(|e| core_error(e, &req.path))?;
    Ok(http::json(
        StatusCode::OK,
        &ValidationRequest {
            account_sid: key.account.clone(),
            call_sid: v.id,
            friendly_name: v.label,
            phone_number: v.phone_number,
            validation_code: v.code,
        },
    ))
}

fn check_friendly_name(name: &str) -> std::result::Result<&str, TwilioError> {
    let len = name.chars().count();
    if len == 0 || len > MAX_FRIENDLY_NAME {
        return Err(TwilioError::bad_request(20002, "FriendlyName must be between 1 and 64 characters long"));
    }
    Ok(name)
}

fn callback_spec(
    app: &App,
    key: &AccountKey,
    req: &Request,
    p: &Params,
) -> std::result::Result<Option<CallbackSpec>, TwilioError> {
    let method = match p.get("StatusCallbackMethod").map(str::to_ascii_uppercase).as_deref() {
        None | Some("POST") => "POST",
        Some("GET") => "GET",
        Some(_) => return Err(TwilioError::bad_request(21609, "StatusCallbackMethod must be GET or POST")),
    };
    let Some(url) = p.get("StatusCallback").filter(|u| !u.is_empty()) else { return Ok(None) };
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.parse::<hyper::Uri>().is_err() {
        return Err(TwilioError::bad_request(21609, format!("StatusCallback is not a valid URL: {url}")));
    }
    let signing_key = app.core.auth_token(key).or_else(|| req.basic_auth().map(|(_, password)| password));
    Ok(Some(CallbackSpec { url: url.to_owned(), method, signing_key }))
}

pub(super) fn fetch(app: &App, key: &AccountKey, req: &Request, sid: &str) -> Result {
    let number = app.core.caller_id_number(key, sid).ok_or_else(|| TwilioError::not_found(&req.path))?;
    let caller = app.core.caller_id(key, &number).ok_or_else(|| TwilioError::not_found(&req.path))?;
    Ok(http::json(StatusCode::OK, &OutgoingCallerId::new(key, caller)))
}

pub(super) fn update(app: &App, key: &AccountKey, req: &Request, sid: &str) -> Result {
    let p = Params(http::form_pairs(&req.body));
    let label = p.get("FriendlyName").map(check_friendly_name).transpose()?.map(str::to_owned);
    let number = app.core.caller_id_number(key, sid).ok_or_else(|| TwilioError::not_found(&req.path))?;
    let caller = app.core.update_caller_id(key, &number, label, None).map_err(|e| core_error(e, &req.path))?;
    Ok(http::json(StatusCode::OK, &OutgoingCallerId::new(key, caller)))
}

pub(super) fn delete(app: &App, key: &AccountKey, req: &Request, sid: &str) -> Result {
    let number = app.core.caller_id_number(key, sid).ok_or_else(|| TwilioError::not_found(&req.path))?;
    app.core.delete_caller_id(key, &number).map_err(|e| core_error(e, &req.path))?;
    Ok(http::empty(StatusCode::NO_CONTENT, None))
}

/// Newest first; `PageToken=PA<sid>` continues after that record, `PB<sid>` ends before it,
/// otherwise `Page` × `PageSize` records are skipped.
pub(super) fn list(app: &App, key: &AccountKey, req: &Request) -> Result {
    let p = Params(req.query_pairs());
    let page_size = match p.get("PageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => s
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| TwilioError::bad_request(20007, "PageSize must be an integer between 1 and 1000"))?,
    };
    let page = match p.get("Page") {
        None => 0,
        Some(s) => s
            .trim()
            .parse::<usize>()
            .map_err(|_| TwilioError::bad_request(20001, "Page must be a non-negative integer"))?,
    };
    let phone_number = p.get("PhoneNumber");
    let friendly_name = p.get("FriendlyName");
    let matching: Vec<_> = app
        .core
        .caller_ids(key)
        .into_iter()
        .filter(|c| phone_number.is_none_or(|n| c.phone_number == n))
        .filter(|c| friendly_name.is_none_or(|n| c.label == n))
        .collect();
    let token = p.get("PageToken");
    let position = |sid: &str| matching.iter().position(|c| c.id == sid);
    let start = match token {
        Some(t) if t.starts_with("PA") => position(&t[2..]).map(|i| i + 1),
        Some(t) if t.starts_with("PB") => position(&t[2..]).map(|i| i.saturating_sub(page_size)),
        _ => None,
    }
    .unwrap_or(page.saturating_mul(page_size))
    .min(matching.len());
    let records: Vec<_> = matching[start..].iter().take(page_size).cloned().collect();

    let mut filters: Vec<(&str, &str)> = Vec::new();
    filters.extend(phone_number.map(|n| ("PhoneNumber", n)));
    filters.extend(friendly_name.map(|n| ("FriendlyName", n)));
    let base = format!("/2010-04-01/Accounts/{}/OutgoingCallerIds.json", key.account);
    let page_uri = |page: usize, token: Option<String>| {
        let mut q: Vec<(&str, String)> = filters.iter().map(|(k, v)| (*k, v.to_string())).collect();
        q.push(("PageSize", page_size.to_string()));
        q.push(("Page", page.to_string()));
        q.extend(token.map(|t| ("PageToken", t)));
        format!("{base}?{}", serde_urlencoded::to_string(&q).expect("pairs of strings encode"))
    };
    let more = start + records.len() < matching.len();
    let body = Page {
        end: start + records.len().saturating_sub(1),
        first_page_uri: page_uri(0, None),
        next_page_uri: (more && !records.is_empty())
            .then(|| page_uri(page + 1, records.last().map(|c| format!("PA{}", c.id)))),
        page,
        page_size,
        previous_page_uri: (page > 0).then(|| page_uri(page - 1, records.first().map(|c| format!("PB{}", c.id)))),
        start,
        uri: page_uri(page, token.map(str::to_owned)),
        outgoing_caller_ids: records.into_iter().map(|c| OutgoingCallerId::new(key, c)).collect(),
    };
    Ok(http::json(StatusCode::OK, &body))
}

fn core_error(e: CoreError, path: &str) -> TwilioError {
    match e {
        CoreError::NotFound => TwilioError::not_found(path),
        CoreError::AlreadyVerified => TwilioError::bad_request(
            21450,
            "You attempted to verify a phone number for your account, but that number is already verified for your account.",
        ),
        CoreError::LimitReached => TwilioError::bad_request(21452, "Caller ID limit reached for this account"),
        // Code checks belong to the validation call, never to these routes.
        other => TwilioError::bad_request(20001, format!("unexpected state: {other:?}")),
    }
}
