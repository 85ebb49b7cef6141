//! Telnyx's Call Control for the calls a verified number is for: dial (`POST /v2/calls`), the
//! call's status (`GET /v2/calls/{call_control_id}`) and hang-up (`POST
//! /v2/calls/{call_control_id}/actions/hangup`). The dial request is parsed once ([`Dial`]);
//! `from` must be a verified number of the account or one it owns. The call's store id is its
//! `call_control_id` (`v3:…`); its leg and session ids are kept with it.

use std::time::Duration;

use base64::Engine as _;
use hyper::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{Source, TelnyxError};
use super::routes::Result;
use super::wire::Data;
use crate::core::model::{AccountKey, Attributes, Call};
use crate::core::phone::{self, Number};
use crate::core::time::Timestamp;
use crate::core::{Core, CoreError, HangUp, NewCall};
use crate::http;

/// The attributes a call keeps its leg and session ids in.
pub(super) const CALL_LEG_ID: &str = "call_leg_id";
pub(super) const CALL_SESSION_ID: &str = "call_session_id";

/// `timeout_secs` (ringing) and `time_limit_secs` (the whole call): defaults and ranges, as
/// the OpenAPI document gives them.
const DEFAULT_TIMEOUT: u64 = 30;
const TIMEOUT: std::ops::RangeInclusive<u64> = 5..=600;
const DEFAULT_TIME_LIMIT: u64 = 14_400;
const TIME_LIMIT: std::ops::RangeInclusive<u64> = 30..=14_400;

/// A dial request, parsed.
pub(super) struct Dial {
    pub to: Number,
    from: Number,
    timeout: u64,
    time_limit: u64,
    /// `connection_id`, `webhook_url`, `client_state`… as given.
    attributes: Attributes,
}

impl Dial {
    pub fn parse(body: Map<String, Value>) -> Result<Dial> {
        let text = |field: &'static str| -> Result<Option<String>> {
            match body.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) if field == "connection_id" => Ok(Some(n.to_string())),
                Some(_) => Err(invalid(field, format!("The '{field}' parameter must be a string."))),
            }
        };
        let connection_id = text("connection_id")?.ok_or(TelnyxError::Missing("connection_id"))?;
        let to = match body.get("to") {
            Some(Value::Array(items)) if items.len() == 1 => items[0].as_str().map(str::to_owned),
            Some(Value::Array(items)) if items.len() > 1 => {
                return Err(invalid("to", "The emulator dials one number per request, not several.".into()));
            }
            _ => text("to")?,
        };
        let to = number("to", to)?;
        let from = number("from", text("from")?)?;
        if let Some(url) = text("webhook_url")? {
            let ok = (url.starts_with("http://") || url.starts_with("https://")) && url.parse::<hyper::Uri>().is_ok();
            if !ok {
                return Err(TelnyxError::Status {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: 10003,
                    detail: format!("The webhook_url {url} is not a valid http(s) URL."),
                });
            }
        }
        if let Some(state) = text("client_state")?
            && base64::engine::general_purpose::STANDARD.decode(&state).is_err()
        {
            return Err(invalid("client_state", "The 'client_state' parameter must be valid Base-64.".into()));
        }
        let seconds = |field: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64> {
            match body.get(field) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v.as_u64().filter(|n| range.contains(n)).ok_or_else(|| {
                    invalid(field, format!("{field} must be an integer from {} to {}.", range.start(), range.end()))
                }),
            }
        };
        let (timeout, time_limit) =
            (seconds("timeout_secs", DEFAULT_TIMEOUT, TIMEOUT)?, seconds("time_limit_secs", DEFAULT_TIME_LIMIT, TIME_LIMIT)?);
        let mut attributes = Attributes::default();
        attributes.set("connection_id", &connection_id);
        for field in ["webhook_url", "webhook_url_method", "client_state", "command_id", "from_display_name"] {
            if let Some(value) = text(field)? {
                attributes.set(field, &value);
            }
        }
        Ok(Dial { to, from, timeout, time_limit, attributes })
    }
}

