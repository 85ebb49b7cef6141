//! The Calls resource: place a call (`POST Calls.json`), read one, list them with Twilio's
//! filters and paging, hang up, cancel or redirect one (`POST Calls/{Sid}.json`), delete the
//! record of one that ended. What each request carries is parsed once ([`Create`], [`Query`],
//! [`Update`]); a call's `From` must be a verified caller ID of the account or a number it owns.

use std::time::Duration;

use hyper::{Method, StatusCode};

use super::callback::EVENTS;
use super::error::RestError;
use super::wire::{CallResource, CallsPage};
use super::{Dialect, SIGNING_KEY, invalid_token};
use crate::core::model::{AccountKey, Attributes, Call, CallState};
use crate::core::phone::{self, Number};
use crate::core::time::Timestamp;
use crate::core::{CallQuery, CallScope, Core, CoreError, HangUp, NewCall};
use crate::http::{self, Pairs, Request, Response};

type Result<T = Response> = std::result::Result<T, RestError>;

/// One call operation of the dialect, with everything its request carries, parsed and checked
/// (a request that is not valid carries its error).
pub(crate) enum CallOp<'a> {
    Create(Result<Create>),
    List(Result<Query>),
    Fetch { sid: &'a str },
    Update { sid: &'a str, update: Result<Update> },
    Delete { sid: &'a str },
}

impl<'a> CallOp<'a> {
    /// The operation `rest` (the segments after `Accounts/{Sid}`) names, if it is a call's:
    /// `Calls[.json]` and `Calls/{CallSid}[.json]` (the format is for the caller to check).
    pub fn route(req: &Request, rest: &[&'a str]) -> Option<Result<CallOp<'a>>> {
        let not_allowed = || Some(Err(RestError::method_not_allowed()));
        Some(Ok(match rest {
            [last] if matches!(*last, "Calls" | "Calls.json" | "Calls.xml" | "Calls.csv") => match req.method {
                Method::POST => CallOp::Create(Create::parse(&Pairs::form(&req.body))),
                Method::GET => CallOp::List(Query::parse(&req.query_pairs())),
                _ => return not_allowed(),
            },
            ["Calls", sid] => {
                let sid = sid.rsplit_once('.').map_or(*sid, |(sid, _)| sid);
                match req.method {
                    Method::GET => CallOp::Fetch { sid },
                    Method::POST => CallOp::Update { sid, update: Update::parse(&Pairs::form(&req.body)) },
                    Method::DELETE => CallOp::Delete { sid },
                    _ => return not_allowed(),
                }
            }
            _ => return None,
        }))
    }

    /// Its name in fault rules and the journal.
    pub fn name(&self) -> &'static str {
        match self {
            CallOp::Create(_) => "create_call",
            CallOp::List(_) => "list_calls",
            CallOp::Fetch { .. } => "fetch_call",
            CallOp::Update { .. } => "update_call",
            CallOp::Delete { .. } => "delete_call",
        }
    }

    /// The number it calls, for fault rules.
    pub fn number(&self) -> Option<String> {
        match self {
            CallOp::Create(Ok(create)) => Some(create.to.e164.clone()),
            _ => None,
        }
    }

    /// Applies it for `key` (`password`: what the request authenticated with, which signs the
    /// call's webhooks unless the account has a token) and renders the answer.
    pub fn apply(self, d: &Dialect, core: &Core, key: &AccountKey, path: &str, password: String) -> Result {
        match self {
            CallOp::Create(c) => create(d, core, key, path, c?, password),
            CallOp::List(q) => list(d, core, key, &q?),
            CallOp::Fetch { sid } => fetch(d, core, key, path, sid),
            CallOp::Update { sid, update } => self::update(d, core, key, path, sid, update?),
            CallOp::Delete { sid } => delete(d, core, key, path, sid),
        }
    }
}

/// How long a call rings by default, and the most `Timeout` may ask for.
const DEFAULT_TIMEOUT: u64 = 60;
const MAX_TIMEOUT: u64 = 600;
/// A call's time limit by default (four hours), and the most `TimeLimit` may ask for.
const DEFAULT_TIME_LIMIT: u64 = 4 * 3600;
const MAX_TIME_LIMIT: u64 = 24 * 3600;

/// A call to place.
pub(crate) struct Create {
    pub to: Number,
    pub from: Number,
    timeout: u64,
    time_limit: u64,
    /// Every parameter the request gave, kept with the call (its `Url`, `Twiml`, callbacks…).
    attributes: Attributes,
}

impl Create {
    pub fn parse(p: &Pairs) -> Result<Create> {
        let to = p.get("To").filter(|s| !s.trim().is_empty());
        let to = to.ok_or_else(|| RestError::bad_request(21201, "No 'To' number is specified"))?;
        let from = p.get("From").filter(|s| !s.trim().is_empty());
        let from = from.ok_or_else(|| RestError::bad_request(21213, "No 'From' number is specified"))?;
        let (url, twiml, app) = (p.get("Url"), p.get("Twiml"), p.get("ApplicationSid"));
        if url.is_none() && twiml.is_none() && app.is_none() {
            return Err(RestError::bad_request(
                21205,
                "Url parameter is required. Please provide a 'Url', 'Twiml' or 'ApplicationSid'.",
            ));
        }
        if let Some(url) = url.filter(|_| twiml.is_none()) {
            check_url(url, 21205, "Url")?;
        }
        let to = phone::parse_international(to)
            .ok_or_else(|| RestError::bad_request(21211, format!("Invalid 'To' Phone Number: {to}")))?;
        let from = phone::parse_international(from)
            .ok_or_else(|| RestError::bad_request(21212, format!("Invalid 'From' Phone Number: {from}")))?;
        for name in ["Method", "FallbackMethod", "StatusCallbackMethod"] {
            if let Some(m) = p.get(name).filter(|m| !matches!(m.to_ascii_uppercase().as_str(), "GET" | "POST")) {
                return Err(RestError::bad_request(22106, format!("{name} must be GET or POST, not {m}")));
            }
        }
        if let Some(cb) = p.get("StatusCallback").filter(|u| !u.is_empty()) {
            check_url(super::callback::overrides(cb).0, 21609, "StatusCallback")?;
        }
        let events: Vec<&str> = p.all("StatusCallbackEvent").flat_map(|e| e.split_whitespace()).collect();
        if let Some(bad) = events.iter().find(|e| !EVENTS.contains(e)) {
            return Err(RestError::bad_request(
                21626,
                format!("Invalid StatusCallbackEvent: {bad}. Allowed values are {}", EVENTS.join(", ")),
            ));
        }
        let timeout = seconds(p, "Timeout", DEFAULT_TIMEOUT, MAX_TIMEOUT)?;
        let time_limit = seconds(p, "TimeLimit", DEFAULT_TIME_LIMIT, MAX_TIME_LIMIT)?;
        let mut attributes = Attributes::default();
        for (name, value) in p.iter().filter(|(name, _)| *name != "StatusCallbackEvent") {
            if attributes.get(name).is_none() {
                attributes.set(name, value);
            }
        }
        attributes.set("StatusCallbackEvent", &events.join(" "));
        Ok(Create { to, from, timeout, time_limit, attributes })
    }
}

/// A whole number of seconds from 1 to `max` (`default` when absent).
fn seconds(p: &Pairs, name: &str, default: u64, max: u64) -> Result<u64> {
    match p.get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse::<u64>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
            RestError::bad_request(21218, format!("{name} must be an integer between 1 and {max}, not {raw}"))
        }),
    }
}

