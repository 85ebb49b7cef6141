//! seven's Voice API, the step `validate_for_voice` is for: `POST /api/voice` (`to`, comma
//! separated, `text`, `from`, `ringtime`) places a text-to-speech call to each recipient from a
//! caller ID the account validated (or a number it owns), `POST /api/voice/{id}/hangup` ends an
//! answered one, and `GET /api/journal/voice` (or `/api/journal?type=voice`) lists them with
//! their status. Request-level
//! errors are the gateway's bare codes (`301` no `to`, `305` no `text`, `306` a sender that is
//! not allowed), which the SDKs raise; a recipient that is not a number fails in its message.

use std::time::Duration;

use hyper::StatusCode;
use serde::Serialize;

use super::routes::parse_number;
use super::{NAME, auth, params};
use crate::core::model::{AccountKey, Attributes, Call, CallState};
use crate::core::phone::Number;
use crate::core::{CallQuery, CallScope, Core, CoreError, HangUp, NewCall};
use crate::http::{self, Pairs, Request, Response};

/// How long a call rings by default (`ringtime`), and the range seven allows.
const DEFAULT_RINGTIME: u64 = 30;
const RINGTIME: std::ops::RangeInclusive<u64> = 5..=60;
/// Most recipients of one request, and most entries of a journal page.
const MAX_RECIPIENTS: usize = 100;
const MAX_JOURNAL: usize = 100;

/// A request-level error: the gateway's bare code.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Code(pub u16);

impl Code {
    pub fn render(&self) -> Response {
        http::json_bytes(StatusCode::OK, self.0.to_string().into_bytes())
    }
}

/// A voice request.
pub(super) struct Voice {
    /// Each recipient as given, and as read.
    to: Vec<(String, Option<Number>)>,
    text: String,
    from: Number,
    ringtime: u64,
    foreign_id: Option<String>,
}

impl Voice {
    pub fn parse(params: &Pairs, region: phonenumber::country::Id) -> Result<Voice, Code> {
        let to = params.get("to").ok_or(Code(301))?;
        let to: Vec<(String, Option<Number>)> = to
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| (t.to_owned(), parse_number(t, region)))
            .collect();
        if to.is_empty() {
            return Err(Code(301));
        }
        if to.len() > MAX_RECIPIENTS {
            return Err(Code(202));
        }
        let text = params.get("text").ok_or(Code(305))?.to_owned();
        // The emulator has no number of seven's own to call from: `from` is required.
        let from = params.get("from").and_then(|f| parse_number(f, region)).ok_or(Code(306))?;
        let ringtime = match params.get("ringtime") {
            None => DEFAULT_RINGTIME,
            Some(raw) => raw.trim().parse().ok().filter(|r| RINGTIME.contains(r)).ok_or(Code(202))?,
        };
        Ok(Voice { to, text, from, ringtime, foreign_id: params.get("foreign_id").map(str::to_owned) })
    }

    /// The first valid recipient, for fault rules.
    pub fn number(&self) -> Option<String> {
        self.to.iter().find_map(|(_, n)| n.as_ref().map(|n| n.e164.clone()))
    }
}

/// `POST /api/voice`
#[derive(Serialize)]
struct VoiceResponse {
    success: &'static str,
    total_price: f64,
    balance: f64,
    debug: bool,
    messages: Vec<VoiceMessage>,
}

#[derive(Serialize)]
struct VoiceMessage {
    id: Option<u64>,
    sender: String,
    recipient: String,
    text: String,
    price: f64,
    success: bool,
    error: Option<String>,
    error_text: Option<String>,
}

/// Places a call to each valid recipient; the answer lists one message per recipient.
pub(super) fn voice(core: &Core, key: &AccountKey, v: Voice) -> Result<Response, Code> {
    let sender = digits(&v.from.e164);
    let mut messages = Vec::with_capacity(v.to.len());
    for (raw, number) in v.to {
        let message = |id, error: Option<(&str, &str)>| VoiceMessage {
            id,
            sender: sender.clone(),
            recipient: number.as_ref().map_or(raw.clone(), |n| digits(&n.e164)),
            text: v.text.clone(),
            price: 0.0,
            success: error.is_none(),
            error: error.map(|(code, _)| code.to_owned()),
            error_text: error.map(|(_, text)| text.to_owned()),
        };
        let Some(number) = number.clone() else {
            messages.push(message(None, Some(("202", "Invalid recipient number"))));
            continue;
        };
        let mut attributes = Attributes::default();
        attributes.set("text", &v.text);
        attributes.set("foreign_id", v.foreign_id.as_deref().unwrap_or_default());
        let id = core.ids().below(9_000_000_000) + 1_000_000_000;
        let new = NewCall {
            key: key.clone(),
            id: id.to_string(),
            from: v.from.clone(),
            to: number,
            ring_timeout: Duration::from_secs(v.ringtime),
            time_limit: None,
            attributes,
        };
        match core.place_call(new) {
            Ok(_) => messages.push(message(Some(id), None)),
            Err(CoreError::CallerIdNotAllowed) => return Err(Code(306)),
            Err(e) => messages.push(message(None, Some(("700", &super::error::core_text(&e))))),
        }
    }
    let success = if messages.iter().all(|m| m.success) { "100" } else { "101" };
    let body = VoiceResponse { success, total_price: 0.0, balance: 0.0, debug: false, messages };
    Ok(http::json(StatusCode::OK, &body))
}

