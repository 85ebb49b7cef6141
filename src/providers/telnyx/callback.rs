//! Telnyx's Call Control webhooks for a dialed call: `call.initiated` as it starts ringing,
//! `call.answered`, `call.hangup` (with `hangup_cause` and `hangup_source`), each a JSON POST
//! `{"data": {"event_type", "id", "occurred_at", "payload", "record_type": "event"}, "meta"}`
//! to the dial's `webhook_url`. Signed as Telnyx signs: Ed25519 over `{timestamp}|{body}` in
//! `telnyx-signature-ed25519` (base64), with `telnyx-timestamp` in Unix seconds of the real
//! clock, since the SDKs refuse a timestamp more than five minutes away from their own; the
//! key is the emulator's, its public half at `GET /_mock/keys` (`TELNYX_PUBLIC_KEY` in
//! `callerid-mock env`), so `client.webhooks.unwrap` verifies it.

use std::time::Duration;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Value, json};

use super::NAME;
use super::calls::{CALL_LEG_ID, CALL_SESSION_ID, iso};
use crate::core::ids::Ids;
use crate::core::model::{Call, CallState, EndedBy};
use crate::delivery::{Policy, RetryOn, Subject, Webhook};
use crate::providers::PublicKey;

/// What the signing key is derived from (see [`Ids::secret`]).
const KEY_PURPOSE: &str = "telnyx webhooks ed25519";

fn key_pair(ids: &Ids) -> ring::signature::Ed25519KeyPair {
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&ids.secret(KEY_PURPOSE)).expect("32 bytes make a key")
}

/// The public key the webhooks verify with, base64 as Mission Control shows it.
pub(crate) fn public_key(ids: &Ids) -> PublicKey {
    use ring::signature::KeyPair as _;
    let key = base64::engine::general_purpose::STANDARD.encode(key_pair(ids).public_key().as_ref());
    PublicKey { algorithm: "ed25519", purpose: "webhooks", key, env: Some("TELNYX_PUBLIC_KEY") }
}

/// `call.hangup`'s cause and source, and the SIP code of it.
fn hangup(c: &Call) -> (&'static str, &'static str, &'static str) {
    match (c.state, c.ended_by) {
        (CallState::Canceled, _) => ("originator_cancel", "caller", "487"),
        (CallState::Busy, _) => ("user_busy", "callee", "486"),
        (CallState::Failed, _) => ("call_rejected", "callee", "603"),
        (CallState::NoAnswer, Some(EndedBy::RingTimeout)) => ("timeout", "unknown", "480"),
        (CallState::NoAnswer, _) => ("no_answer", "callee", "480"),
        (_, Some(EndedBy::Application)) => ("normal_clearing", "caller", "200"),
        (_, Some(EndedBy::TimeLimit)) => ("time_limit", "unknown", "200"),
        (_, Some(EndedBy::Provider)) => ("unspecified", "unknown", "500"),
        _ => ("normal_clearing", "callee", "200"),
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    data: Event<'a>,
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct Event<'a> {
    event_type: &'a str,
    id: String,
    occurred_at: String,
    payload: Value,
    record_type: &'static str,
}

#[derive(Serialize)]
struct Meta<'a> {
    attempt: u32,
    delivered_to: &'a str,
}

/// The event of a call's last move, if its dial gave a `webhook_url`.
pub(crate) fn call_moved(call: &Call, ids: &Ids) -> Vec<Webhook> {
    let Some(url) = call.attributes.get("webhook_url") else { return Vec::new() };
    let Some((_, at)) = call.timeline.last() else { return Vec::new() };
    let attrs = &call.attributes;
    let mut payload = json!({
        "call_control_id": call.id,
        "call_leg_id": attrs.get(CALL_LEG_ID),
        "call_session_id": attrs.get(CALL_SESSION_ID),
        "client_state": attrs.get("client_state"),
        "connection_id": attrs.get("connection_id"),
        "from": call.from,
        "to": call.to,
        "start_time": iso(call.created_at),
    });
    let fields = payload.as_object_mut().expect("an object");
    let event_type = match call.state {
        CallState::Ringing => {
            fields.insert("direction".into(), json!("outgoing"));
            fields.insert("state".into(), json!("bridging"));
            "call.initiated"
        }
        CallState::InProgress => {
            fields.insert("state".into(), json!("answered"));
            "call.answered"
        }
        state if state.is_final() => {
            let (cause, source, sip) = hangup(call);
            fields.insert("hangup_cause".into(), json!(cause));
            fields.insert("hangup_source".into(), json!(source));
            fields.insert("sip_hangup_cause".into(), json!(sip));
            fields.insert("state".into(), json!("hangup"));
            "call.hangup"
        }
        _ => return Vec::new(),
    };
    let envelope = Envelope {
        data: Event { event_type, id: ids.uuid_v4(), occurred_at: iso(*at), payload, record_type: "event" },
        meta: Meta { attempt: 1, delivered_to: url },
    };
    let body = serde_json::to_string(&envelope).expect("an event serializes");
    // Real time, not the server clock: the SDKs compare it with their own.
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string();
    let signed = key_pair(ids).sign(format!("{timestamp}|{body}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(signed.as_ref());
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", "telnyx-webhooks"),
        ("telnyx-signature-ed25519", signature.as_str()),
        ("telnyx-timestamp", timestamp.as_str()),
    ];
    vec![Webhook {
        provider: NAME,
        account: call.key.account.to_string(),
        subject: Subject::Call(call.id.clone()),
        number: call.to.clone(),
        method: "POST",
        url: url.to_owned(),
        params: Vec::new(),
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        body,
        policy: Policy {
            retries: 2,
            retry_on: RetryOn { connect: true, read_timeout: true, client_error: false, server_error: true },
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(10),
        },
        withheld: None,
    }]
}