/// An absolute `http(s)` URL, or the error `code` naming `name`.
fn check_url(url: &str, code: u32, name: &str) -> Result<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://")) && url.parse::<hyper::Uri>().is_ok();
    if ok { Ok(()) } else { Err(RestError::bad_request(code, format!("The {name} {url} is not a valid URL."))) }
}

/// What `POST Calls/{Sid}.json` asks for: a new status (hang up or cancel), a new document to
/// run, or both.
pub(crate) struct Update {
    status: Option<HangUp>,
    /// `Url`, `Method`, `Twiml`, `StatusCallback`… as given.
    redirect: Vec<(String, String)>,
}

impl Update {
    pub fn parse(p: &Pairs) -> Result<Update> {
        let status = match p.get("Status") {
            None => None,
            Some("completed") => Some(HangUp::Complete),
            Some("canceled") => Some(HangUp::Cancel),
            Some(other) => {
                return Err(RestError::bad_request(
                    21218,
                    format!("Status must be completed or canceled, not {other}"),
                ));
            }
        };
        if let Some(url) = p.get("Url").filter(|_| p.get("Twiml").is_none()) {
            check_url(url, 21205, "Url")?;
        }
        let names =
            ["Url", "Method", "Twiml", "FallbackUrl", "FallbackMethod", "StatusCallback", "StatusCallbackMethod"];
        let mut redirect: Vec<(String, String)> =
            names.iter().filter_map(|n| p.get(n).map(|v| ((*n).to_owned(), v.to_owned()))).collect();
        // A new document replaces the old one, whichever way the call was placed: the absent
        // one of `Url` and `Twiml` is cleared.
        match (p.get("Url").is_some(), p.get("Twiml").is_some()) {
            (true, false) => redirect.push(("Twiml".to_owned(), String::new())),
            (false, true) => redirect.push(("Url".to_owned(), String::new())),
            _ => {}
        }
        Ok(Update { status, redirect })
    }
}

