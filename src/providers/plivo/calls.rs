//! Plivo's Call API: make a call (`POST Call/`, 201 `call fired`), the record of one that
//! ended (`GET Call/{uuid}/`), a live one (`GET Call/{uuid}/?status=live`), the list of
//! records (`GET Call/`) and of live calls (`GET Call/?status=live`), hang up (`DELETE
//! Call/{uuid}/`), cancel a request (`DELETE Request/{uuid}/`) and transfer (`POST
//! Call/{uuid}/` with `aleg_url`). What each request carries is parsed once ([`Create`],
//! [`ListQuery`], [`Transfer`]). The call's `request_uuid` is also its `call_uuid`.

use std::time::Duration;

use hyper::StatusCode;

use super::SIGNING_KEY;
use super::call_wire::{Cdr, CdrList, Fired, LiveCall, LiveCalls, Transferred};
use super::error::PlivoError;
use super::params::Params;
use super::routes::Result;
use super::wire::Meta;
use crate::core::model::{AccountKey, Attributes, Call, CallState};
use crate::core::phone::{self, Number};
use crate::core::time::Timestamp;
use crate::core::{CallQuery, CallScope, Core, CoreError, HangUp, NewCall};
use crate::http;

/// A call rings this long unanswered by default (`ring_timeout`), and at most.
const DEFAULT_RING_TIMEOUT: u64 = 120;
const MAX_RING_TIMEOUT: u64 = 3600;
/// An answered call's limit by default (`time_limit`, four hours), and at most.
const DEFAULT_TIME_LIMIT: u64 = 14_400;
const MAX_TIME_LIMIT: u64 = 86_400;
/// Most records a list page may hold.
const MAX_LIMIT: usize = 20;

/// A call to make.
pub(super) struct Create {
    pub to: Number,
    from: Number,
    ring_timeout: u64,
    time_limit: u64,
    /// Every parameter the request gave (its URLs and methods…), kept with the call.
    attributes: Attributes,
}

impl Create {
    pub fn parse(p: Params) -> Result<Create> {
        let from = p.text("from").ok_or_else(|| bad("from is mandatory"))?;
        let to = p.joined("to", "<").ok_or_else(|| bad("to is mandatory"))?;
        if to.contains('<') {
            return Err(bad("the emulator places one call per request: to must name one number, not several"));
        }
        let answer_url = p.text("answer_url").ok_or_else(|| bad("answer_url is mandatory"))?;
        check_url("answer_url", &answer_url)?;
        for name in ["ring_url", "hangup_url", "fallback_url"] {
            if let Some(url) = p.text(name) {
                check_url(name, &url)?;
            }
        }
        for name in ["answer_method", "ring_method", "hangup_method", "fallback_method"] {
            method(&p, name)?;
        }
        let number = |name: &str, raw: &str| {
            phone::parse_international(raw).ok_or_else(|| bad(&format!("{name} number {raw} is not a valid phone number")))
        };
        let (from, to) = (number("from", &from)?, number("to", &to)?);
        let mut attributes = Attributes::default();
        for (name, value) in p.entries() {
            attributes.set(name, &value);
        }
        Ok(Create {
            from,
            to,
            ring_timeout: seconds(&p, "ring_timeout", DEFAULT_RING_TIMEOUT, MAX_RING_TIMEOUT)?,
            time_limit: seconds(&p, "time_limit", DEFAULT_TIME_LIMIT, MAX_TIME_LIMIT)?,
            attributes,
        })
    }
}

/// A transfer: the new answer URL of the call (`legs=aleg`, the only leg the emulator has).
pub(super) struct Transfer {
    url: String,
    method: &'static str,
}

impl Transfer {
    pub fn parse(p: Params) -> Result<Transfer> {
        if p.text("legs").is_some_and(|l| l != "aleg") {
            return Err(bad("the emulator's calls have one leg: legs must be aleg"));
        }
        let url = p.text("aleg_url").ok_or_else(|| bad("aleg_url is mandatory for legs aleg"))?;
        check_url("aleg_url", &url)?;
        Ok(Transfer { url, method: method(&p, "aleg_method")? })
    }
}

