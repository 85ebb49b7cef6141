//! The validation call's `StatusCallback`: the voice-request parameters plus
//! `VerificationStatus` (and `OutgoingCallerIdSid` on success), sent as a form POST or a GET
//! query per `StatusCallbackMethod`, signed with `X-Twilio-Signature`.

use crate::core::ids::Ids;
use crate::core::store::{Verification, VerificationState};
use crate::delivery::Webhook;

use super::signature::sign;

/// The number the validation call comes from (`From`/`Caller`).
pub(crate) const CALLER: &str = "+15005550006";

pub(crate) fn call_ended(v: &Verification, ids: &Ids) -> Option<Webhook> {
    let key = &v.key;
    let callback = v.callback.as_ref()?;
    let call_status = v.call_status?;
    let success = v.state == VerificationState::Verified;
    let mut params: Vec<(String, String)> = [
        ("AccountSid", &*key.account),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", v.id.as_str()),
        ("CallStatus", call_status.as_str()),
        ("Called", v.phone_number.as_str()),
        ("Caller", CALLER),
        ("Direction", "outbound-api"),
        ("From", CALLER),
        ("To", v.phone_number.as_str()),
        ("VerificationStatus", if success { "success" } else { "failed" }),
    ]
    .into_iter()
    .map(|(k, val)| (k.to_owned(), val.to_owned()))
    .collect();
    if let (true, Some(sid)) = (success, &v.caller_id) {
        params.push(("OutgoingCallerIdSid".to_owned(), sid.clone()));
    }
    params.sort();
    let encoded = serde_urlencoded::to_string(&params).expect("pairs of strings encode");
    let (url, body, signed_params) = match callback.method {
        "GET" => {
            let sep = if callback.url.contains('?') { '&' } else { '?' };
            (format!("{}{sep}{encoded}", callback.url), String::new(), Vec::new())
        }
        _ => (callback.url.clone(), encoded, params.clone()),
    };
    let mut headers = vec![
        ("User-Agent".to_owned(), "TwilioProxy/1.1".to_owned()),
        ("Accept".to_owned(), "*/*".to_owned()),
        ("I-Twilio-Idempotency-Token".to_owned(), ids.uuid_v4()),
    ];
    if let Some(token) = &callback.signing_key {
        headers.push(("X-Twilio-Signature".to_owned(), sign(token, &url, &signed_params)));
    }
    if callback.method == "POST" {
        headers.push(("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned()));
    }
    Some(Webhook {
        provider: super::NAME,
        account: key.account.to_string(),
        verification_id: v.id.clone(),
        method: callback.method,
        url,
        params,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::{AccountKey, Attributes, CallStatus, CallbackSpec, Channel, Entry};
    use crate::core::time::Timestamp;

    fn verification(method: &'static str) -> Verification {
        Verification {
            seq: 1,
            key: AccountKey::new(super::super::NAME, "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            id: "CA378358ccf6a2c88abc67859aa2e0bffa".into(),
            phone_number: "+14158675309".into(),
            country: "US".into(),
            label: "(415) 867-5309".into(),
            attributes: Attributes::default(),
            requested_channel: Some(Channel::Call),
            channel: Channel::Call,
            entry: Entry::Keypad,
            code: "531628".into(),
            state: VerificationState::Verified,
            issued_at: Timestamp::from_nanos(0),
            expires_at: None,
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
        }
    }

    #[test]
    fn the_status_callback_is_signed_over_url_and_parameters() {
        for method in ["POST", "GET"] {
            let w = call_ended(&verification(method), &Ids::new(Some(1))).unwrap();
            let view = serde_json::json!({ "method": w.method, "url": w.url, "params": w.params, "headers": w.headers, "body": w.body });
            insta::assert_json_snapshot!(format!("status_callback_{method}"), view);
        }
    }
}
