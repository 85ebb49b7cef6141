//! Twilio's 2010 JSON bodies, keys in the order of the API's own examples.

use serde::Serialize;

use crate::core::model::{AccountKey, CallerId};

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
    pub fn new(key: &AccountKey, c: CallerId) -> OutgoingCallerId {
        OutgoingCallerId {
            uri: format!("/2010-04-01/Accounts/{}/OutgoingCallerIds/{}.json", key.account, c.id),
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
