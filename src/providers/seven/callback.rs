//! The GET callback seven calls "as soon as the validation has been successfully completed",
//! with the documented parameters `id, sender, formatted_output, success=1, error=, voice=1`
//! appended to any query the URL already has. A validation that fails (wrong digits, busy, no
//! answer) calls nothing: the callback is journaled as `not_sent`, with the parameters it would
//! have had (`success=0`, the reason in `error`) for the test to read.

use crate::core::phone;
use crate::core::model::{CallStatus, Verification, VerificationState};
use crate::delivery::{Policy, Subject, Webhook};

pub(crate) fn call_ended(v: &Verification) -> Option<Webhook> {
    let key = &v.key;
    let callback = v.callback.as_ref()?;
    let success = v.state == VerificationState::Verified;
    let error = match v.call_status? {
        _ if success => "",
        CallStatus::Completed | CallStatus::Ringing => "The code entered was wrong",
        CallStatus::Busy => "The line was busy",
        CallStatus::NoAnswer => "The call was not answered",
        CallStatus::Failed => "The call failed",
    };
    let formatted = phone::parse_international(&v.phone_number).map(|n| n.international()).unwrap_or_default();
    let flag = if success { "1" } else { "0" };
    let params: Vec<(String, String)> = [
        ("id", if success { v.caller_id.as_deref().unwrap_or("") } else { "" }),
        ("sender", v.phone_number.trim_start_matches('+')),
        ("formatted_output", formatted.as_str()),
        ("success", flag),
        ("error", error),
        ("voice", flag),
    ]
    .into_iter()
    .map(|(k, val)| (k.to_owned(), val.to_owned()))
    .collect();
    let encoded = serde_urlencoded::to_string(&params).expect("pairs of strings encode");
    let sep = if callback.url.contains('?') { '&' } else { '?' };
    Some(Webhook {
        provider: super::NAME,
        account: key.account.to_string(),
        subject: Subject::Verification(v.id.clone()),
        number: v.phone_number.clone(),
        method: "GET",
        url: format!("{}{sep}{encoded}", callback.url),
        params,
        headers: vec![("Accept".to_owned(), "*/*".to_owned())],
        body: String::new(),
        policy: Policy::default(),
        withheld: (!success).then(|| "validation failed (seven calls back only on success)".to_owned()),
    })
}