/// A `+E.164` number the field must hold.
fn number(field: &'static str, raw: Option<String>) -> Result<Number> {
    let raw = raw.ok_or(TelnyxError::Missing(field))?;
    if !raw.starts_with('+') {
        return Err(TelnyxError::NotE164(field));
    }
    phone::parse_international(&raw).ok_or(TelnyxError::InvalidNumber(field))
}

fn invalid(field: &'static str, detail: String) -> TelnyxError {
    TelnyxError::Invalid(Source::Field(field), detail)
}

/// A call as `data` of dial and status.
#[derive(Serialize)]
pub(super) struct CallBody {
    call_control_id: String,
    call_leg_id: String,
    call_session_id: String,
    is_alive: bool,
    record_type: &'static str,
    call_duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_state: Option<String>,
    start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
}

impl CallBody {
    /// `c` as Telnyx reports it; `dialing`: the dial answer, always `is_alive: false`.
    fn new(core: &Core, c: &Call, dialing: bool) -> CallBody {
        let attrs = &c.attributes;
        CallBody {
            call_control_id: c.id.clone(),
            call_leg_id: attrs.get(CALL_LEG_ID).unwrap_or_default().to_owned(),
            call_session_id: attrs.get(CALL_SESSION_ID).unwrap_or_default().to_owned(),
            is_alive: !dialing && !c.state.is_final(),
            record_type: "call",
            call_duration: c.talk_time(core.clock().now()).as_secs(),
            client_state: attrs.get("client_state").map(str::to_owned),
            start_time: iso(c.created_at),
            end_time: c.ended_at.map(iso),
        }
    }
}

/// `{"data": {"result": "ok"}}`
#[derive(Serialize)]
struct CommandResult {
    result: &'static str,
}

pub(super) fn dial(core: &Core, key: &AccountKey, d: Dial) -> Result {
    let ids = core.ids();
    let mut attributes = d.attributes;
    attributes.set(CALL_LEG_ID, &ids.uuid_v4());
    attributes.set(CALL_SESSION_ID, &ids.uuid_v4());
    let new = NewCall {
        key: key.clone(),
        id: call_control_id(core),
        from: d.from,
        to: d.to,
        ring_timeout: Duration::from_secs(d.timeout),
        time_limit: Some(Duration::from_secs(d.time_limit)),
        attributes,
    };
    let call = core.place_call(new)?;
    Ok(http::json(StatusCode::OK, &Data { data: CallBody::new(core, &call, true) }))
}

pub(super) fn status(core: &Core, key: &AccountKey, id: &str) -> Result {
    let call = core.call(key, id).ok_or(TelnyxError::NotFound)?;
    Ok(http::json(StatusCode::OK, &Data { data: CallBody::new(core, &call, false) }))
}

/// Hangs up a live call (one not answered yet is canceled); one that ended is 90018.
pub(super) fn hang_up(core: &Core, key: &AccountKey, id: &str) -> Result {
    let call = core.call(key, id).ok_or(TelnyxError::NotFound)?;
    if call.state.is_final() {
        return Err(TelnyxError::Core(CoreError::CallEnded));
    }
    core.hang_up(key, id, HangUp::Complete)?;
    Ok(http::json(StatusCode::OK, &Data { data: CommandResult { result: "ok" } }))
}

/// `v3:` and 54 URL-safe characters, the shape of Telnyx's call control ids.
fn call_control_id(core: &Core) -> String {
    let bytes: Vec<u8> = core.ids().sid("").bytes().chain(core.ids().sid("").bytes()).collect();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..40]);
    format!("v3:{token}")
}

/// ISO 8601 in UTC at microseconds, as Telnyx's examples write times.
pub(super) fn iso(t: Timestamp) -> String {
    t.rfc3339_micros()
}