/// `POST /api/voice/{id}/hangup`: ends an answered call.
#[derive(Serialize)]
struct HungUp {
    success: bool,
    error: Option<String>,
}

pub(super) fn hang_up(core: &Core, key: &AccountKey, id: &str) -> Response {
    let result = match core.call(key, id) {
        None => Err("The call does not exist".to_owned()),
        Some(c) if c.state != CallState::InProgress => Err(format!("The call is {}, not in-progress", c.state.as_str())),
        Some(_) => core.hang_up(key, id, HangUp::Complete).map(|_| ()).map_err(|e| super::error::core_text(&e)),
    };
    let body = match result {
        Ok(()) => HungUp { success: true, error: None },
        Err(error) => HungUp { success: false, error: Some(error) },
    };
    http::json(StatusCode::OK, &body)
}

/// `GET /api/journal/voice`: the account's calls, newest first.
pub(super) struct Journal {
    id: Option<String>,
    to: Option<String>,
    state: Option<String>,
    limit: usize,
    offset: usize,
}

impl Journal {
    pub fn parse(params: &Pairs, region: phonenumber::country::Id) -> Journal {
        let count = |name: &str, default: usize| params.get(name).and_then(|v| v.trim().parse().ok()).unwrap_or(default);
        Journal {
            id: params.get("id").map(str::to_owned),
            to: params.get("to").and_then(|t| parse_number(t, region)).map(|n| n.e164),
            state: params.get("state").map(str::to_owned),
            limit: count("limit", MAX_JOURNAL).clamp(1, MAX_JOURNAL),
            offset: count("offset", 0),
        }
    }
}

#[derive(Serialize)]
struct JournalVoice {
    from: String,
    id: String,
    price: &'static str,
    text: String,
    timestamp: String,
    to: String,
    duration: String,
    error: String,
    status: &'static str,
    xml: bool,
}

pub(super) fn journal(core: &Core, key: &AccountKey, j: &Journal) -> Response {
    let items: Vec<Call> = match &j.id {
        Some(id) => core.call(key, id).into_iter().collect(),
        None => {
            let keep = |c: &Call| {
                j.to.as_deref().is_none_or(|to| to == c.to) && j.state.as_deref().is_none_or(|s| s == c.state.as_str())
            };
            let filtered = j.to.is_some() || j.state.is_some();
            let query = CallQuery {
                scope: CallScope::All,
                after: None,
                skip: j.offset,
                limit: j.limit,
                keep: filtered.then_some(&keep as &dyn Fn(&Call) -> bool),
                count: false,
            };
            core.calls(key, &query).unwrap_or_default().items
        }
    };
    let now = core.clock().now();
    let entries: Vec<JournalVoice> = items
        .iter()
        .map(|c| JournalVoice {
            from: digits(&c.from),
            id: c.id.clone(),
            price: "0",
            text: c.attributes.get("text").unwrap_or_default().to_owned(),
            timestamp: seven_time(c.created_at),
            to: digits(&c.to),
            duration: c.talk_time(now).as_secs().to_string(),
            error: c.error.as_ref().map(|e| e.code.clone()).unwrap_or_default(),
            status: c.state.as_str(),
            xml: false,
        })
        .collect();
    http::json(StatusCode::OK, &entries)
}

/// The operation a voice path names, parsed.
pub(super) enum Op {
    Voice(Result<Voice, Code>),
    HangUp(String),
    Journal(Journal),
}

impl Op {
    /// The operation `rest` names (`None`: not a voice path), and the request's API key.
    pub fn route(req: &Request, rest: &[&str], region: phonenumber::country::Id) -> Option<(Op, Option<String>)> {
        let params = params::read(req);
        let op = match rest {
            ["voice"] => Op::Voice(Voice::parse(&params, region)),
            ["voice", id, "hangup"] => Op::HangUp((*id).to_owned()),
            ["journal", "voice"] => Op::Journal(Journal::parse(&params, region)),
            // The older form, as the Python SDK sends it.
            ["journal"] if params.get("type") == Some("voice") => Op::Journal(Journal::parse(&params, region)),
            _ => return None,
        };
        Some((op, auth::api_key(req, &params)))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Op::Voice(_) => "voice",
            Op::HangUp(_) => "voice_hangup",
            Op::Journal(_) => "journal_voice",
        }
    }

    pub fn number(&self) -> Option<String> {
        match self {
            Op::Voice(Ok(v)) => v.number(),
            _ => None,
        }
    }

    pub fn run(self, core: &Core, api_key: &str) -> Response {
        let key = AccountKey::new(NAME, api_key);
        match self {
            Op::Voice(v) => v.and_then(|v| voice(core, &key, v)).unwrap_or_else(|code| code.render()),
            Op::HangUp(id) => hang_up(core, &key, &id),
            Op::Journal(j) => journal(core, &key, &j),
        }
    }
}

/// An E.164 number without its `+`, as seven writes numbers.
fn digits(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

/// `2026-01-01 00:00:00` (UTC).
fn seven_time(t: crate::core::time::Timestamp) -> String {
    let rfc = t.rfc3339_nanos();
    format!("{} {}", &rfc[..10], &rfc[11..19])
}