/// `GET Call/`: live calls (`status=live`) or the records of ended ones, a page of them.
pub(super) struct ListQuery {
    live: bool,
    limit: usize,
    offset: usize,
    from: Option<String>,
    to: Option<String>,
    /// `inbound` matches nothing: every call here is outbound.
    inbound: bool,
    /// `end_time`, `end_time__gt`…: the comparison and the time.
    end: Vec<(&'static str, Timestamp)>,
    hangup_cause_code: Option<u32>,
    hangup_source: Option<String>,
    /// The filters as given, for the page links.
    filters: Vec<(String, String)>,
}

impl ListQuery {
    pub fn parse(p: &Params) -> Result<ListQuery> {
        let limit = p.count("limit", MAX_LIMIT)?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad("The maximum number of results that can be fetched is 20. \
                limit can't be more than 20 or less than 1"));
        }
        let live = match p.text("status").as_deref() {
            None => false,
            Some("live") => true,
            Some(other) => return Err(bad(&format!("status {other} is not supported: live lists the live calls"))),
        };
        let inbound = match p.text("call_direction").as_deref() {
            None | Some("outbound") => false,
            Some("inbound") => true,
            Some(other) => return Err(bad(&format!("call_direction {other} is not one of inbound, outbound"))),
        };
        let mut end = Vec::new();
        for (name, op) in [("end_time", "="), ("end_time__gt", ">"), ("end_time__gte", ">="), ("end_time__lt", "<"), ("end_time__lte", "<=")] {
            if let Some(raw) = p.text(name) {
                end.push((op, plivo_time_parse(&raw).ok_or_else(|| bad(&format!("{name} {raw} is not YYYY-MM-DD HH:MM[:ss]")))?));
            }
        }
        let hangup_cause_code = p
            .text("hangup_cause_code")
            .map(|c| c.trim().parse::<u32>().map_err(|_| bad("hangup_cause_code must be an integer")))
            .transpose()?;
        let names = ["call_direction", "from_number", "to_number", "end_time", "end_time__gt", "end_time__gte"];
        let more = ["end_time__lt", "end_time__lte", "hangup_cause_code", "hangup_source", "status"];
        let filters = names.iter().chain(&more).filter_map(|n| Some(((*n).to_owned(), p.text(n)?))).collect();
        Ok(ListQuery {
            live,
            limit,
            offset: p.count("offset", 0)?,
            from: p.text("from_number").and_then(|n| phone::path_key(&n)),
            to: p.text("to_number").and_then(|n| phone::path_key(&n)),
            inbound,
            end,
            hangup_cause_code,
            hangup_source: p.text("hangup_source"),
            filters,
        })
    }

    fn keeps(&self, c: &Call) -> bool {
        let hangup = c.state.is_final().then(|| super::callback::hangup(c));
        !self.inbound
            && self.from.as_deref().is_none_or(|n| n == c.from)
            && self.to.as_deref().is_none_or(|n| n == c.to)
            && self.end.iter().all(|(op, t)| {
                c.ended_at.is_some_and(|at| match *op {
                    "=" => at == *t,
                    ">" => at > *t,
                    ">=" => at >= *t,
                    "<" => at < *t,
                    _ => at <= *t,
                })
            })
            && self.hangup_cause_code.is_none_or(|code| hangup.as_ref().is_some_and(|h| h.code == code))
            && self.hangup_source.as_deref().is_none_or(|s| hangup.as_ref().is_some_and(|h| h.source == s))
    }

    fn filtered(&self) -> bool {
        self.inbound
            || self.from.is_some()
            || self.to.is_some()
            || !self.end.is_empty()
            || self.hangup_cause_code.is_some()
            || self.hangup_source.is_some()
    }
}

/// Places the call, its webhooks signed with the account's token (or the password the
/// request authenticated with).
pub(super) fn create(core: &Core, key: &AccountKey, c: Create, password: String) -> Result {
    let mut attributes = c.attributes;
    attributes.set(SIGNING_KEY, &core.account_token(key).unwrap_or(password));
    let new = NewCall {
        key: key.clone(),
        id: core.ids().uuid_v4(),
        from: c.from,
        to: c.to,
        ring_timeout: Duration::from_secs(c.ring_timeout),
        time_limit: Some(Duration::from_secs(c.time_limit)),
        attributes,
    };
    let call = core.place_call(new)?;
    let body = Fired { message: "call fired", request_uuid: call.id, api_id: core.ids().uuid_v4() };
    Ok(http::json(StatusCode::CREATED, &body))
}

/// The record of a call that ended; with `status=live`, a live call. Either way, a call in the
/// other state is not found, as Plivo keeps the two apart.
pub(super) fn get(core: &Core, key: &AccountKey, uuid: &str, status: Option<&str>) -> Result {
    let call = core.call(key, uuid).ok_or(PlivoError::NotFound)?;
    let api_id = core.ids().uuid_v4();
    match status {
        None if call.state.is_final() => Ok(http::json(StatusCode::OK, &Cdr::new(Some(api_id), &call))),
        Some("live") if !call.state.is_final() => Ok(http::json(StatusCode::OK, &LiveCall::new(api_id, &call))),
        None | Some("live") => Err(PlivoError::NotFound),
        Some(other) => Err(bad(&format!("status {other} is not supported: live reads a live call"))),
    }
}

