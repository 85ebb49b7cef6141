//! The dialect's JSON bodies, keys in the order of Twilio's own examples.

use serde::Serialize;

use crate::core::model::{AccountKey, Call, CallState, CallerId};
use crate::core::phone;
use crate::core::time::Timestamp;

/// `POST …/OutgoingCallerIds.json`: the ValidationRequest.
#[derive(Serialize)]
pub(crate) struct ValidationRequest {
    pub account_sid: String,
    pub call_sid: String,
    pub friendly_name: String,
    pub phone_number: String,
    /// A string: it may start with 0, and twilio-go refuses a number here.
    pub validation_code: String,
}

/// An OutgoingCallerId.
#[derive(Serialize)]
pub(crate) struct OutgoingCallerId {
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub phone_number: String,
    pub date_created: String,
    pub date_updated: String,
    pub uri: String,
}

impl OutgoingCallerId {
    /// `root`: the API's root, for the URI.
    pub fn new(root: &str, key: &AccountKey, c: CallerId) -> OutgoingCallerId {
        OutgoingCallerId {
            uri: format!("{root}/Accounts/{}/OutgoingCallerIds/{}.json", key.account, c.id),
            sid: c.id,
            account_sid: key.account.to_string(),
            friendly_name: c.label,
            phone_number: c.phone_number,
            date_created: c.created_at.rfc2822(),
            date_updated: c.updated_at.rfc2822(),
        }
    }
}

/// `GET …/OutgoingCallerIds.json`: the 2010 paging envelope with exactly one record key.
#[derive(Serialize)]
pub(crate) struct Page {
    pub end: usize,
    pub first_page_uri: String,
    pub next_page_uri: Option<String>,
    pub outgoing_caller_ids: Vec<OutgoingCallerId>,
    pub page: usize,
    pub page_size: usize,
    pub previous_page_uri: Option<String>,
    pub start: usize,
    pub uri: String,
}

/// A Call resource, keys in the order of the API's examples. `base` is the API's root
/// (`/2010-04-01`) for the URIs.
#[derive(Serialize)]
pub(crate) struct CallResource {
    pub account_sid: String,
    pub answered_by: Option<String>,
    pub api_version: &'static str,
    pub caller_name: Option<String>,
    pub date_created: String,
    pub date_updated: String,
    pub direction: &'static str,
    /// Seconds, for a completed call; `null` while it goes on and when it was never answered.
    pub duration: Option<String>,
    pub end_time: Option<String>,
    pub forwarded_from: Option<String>,
    pub from: String,
    pub from_formatted: String,
    pub group_sid: Option<String>,
    pub parent_call_sid: Option<String>,
    pub phone_number_sid: Option<String>,
    pub price: Option<String>,
    pub price_unit: &'static str,
    pub sid: String,
    pub start_time: Option<String>,
    pub status: &'static str,
    pub subresource_uris: SubresourceUris,
    pub to: String,
    pub to_formatted: String,
    pub trunk_sid: Option<String>,
    pub uri: String,
    pub queue_time: String,
}

#[derive(Serialize)]
pub(crate) struct SubresourceUris {
    pub notifications: String,
    pub recordings: String,
    pub payments: String,
    pub events: String,
    pub siprec: String,
    pub streams: String,
    pub transcriptions: String,
    pub user_defined_message_subscriptions: String,
    pub user_defined_messages: String,
}

impl CallResource {
    pub fn new(base: &str, c: &Call) -> CallResource {
        let rfc2822 = Timestamp::rfc2822;
        let uri = format!("{base}/Accounts/{}/Calls/{}", c.key.account, c.id);
        let sub = |name: &str| format!("{uri}/{name}.json");
        let updated = c.timeline.last().map_or(c.created_at, |(_, at)| *at);
        let started = c.timeline.iter().find(|(s, _)| *s == CallState::Ringing).map(|(_, at)| *at);
        CallResource {
            account_sid: c.key.account.to_string(),
            answered_by: None,
            api_version: "2010-04-01",
            caller_name: None,
            date_created: rfc2822(c.created_at),
            date_updated: rfc2822(updated),
            direction: "outbound-api",
            duration: (c.state == CallState::Completed && c.answered_at.is_some())
                .then(|| c.talk_time(c.ended_at.unwrap_or(updated)).as_secs().to_string()),
            end_time: c.ended_at.map(rfc2822),
            forwarded_from: None,
            from: c.from.clone(),
            from_formatted: formatted(&c.from),
            group_sid: None,
            parent_call_sid: None,
            phone_number_sid: None,
            price: None,
            price_unit: "USD",
            sid: c.id.clone(),
            start_time: started.map(rfc2822),
            status: c.state.as_str(),
            subresource_uris: SubresourceUris {
                notifications: sub("Notifications"),
                recordings: sub("Recordings"),
                payments: sub("Payments"),
                events: sub("Events"),
                siprec: sub("Siprec"),
                streams: sub("Streams"),
                transcriptions: sub("Transcriptions"),
                user_defined_message_subscriptions: sub("UserDefinedMessageSubscriptions"),
                user_defined_messages: sub("UserDefinedMessages"),
            },
            to: c.to.clone(),
            to_formatted: formatted(&c.to),
            trunk_sid: None,
            uri: format!("{uri}.json"),
            queue_time: "0".to_owned(),
        }
    }
}

/// A number for display: the national form in North America (`(415) 867-5309`), E.164 elsewhere.
pub(crate) fn formatted(e164: &str) -> String {
    match phone::parse_international(e164) {
        Some(n) if e164.starts_with("+1") => n.national(),
        _ => e164.to_owned(),
    }
}

/// `GET …/Calls.json`: the 2010 paging envelope, its records first (the keys are alphabetical).
#[derive(Serialize)]
pub(crate) struct CallsPage {
    pub calls: Vec<CallResource>,
    pub end: usize,
    pub first_page_uri: String,
    pub next_page_uri: Option<String>,
    pub page: usize,
    pub page_size: usize,
    pub previous_page_uri: Option<String>,
    pub start: usize,
    pub uri: String,
}
