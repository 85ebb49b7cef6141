//! The state file format: what `--fixtures FILE` loads, `GET /_mock/state` exports and
//! `PUT /_mock/state` imports. Provider-neutral JSON:
//!
//! ```json
//! {"clock": {"now": "2026-01-01T00:00:00Z", "frozen": true},
//!  "accounts": [{"provider": "plivo", "account": "MAXXXXXXXXXXXXXXXXXX", "auth_token": "token123",
//!    "caller_ids": [{"phone_number": "+12025551234", "label": "Office"}],
//!    "verifications": [{"id": "…", "phone_number": "+14155552671", "code": "123456", "state": "pending", …}]}]}
//! ```
//! `accounts` is required (an empty object is not a state); in it only `provider`, `account`
//! and each entry's `phone_number` (and a verification's `id` and `code`) are. Keys starting
//! with `_` are comments. On a caller ID or verification, any other key with a text value is an
//! attribute of that name (as files written before `attributes` existed have them); other
//! unknown keys are ignored.

mod calls;
mod export;
mod import;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    AccountKey, Attributes, CallStatus, CallbackSpec, CallerId, Channel, EnteredBy, Verification, VerificationState,
};
use super::phone;
use super::time::Timestamp;

pub use calls::{CallRecord, call_from_json, call_json};
pub use export::ExportWriter;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct StateFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockState>,
    pub accounts: Vec<AccountState>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ClockState {
    pub now: String,
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct AccountState {
    pub provider: String,
    pub account: String,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub caller_ids: Vec<CallerIdState>,
    #[serde(default)]
    pub verifications: Vec<VerificationRecord>,
    /// The numbers the account owns (its purchased numbers): valid caller IDs for its calls.
    #[serde(default)]
    pub owned_numbers: Vec<String>,
    #[serde(default)]
    pub calls: Vec<CallRecord>,
}

/// The account's own part, as the streamed export writes it before its entries.
#[derive(Serialize)]
struct AccountHead<'a> {
    provider: &'a str,
    account: &'a str,
    auth_token: &'a Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct CallerIdState {
    /// Creation order across the whole state; by `created_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Generated in the provider's id shape when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub phone_number: String,
    #[serde(default)]
    pub label: String,
    /// Derived from the number when absent.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Keys the format does not name: text values are attributes (older files).
    #[serde(flatten, skip_serializing)]
    pub more: BTreeMap<String, Value>,
    /// RFC 3339; the clock's reading when absent.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// RFC 3339, when it was verified; `created_at` when absent (written only when they differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// Still awaiting verification (SignalWire's records exist from the moment they are asked for).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting: bool,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct VerificationRecord {
    /// Creation order across the whole state; by `issued_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub id: String,
    pub phone_number: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(flatten, skip_serializing)]
    pub more: BTreeMap<String, Value>,
    #[serde(default = "sms")]
    pub channel: String,
    /// `api` (the application submits the code) or `keypad` (keyed in during the call);
    /// when absent, `keypad` if the verification rings, else `api`.
    #[serde(default)]
    pub entry: Option<String>,
    pub code: String,
    #[serde(default = "pending")]
    pub state: String,
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub rings_at: Option<String>,
    #[serde(default)]
    pub call_status: Option<String>,
    #[serde(default)]
    pub callback: Option<CallbackRecord>,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// When it stopped being pending; the import's time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct CallbackRecord {
    pub url: String,
    #[serde(default = "post")]
    pub method: String,
    #[serde(default)]
    pub signing_key: Option<String>,
}

fn sms() -> String {
    "sms".into()
}

fn pending() -> String {
    "pending".into()
}

fn post() -> String {
    "POST".into()
}

fn time(field: &Option<String>, name: &str) -> Result<Option<Timestamp>, String> {
    match field {
        None => Ok(None),
        Some(s) => Timestamp::parse_rfc3339(s).map(Some).ok_or_else(|| format!("{name} {s:?} is not RFC 3339")),
    }
}

fn channel(s: &str) -> Result<Channel, String> {
    Channel::parse(s).ok_or_else(|| format!("channel {s:?} is not sms or call"))
}

/// The attributes of an entry: its `attributes`, and the text values of keys the format does
/// not name (not comments, which start with `_`).
fn attributes(map: BTreeMap<String, String>, more: BTreeMap<String, Value>) -> Attributes {
    let mut attrs = Attributes::default();
    for (k, v) in more {
        if let (false, Value::String(v)) = (k.starts_with('_'), v) {
            attrs.set(&k, &v);
        }
    }
    for (k, v) in map {
        attrs.set(&k, &v);
    }
    attrs
}