/// A list request: the filters, in the order given, and the page.
pub(crate) struct Query {
    page_size: usize,
    page: usize,
    /// `PageToken=PA<sid>` continues after that call.
    after: Option<String>,
    token: Option<String>,
    filters: Vec<(String, String)>,
    to: Option<String>,
    from: Option<String>,
    status: Option<CallState>,
    /// `StartTime`, `StartTime<`, `StartTime>` (and `EndTime…`): the day, on or before, on or
    /// after, each a time (the day's start) and whether the comparison is on the whole day.
    start: Vec<(char, Timestamp)>,
    end: Vec<(char, Timestamp)>,
}

impl Query {
    pub fn parse(p: &Pairs) -> Result<Query> {
        let (page_size, page) = super::page(p)?;
        let token = p.get("PageToken").filter(|t| !t.is_empty()).map(str::to_owned);
        let after = match &token {
            None => None,
            Some(t) => match super::PageToken::parse(t) {
                Some(super::PageToken::After(sid)) => Some(sid),
                _ => return Err(invalid_token()),
            },
        };
        let number = |name: &str| -> Result<Option<String>> {
            p.get(name)
                .map(|raw| {
                    phone::parse_international(raw)
                        .map(|n| n.e164)
                        .ok_or_else(|| RestError::bad_request(21211, format!("Invalid '{name}' Phone Number: {raw}")))
                })
                .transpose()
        };
        let status = p
            .get("Status")
            .map(|s| CallState::parse(s).ok_or_else(|| RestError::bad_request(20001, format!("Invalid Status: {s}"))))
            .transpose()?;
        let times = |name: &str| -> Result<Vec<(char, Timestamp)>> {
            let mut out = Vec::new();
            for (suffix, op) in [("", '='), ("<", '<'), (">", '>')] {
                if let Some(raw) = p.get(&format!("{name}{suffix}")) {
                    let at = day_or_time(raw)
                        .ok_or_else(|| RestError::bad_request(20001, format!("Invalid {name}{suffix}: {raw}")))?;
                    out.push((op, at));
                }
            }
            Ok(out)
        };
        let paging = ["PageSize", "Page", "PageToken"];
        Ok(Query {
            page_size,
            page,
            after,
            token,
            filters: p.iter().filter(|(k, _)| !paging.contains(k)).map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            to: number("To")?,
            from: number("From")?,
            status,
            start: times("StartTime")?,
            end: times("EndTime")?,
        })
    }

    fn keeps(&self, c: &Call) -> bool {
        let started = c.timeline.iter().find(|(s, _)| *s == CallState::Ringing).map(|(_, at)| *at);
        let on = |rules: &[(char, Timestamp)], at: Option<Timestamp>| {
            rules.iter().all(|(op, day)| {
                let Some(at) = at else { return false };
                let next_day = day.saturating_add(Duration::from_secs(86_400));
                match op {
                    '=' => *day <= at && at < next_day,
                    '<' => at < next_day,
                    _ => at >= *day,
                }
            })
        };
        self.to.as_deref().is_none_or(|to| to == c.to)
            && self.from.as_deref().is_none_or(|from| from == c.from)
            && self.status.is_none_or(|s| s == c.state)
            && on(&self.start, started)
            && on(&self.end, c.ended_at)
    }

    fn filtered(&self) -> bool {
        self.to.is_some()
            || self.from.is_some()
            || self.status.is_some()
            || !self.start.is_empty()
            || !self.end.is_empty()
    }
}

/// `2026-01-01` (that day) or an RFC 3339 time.
fn day_or_time(raw: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(raw).or_else(|| Timestamp::parse_rfc3339(&format!("{raw}T00:00:00Z")))
}

