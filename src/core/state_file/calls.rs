//! A call as the state file writes it: every field, times in RFC 3339, durations in seconds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{attribute_map, number, time};
use crate::core::model::{AccountKey, Attributes, Call, CallError, CallState, EndedBy};
use crate::core::time::Timestamp;

#[derive(Debug, Deserialize, Serialize)]
pub struct CallRecord {
    /// Creation order across the whole state; by `created_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub id: String,
    pub from: String,
    pub to: String,
    #[serde(default = "completed")]
    pub state: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub rings_at: Option<String>,
    #[serde(default = "sixty")]
    pub ring_timeout_s: u64,
    #[serde(default)]
    pub answers_at: Option<String>,
    #[serde(default)]
    pub answered_at: Option<String>,
    #[serde(default)]
    pub time_limit_s: Option<u64>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
    /// Who or what ended it: `application`, `callee`, `ring-timeout`, `time-limit`, `provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub error: Option<ErrorRecord>,
    #[serde(default)]
    pub timeline: Vec<MoveRecord>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ErrorRecord {
    pub code: String,
    pub message: String,
}

/// One state of a call's timeline, and since when.
#[derive(Debug, Deserialize, Serialize)]
pub struct MoveRecord {
    pub state: String,
    pub at: String,
}

fn completed() -> String {
    "completed".into()
}

fn sixty() -> u64 {
    60
}

fn state(s: &str) -> Result<CallState, String> {
    CallState::parse(s).ok_or_else(|| format!("call state {s:?} is unknown"))
}

pub(super) fn call_record(c: &Call) -> CallRecord {
    let ts = Timestamp::rfc3339_nanos;
    CallRecord {
        seq: Some(c.seq),
        id: c.id.clone(),
        from: c.from.clone(),
        to: c.to.clone(),
        state: c.state.as_str().to_owned(),
        created_at: Some(ts(c.created_at)),
        rings_at: Some(ts(c.rings_at)),
        ring_timeout_s: c.ring_timeout.as_secs(),
        answers_at: c.answers_at.map(ts),
        answered_at: c.answered_at.map(ts),
        time_limit_s: c.time_limit.map(|d| d.as_secs()),
        ends_at: c.ends_at.map(ts),
        ended_at: c.ended_at.map(ts),
        ended_by: c.ended_by.map(|b| b.as_str().to_owned()),
        attributes: attribute_map(&c.attributes),
        error: c.error.as_ref().map(|e| ErrorRecord { code: e.code.clone(), message: e.message.clone() }),
        timeline: c.timeline.iter().map(|(s, at)| MoveRecord { state: s.as_str().to_owned(), at: ts(*at) }).collect(),
    }
}

pub(super) fn call_from(key: &AccountKey, c: CallRecord, now: Timestamp) -> Result<Call, String> {
    let created_at = time(&c.created_at, "created_at")?.unwrap_or(now);
    let state = state(&c.state)?;
    let mut attributes = Attributes::default();
    for (k, v) in c.attributes {
        attributes.set(&k, &v);
    }
    let timeline = match c.timeline.is_empty() {
        true => vec![(state, created_at)],
        false => c
            .timeline
            .into_iter()
            .map(|m| Ok((self::state(&m.state)?, time(&Some(m.at), "timeline.at")?.unwrap_or(created_at))))
            .collect::<Result<Vec<_>, String>>()?,
    };
    let ended_at = time(&c.ended_at, "ended_at")?;
    Ok(Call {
        seq: c.seq.unwrap_or(u64::MAX),
        key: key.clone(),
        id: c.id,
        from: number(&c.from)?.e164,
        to: number(&c.to)?.e164,
        state,
        created_at,
        rings_at: time(&c.rings_at, "rings_at")?.unwrap_or(created_at),
        ring_timeout: Duration::from_secs(c.ring_timeout_s),
        answers_at: time(&c.answers_at, "answers_at")?,
        answered_at: time(&c.answered_at, "answered_at")?,
        time_limit: c.time_limit_s.map(Duration::from_secs),
        ends_at: time(&c.ends_at, "ends_at")?,
        ended_at: ended_at.or(state.is_final().then_some(now)),
        ended_by: c
            .ended_by
            .map(|b| EndedBy::parse(&b).ok_or_else(|| format!("call ended_by {b:?} is unknown")))
            .transpose()?,
        attributes,
        error: c.error.map(|e| CallError { code: e.code, message: e.message }),
        timeline,
    })
}

/// A call as one line of the state file's change log.
pub fn call_json(c: &Call) -> serde_json::Value {
    serde_json::to_value(call_record(c)).expect("a call serializes")
}

/// Reads back what [`call_json`] wrote.
pub fn call_from_json(key: &AccountKey, value: serde_json::Value) -> Result<Call, String> {
    let c: CallRecord = serde_json::from_value(value).map_err(|e| e.to_string())?;
    call_from(key, c, Timestamp::from_nanos(0))
}
