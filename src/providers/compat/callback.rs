//! The dialect's webhooks: the validation call's `StatusCallback` (the voice-request parameters
//! plus `VerificationStatus`, and `OutgoingCallerIdSid` on success), an outbound call's status
//! callbacks for the `StatusCallbackEvent`s it asked for (`initiated ringing answered
//! completed`), and the request for an answered call's TwiML (its `Url`). Each is sent as a form
//! POST or a GET query per its method, signed in the dialect's signature headers, and delivered as
//! Twilio delivers webhooks: one retry after a failed connection, none after an HTTP error, unless the
//! URL's fragment overrides it (Twilio's connection overrides: `#ct=`, `#rt=`, `#tt=`, `#rc=`,
//! `#rp=`). The fragment is never sent, and the signature is over the URL without it.

use std::time::Duration;

use crate::core::ids::Ids;
use crate::core::model::{AccountKey, Call, CallState, Verification, VerificationState};
use crate::delivery::{Document, Policy, RetryOn, Subject, Webhook};

use super::signature::sign;
use super::{Dialect, SIGNING_KEY};

/// The number the validation call comes from (`From`/`Caller`): Twilio's test number, which is
/// also the magic number a validation call to answers itself (`docs/control-plane.md`).
const CALLER: &str = "+15005550006";

/// The call progress events a `StatusCallbackEvent` may name, in the order a call reaches them.
pub(crate) const EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

pub(crate) fn call_ended(d: &Dialect, v: &Verification, ids: &Ids) -> Option<Webhook> {
    let callback = v.callback.as_ref()?;
    let call_status = v.call_status?;
    let success = v.state == VerificationState::Verified;
    let mut params = voice_params(&v.key, &v.id, call_status.as_str(), CALLER, &v.phone_number);
    params.push(pair("VerificationStatus", if success { "success" } else { "failed" }));
    if let (true, Some(sid)) = (success, &v.caller_id) {
        params.push(pair("OutgoingCallerIdSid", sid));
    }
    let to = Target { key: &v.key, subject: Subject::Verification(v.id.clone()), number: &v.phone_number };
    Some(signed(d, to, &callback.url, callback.method, params, callback.signing_key.as_deref(), ids))
}

/// The status callbacks of a call's last move, for the events it subscribed to (`completed`
/// when it named none), numbered in the order they are sent.
pub(crate) fn call_moved(d: &Dialect, call: &Call, ids: &Ids) -> Vec<Webhook> {
    let attrs = &call.attributes;
    let Some(url) = attrs.get("StatusCallback").filter(|u| !u.is_empty()) else { return Vec::new() };
    let subscribed: Vec<&str> = match attrs.get("StatusCallbackEvent").filter(|e| !e.is_empty()) {
        Some(events) => events.split(' ').collect(),
        None => vec!["completed"],
    };
    let Some(((state, at), before)) = call.timeline.split_last() else { return Vec::new() };
    let sent_before = before.iter().flat_map(|(s, _)| events_of(*s)).filter(|e| subscribed.contains(e)).count();
    let method = method(attrs.get("StatusCallbackMethod"));
    let signing_key = attrs.get(SIGNING_KEY);
    events_of(*state)
        .iter()
        .filter(|e| subscribed.contains(e))
        .enumerate()
        .map(|(i, event)| {
            let status = match *event {
                "initiated" => "initiated",
                "ringing" => "ringing",
                "answered" => "in-progress",
                _ => state.as_str(),
            };
            let mut params = voice_params(&call.key, &call.id, status, &call.from, &call.to);
            params.push(pair("CallbackSource", "call-progress-events"));
            params.push(pair("SequenceNumber", &(sent_before + i).to_string()));
            params.push(pair("Timestamp", &at.rfc2822()));
            if state.is_final() {
                params.push(pair("CallDuration", &call.talk_time(*at).as_secs().to_string()));
            }
            let to = Target { key: &call.key, subject: Subject::Call(call.id.clone()), number: &call.to };
            signed(d, to, url, method, params, signing_key, ids)
        })
        .collect()
}