/// Places the call, its callbacks signed with the account's token (or the password the request
/// authenticated with).
pub(crate) fn create(d: &Dialect, core: &Core, key: &AccountKey, path: &str, c: Create, password: String) -> Result {
    let mut attributes = c.attributes;
    attributes.set(SIGNING_KEY, &core.account_token(key).unwrap_or(password));
    let from = c.from.e164.clone();
    let new = NewCall {
        key: key.clone(),
        id: core.ids().sid("CA"),
        from: c.from,
        to: c.to,
        ring_timeout: Duration::from_secs(c.timeout),
        time_limit: Some(Duration::from_secs(c.time_limit)),
        attributes,
    };
    let call = core.place_call(new).map_err(|e| match e {
        CoreError::CallerIdNotAllowed => RestError::unverified_from(d, Some(&from)),
        e => RestError::core(d, e, path),
    })?;
    Ok(http::json(StatusCode::CREATED, &CallResource::new(d.root, &call)))
}

pub(crate) fn fetch(d: &Dialect, core: &Core, key: &AccountKey, path: &str, sid: &str) -> Result {
    let call = core.call(key, sid).ok_or_else(|| RestError::not_found(path))?;
    Ok(http::json(StatusCode::OK, &CallResource::new(d.root, &call)))
}

pub(crate) fn update(d: &Dialect, core: &Core, key: &AccountKey, path: &str, sid: &str, u: Update) -> Result {
    let mut call = None;
    if !u.redirect.is_empty() {
        let pairs: Vec<(&str, &str)> = u.redirect.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        call = Some(core.redirect_call(key, sid, &pairs).map_err(|e| RestError::core(d, e, path))?);
    }
    if let Some(how) = u.status {
        call = Some(core.hang_up(key, sid, how).map_err(|e| RestError::core(d, e, path))?);
    }
    let call = match call {
        Some(call) => call,
        None => core.call(key, sid).ok_or_else(|| RestError::not_found(path))?,
    };
    Ok(http::json(StatusCode::OK, &CallResource::new(d.root, &call)))
}

pub(crate) fn delete(d: &Dialect, core: &Core, key: &AccountKey, path: &str, sid: &str) -> Result {
    core.delete_call(key, sid).map_err(|e| RestError::core(d, e, path))?;
    Ok(http::empty(StatusCode::NO_CONTENT, None))
}

/// Newest first. `PageToken=PA<sid>` continues after that call in O(page); `Page` × `PageSize`
/// calls are skipped otherwise; a filter walks the account's calls until the page is full.
pub(crate) fn list(d: &Dialect, core: &Core, key: &AccountKey, q: &Query) -> Result {
    let (page, page_size) = (q.page, q.page_size);
    let keep = |c: &Call| q.keeps(c);
    let query = CallQuery {
        scope: CallScope::All,
        after: q.after.as_deref(),
        skip: if q.after.is_some() { 0 } else { page.saturating_mul(page_size) },
        limit: page_size,
        keep: q.filtered().then_some(&keep as &dyn Fn(&Call) -> bool),
        count: false,
    };
    let found = core.calls(key, &query).ok_or_else(invalid_token)?;
    let base = format!("{}/Accounts/{}/Calls.json?", d.root, key.account);
    let page_uri = |page: usize, token: Option<&str>| {
        let mut uri = String::with_capacity(base.len() + 96);
        uri.push_str(&base);
        let mut s = form_urlencoded::Serializer::for_suffix(uri, base.len());
        s.extend_pairs(q.filters.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        s.append_pair("PageSize", &page_size.to_string()).append_pair("Page", &page.to_string());
        if let Some(token) = token {
            s.append_pair("PageToken", token);
        }
        s.finish()
    };
    let first = page * page_size;
    let calls: Vec<CallResource> = found.items.iter().map(|c| CallResource::new(d.root, c)).collect();
    let next_token = found.items.last().map(|c| format!("PA{}", c.id));
    let body = CallsPage {
        end: first + calls.len().saturating_sub(1),
        first_page_uri: page_uri(0, None),
        next_page_uri: found.more.then(|| page_uri(page + 1, next_token.as_deref())),
        page,
        page_size,
        previous_page_uri: (page > 0).then(|| page_uri(page - 1, None)),
        start: first,
        uri: page_uri(page, q.token.as_deref()),
        calls,
    };
    Ok(http::json(StatusCode::OK, &body))
}
