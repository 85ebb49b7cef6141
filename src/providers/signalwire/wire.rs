//! SignalWire's JSON bodies: the Verified Caller ID object and a list page.

use serde::Serialize;

use super::EXTENSION;
use crate::core::model::CallerId;

/// `{type, id, name, extension, number, verified, verified_at, status}`.
#[derive(Serialize)]
pub(super) struct VerifiedCallerId {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: String,
    extension: Option<String>,
    number: String,
    verified: bool,
    verified_at: Option<String>,
    status: &'static str,
}

impl VerifiedCallerId {
    pub fn new(c: CallerId) -> VerifiedCallerId {
        VerifiedCallerId {
            kind: "verified_caller_id",
            extension: c.attributes.get(EXTENSION).filter(|e| !e.is_empty()).map(str::to_owned),
            verified: c.verified(),
            verified_at: c.verified_at.map(|at| at.rfc3339_micros()),
            status: if c.verified() { "Verified" } else { "Awaiting Verification" },
            id: c.id,
            name: c.label,
            number: c.phone_number,
        }
    }
}

/// A list page: `{links: {self, first, next?, prev?}, data: [...]}`.
#[derive(Serialize)]
pub(super) struct Page {
    pub links: Links,
    pub data: Vec<VerifiedCallerId>,
}

#[derive(Serialize)]
pub(super) struct Links {
    #[serde(rename = "self")]
    pub this: String,
    pub first: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}