/// How an answered call's TwiML is read: the `Twiml` it was given, or a request to its `Url`.
pub(crate) fn document(d: &Dialect, call: &Call, ids: &Ids) -> Option<Document> {
    let attrs = &call.attributes;
    if let Some(twiml) = attrs.get("Twiml") {
        return Some(Document::Inline(twiml.to_owned()));
    }
    let url = attrs.get("Url")?;
    let params = voice_params(&call.key, &call.id, "in-progress", &call.from, &call.to);
    let to = Target { key: &call.key, subject: Subject::Call(call.id.clone()), number: &call.to };
    Some(Document::Fetch(Box::new(signed(
        d,
        to,
        url,
        method(attrs.get("Method")),
        params,
        attrs.get(SIGNING_KEY),
        ids,
    ))))
}

/// The events a call's move to `state` sends.
fn events_of(state: CallState) -> &'static [&'static str] {
    match state {
        CallState::Queued => &[],
        CallState::Ringing => &["initiated", "ringing"],
        CallState::InProgress => &["answered"],
        _ => &["completed"],
    }
}

fn method(given: Option<&str>) -> &'static str {
    match given.map(str::to_ascii_uppercase).as_deref() {
        Some("GET") => "GET",
        _ => "POST",
    }
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// The parameters of every voice request Twilio makes about a call.
fn voice_params(key: &AccountKey, sid: &str, status: &str, from: &str, to: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", &*key.account),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Called", to),
        ("Caller", from),
        ("Direction", "outbound-api"),
        ("From", from),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| pair(k, v))
    .collect()
}

/// Whose webhook it is.
struct Target<'a> {
    key: &'a AccountKey,
    subject: Subject,
    number: &'a str,
}

/// A webhook to `url` (its fragment read as connection overrides, then dropped) with `params`
/// in the query (GET) or a form body (POST), signed with `signing_key`.
fn signed(
    d: &Dialect,
    to: Target,
    url: &str,
    method: &'static str,
    mut params: Vec<(String, String)>,
    signing_key: Option<&str>,
    ids: &Ids,
) -> Webhook {
    params.sort();
    let encoded = serde_urlencoded::to_string(&params).expect("pairs of strings encode");
    let (base, policy) = overrides(url);
    let (url, body, signed_params) = match method {
        "GET" => {
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}{encoded}"), String::new(), Vec::new())
        }
        _ => (base.to_owned(), encoded, params.clone()),
    };
    let mut headers =
        vec![pair("User-Agent", d.user_agent), pair("Accept", "*/*"), pair(d.idempotency_header, &ids.uuid_v4())];
    if let Some(token) = signing_key {
        let signature = sign(token, &url, &signed_params);
        headers.extend(d.signature_headers.iter().map(|name| pair(name, &signature)));
    }
    if method == "POST" {
        headers.push(pair("Content-Type", "application/x-www-form-urlencoded"));
    }
    Webhook {
        provider: to.key.provider,
        account: to.key.account.to_string(),
        subject: to.subject,
        number: to.number.to_owned(),
        method,
        url,
        params,
        headers,
        body,
        policy,
        withheld: None,
    }
}