fn attribute_map(attrs: &Attributes) -> BTreeMap<String, String> {
    attrs.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn number(raw: &str) -> Result<phone::Number, String> {
    phone::parse_international(raw).ok_or_else(|| format!("{raw:?} is not a valid phone number"))
}

fn caller_from(c: CallerIdState, id: String, now: Timestamp) -> Result<CallerId, String> {
    let number = number(&c.phone_number)?;
    let created_at = time(&c.created_at, "created_at")?.unwrap_or(now);
    let verified_at = time(&c.verified_at, "verified_at")?.unwrap_or(created_at);
    Ok(CallerId {
        seq: c.seq.unwrap_or(u64::MAX),
        id,
        phone_number: number.e164,
        country: c.country.unwrap_or(number.country),
        label: c.label,
        attributes: attributes(c.attributes, c.more),
        created_at,
        updated_at: time(&c.updated_at, "updated_at")?.unwrap_or(created_at),
        verified_at: (!c.awaiting).then_some(verified_at),
    })
}

fn verification_from(key: &AccountKey, v: VerificationRecord, now: Timestamp) -> Result<Verification, String> {
    let number = number(&v.phone_number)?;
    let callback = match v.callback {
        None => None,
        Some(cb) => {
            let method = match cb.method.to_ascii_uppercase().as_str() {
                "GET" => "GET",
                "POST" => "POST",
                other => return Err(format!("callback method {other:?} is not GET or POST")),
            };
            Some(CallbackSpec { url: cb.url, method, signing_key: cb.signing_key })
        }
    };
    let rings_at = time(&v.rings_at, "rings_at")?;
    let entered_by = match v.entry.as_deref() {
        Some("api") => EnteredBy::Api,
        Some("keypad") => EnteredBy::Keypad,
        Some(other) => return Err(format!("entry {other:?} is not api or keypad")),
        None if rings_at.is_some() => EnteredBy::Keypad,
        None => EnteredBy::Api,
    };
    let state = VerificationState::parse(&v.state).ok_or_else(|| format!("state {:?} is unknown", v.state))?;
    let finished_at = match state {
        VerificationState::Pending => None,
        _ => Some(time(&v.finished_at, "finished_at")?.unwrap_or(now)),
    };
    Ok(Verification {
        seq: v.seq.unwrap_or(u64::MAX),
        key: key.clone(),
        id: v.id,
        phone_number: number.e164,
        country: v.country.unwrap_or(number.country),
        label: v.label,
        attributes: attributes(v.attributes, v.more),
        channel: channel(&v.channel)?,
        entered_by,
        code: v.code,
        state,
        issued_at: time(&v.issued_at, "issued_at")?.unwrap_or(now),
        expires_at: time(&v.expires_at, "expires_at")?,
        attempts: v.attempts,
        rings_at,
        call_status: match v.call_status.as_deref() {
            None => None,
            Some(s) => Some(CallStatus::parse(s).ok_or_else(|| format!("call_status {s:?} is unknown"))?),
        },
        callback,
        caller_id: v.caller_id,
        finished_at,
    })
}

fn caller_state(c: &CallerId) -> CallerIdState {
    let ts = Timestamp::rfc3339_nanos;
    CallerIdState {
        seq: Some(c.seq),
        id: Some(c.id.clone()),
        phone_number: c.phone_number.clone(),
        label: c.label.clone(),
        country: Some(c.country.clone()),
        attributes: attribute_map(&c.attributes),
        more: BTreeMap::new(),
        created_at: Some(ts(c.created_at)),
        updated_at: Some(ts(c.updated_at)),
        verified_at: c.verified_at.filter(|at| *at != c.created_at).map(ts),
        awaiting: !c.verified(),
    }
}

fn verification_record(v: &Verification) -> VerificationRecord {
    let ts = Timestamp::rfc3339_nanos;
    VerificationRecord {
        seq: Some(v.seq),
        id: v.id.clone(),
        phone_number: v.phone_number.clone(),
        country: Some(v.country.clone()),
        label: v.label.clone(),
        attributes: attribute_map(&v.attributes),
        more: BTreeMap::new(),
        channel: v.channel.as_str().to_owned(),
        entry: Some(match v.entered_by {
            EnteredBy::Api => "api".to_owned(),
            EnteredBy::Keypad => "keypad".to_owned(),
        }),
        code: v.code.clone(),
        state: v.state.as_str().to_owned(),
        issued_at: Some(ts(v.issued_at)),
        expires_at: v.expires_at.map(ts),
        attempts: v.attempts,
        rings_at: v.rings_at.map(ts),
        call_status: v.call_status.map(|s| s.as_str().to_owned()),
        callback: v.callback.as_ref().map(|cb| CallbackRecord {
            url: cb.url.clone(),
            method: cb.method.to_owned(),
            signing_key: cb.signing_key.clone(),
        }),
        caller_id: v.caller_id.clone(),
        finished_at: v.finished_at.map(ts),
    }
}

/// A caller ID or verification as one line of the state file's change log.
pub fn caller_json(c: &CallerId) -> serde_json::Value {
    serde_json::to_value(caller_state(c)).expect("a caller ID serializes")
}

pub fn verification_json(v: &Verification) -> serde_json::Value {
    serde_json::to_value(verification_record(v)).expect("a verification serializes")
}

/// Reads back what [`caller_json`] wrote.
pub fn caller_from_json(value: serde_json::Value) -> Result<CallerId, String> {
    let c: CallerIdState = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let id = c.id.clone().ok_or("a logged caller ID has an id")?;
    caller_from(c, id, Timestamp::from_nanos(0))
}

/// Reads back what [`verification_json`] wrote.
pub fn verification_from_json(key: &AccountKey, value: serde_json::Value) -> Result<Verification, String> {
    let v: VerificationRecord = serde_json::from_value(value).map_err(|e| e.to_string())?;
    verification_from(key, v, Timestamp::from_nanos(0))
}