/// Newest first; `offset` costs O(offset). The records walk every call of the account,
/// stepping over the live ones; the live calls walk their own index.
pub(super) fn list(core: &Core, key: &AccountKey, q: &ListQuery) -> Result {
    let keep = |c: &Call| q.keeps(c);
    let query = CallQuery {
        scope: if q.live { CallScope::Live } else { CallScope::Ended },
        after: None,
        skip: q.offset,
        limit: q.limit,
        keep: q.filtered().then_some(&keep as &dyn Fn(&Call) -> bool),
        count: !q.live,
    };
    let page = core.calls(key, &query).unwrap_or_default();
    let api_id = core.ids().uuid_v4();
    if q.live {
        let calls = page.items.into_iter().map(|c| c.id).collect();
        return Ok(http::json(StatusCode::OK, &LiveCalls { api_id, calls }));
    }
    let (limit, offset, total_count) = (q.limit, q.offset, page.total);
    let page_uri = |offset: usize| {
        let base = format!("/v1/Account/{}/Call/?", key.account);
        let mut s = form_urlencoded::Serializer::for_suffix(base.clone(), base.len());
        s.append_pair("limit", &limit.to_string()).append_pair("offset", &offset.to_string());
        s.extend_pairs(q.filters.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        s.finish()
    };
    let meta = Meta {
        limit,
        next: (offset + limit < total_count).then(|| page_uri(offset + limit)),
        offset,
        previous: (offset > 0).then(|| page_uri(offset.saturating_sub(limit))),
        total_count,
    };
    let objects = page.items.iter().map(|c| Cdr::new(Some(api_id.clone()), c)).collect();
    Ok(http::json(StatusCode::OK, &CdrList { api_id, meta, objects }))
}

/// Hangs up a live call (an unanswered one is canceled); one that ended is not found.
pub(super) fn hang_up(core: &Core, key: &AccountKey, uuid: &str, how: HangUp) -> Result {
    let live = core.call(key, uuid).is_some_and(|c| !c.state.is_final());
    if !live {
        return Err(PlivoError::NotFound);
    }
    core.hang_up(key, uuid, how)?;
    Ok(http::empty(StatusCode::NO_CONTENT, Some("application/json")))
}

/// Sends a live call to a new answer URL, read at once if it is answered.
pub(super) fn transfer(core: &Core, key: &AccountKey, uuid: &str, t: Transfer) -> Result {
    let attributes = [("answer_url", t.url.as_str()), ("answer_method", t.method)];
    core.redirect_call(key, uuid, &attributes).map_err(|e| match e {
        CoreError::CallEnded => PlivoError::NotFound,
        e => PlivoError::Core(e),
    })?;
    let body = Transferred { message: "call transfered", api_id: core.ids().uuid_v4() };
    Ok(http::json(StatusCode::ACCEPTED, &body))
}

/// A call's state as Plivo's live call reads it.
pub(super) fn live_status(state: CallState) -> &'static str {
    match state {
        CallState::Queued => "queued",
        CallState::Ringing => "ringing",
        _ => "in-progress",
    }
}

/// `2026-01-01 00:00` or `2026-01-01 00:00:00[.ffffff]`, UTC.
fn plivo_time_parse(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    let with_seconds = if raw.len() == 16 { format!("{raw}:00") } else { raw.to_owned() };
    Timestamp::parse_rfc3339(&format!("{with_seconds}Z"))
}

/// `GET` or `POST` (any case; `POST` when absent).
fn method(p: &Params, name: &str) -> Result<&'static str> {
    match p.text(name).map(|m| m.to_ascii_uppercase()).as_deref() {
        None | Some("POST") => Ok("POST"),
        Some("GET") => Ok("GET"),
        Some(other) => Err(bad(&format!("{name} {other} is not one of GET, POST"))),
    }
}

/// A whole number of seconds from 1 to `max` (`default` when absent).
fn seconds(p: &Params, name: &str, default: u64, max: u64) -> Result<u64> {
    match p.text(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| bad(&format!("{name} must be an integer from 1 to {max}, not {raw}"))),
    }
}

fn check_url(name: &str, url: &str) -> Result<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://")) && url.parse::<hyper::Uri>().is_ok();
    if ok { Ok(()) } else { Err(bad(&format!("{name} {url} is not a valid http(s) URL"))) }
}

fn bad(text: &str) -> PlivoError {
    PlivoError::BadRequest(text.to_owned())
}