/// The URL without its fragment, and the delivery policy: Twilio's defaults (connect 5 s, read
/// and total 15 s, one retry, after a failed connection only) with the fragment's overrides.
/// A value that is not a number or is out of Twilio's range keeps the default.
pub(crate) fn overrides(url: &str) -> (&str, Policy) {
    let mut policy = Policy {
        retries: 1,
        retry_on: RetryOn { connect: true, ..RetryOn::default() },
        connect_timeout: Duration::from_millis(5000),
        read_timeout: Duration::from_millis(15000),
        total_timeout: Duration::from_millis(15000),
    };
    let Some((base, fragment)) = url.split_once('#') else { return (url, policy) };
    let ms = |v: &str, max: u64| v.parse::<u64>().ok().filter(|n| (100..=max).contains(n)).map(Duration::from_millis);
    for (key, value) in fragment.split('&').filter_map(|pair| pair.split_once('=')) {
        match key {
            "ct" => policy.connect_timeout = ms(value, 10_000).unwrap_or(policy.connect_timeout),
            "rt" => policy.read_timeout = ms(value, 15_000).unwrap_or(policy.read_timeout),
            "tt" => policy.total_timeout = ms(value, 15_000).unwrap_or(policy.total_timeout),
            "rc" => policy.retries = value.parse().ok().filter(|n| *n <= 5).unwrap_or(policy.retries),
            "rp" => {
                let mut on = RetryOn::default();
                for p in value.split(',') {
                    match p {
                        "ct" => on.connect = true,
                        "rt" => on.read_timeout = true,
                        "4xx" => on.client_error = true,
                        "5xx" => on.server_error = true,
                        "all" => {
                            on = RetryOn { connect: true, read_timeout: true, client_error: true, server_error: true }
                        }
                        _ => {}
                    }
                }
                policy.retry_on = on;
            }
            _ => {}
        }
    }
    (base, policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{AccountKey, CallStatus, CallbackSpec, Channel, EnteredBy};
    use crate::core::time::Timestamp;
    use crate::providers::twilio::DIALECT as D;

    fn verification(method: &'static str) -> Verification {
        let key = AccountKey::new("twilio", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        Verification {
            id: "CA378358ccf6a2c88abc67859aa2e0bffa".into(),
            label: "(415) 867-5309".into(),
            channel: Channel::Call,
            entered_by: EnteredBy::Keypad,
            code: "531628".into(),
            state: VerificationState::Verified,
            attempts: 1,
            rings_at: Some(Timestamp::from_nanos(0)),
            call_status: Some(CallStatus::Completed),
            callback: Some(CallbackSpec {
                url: "http://127.0.0.1:5000/status?x=1".into(),
                method,
                signing_key: Some("authtoken".into()),
            }),
            caller_id: Some("PNe905d7e6b410746a0fb08c57e5a186f3".into()),
            finished_at: Some(Timestamp::from_nanos(0)),
            ..Verification::example(1, key, "+14158675309")
        }
    }

    #[test]
    fn connection_overrides_are_read_from_the_fragment_and_never_sent() {
        let (url, policy) = overrides("http://h/cb?x=1#ct=1000&rt=2000&tt=3000&rc=3&rp=5xx,rt");
        assert_eq!(url, "http://h/cb?x=1");
        assert_eq!(
            (policy.connect_timeout, policy.read_timeout, policy.total_timeout, policy.retries),
            (Duration::from_millis(1000), Duration::from_millis(2000), Duration::from_millis(3000), 3)
        );
        assert_eq!(policy.retry_on, RetryOn { read_timeout: true, server_error: true, ..RetryOn::default() });
        let (_, defaults) = overrides("http://h/cb#ct=5&rc=9&rt=x");
        assert_eq!(defaults, overrides("http://h/cb").1, "out of range keeps the default");
        assert_eq!((defaults.retries, defaults.retry_on.connect, defaults.retry_on.server_error), (1, true, false));
        let mut v = verification("POST");
        v.callback.as_mut().unwrap().url = "http://127.0.0.1:5000/status?x=1#rc=0".into();
        let w = call_ended(&D, &v, &Ids::new(Some(1))).unwrap();
        assert_eq!((w.url.as_str(), w.policy.retries), ("http://127.0.0.1:5000/status?x=1", 0));
        assert_eq!(
            w.headers,
            call_ended(&D, &verification("POST"), &Ids::new(Some(1))).unwrap().headers,
            "same signature"
        );
    }

    #[test]
    fn the_status_callback_is_signed_over_url_and_parameters() {
        for method in ["POST", "GET"] {
            let w = call_ended(&D, &verification(method), &Ids::new(Some(1))).unwrap();
            let view = serde_json::json!({ "method": w.method, "url": w.url, "params": w.params, "headers": w.headers, "body": w.body });
            insta::assert_json_snapshot!(format!("status_callback_{method}"), view);
        }
    }
}
