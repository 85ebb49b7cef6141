//! Plivo's response bodies. Keys are in the order of the SDKs' fixtures (alphabetical), every
//! key is always present and no string is ever `null` (plivo-php indexes keys directly).

use serde::Serialize;

use super::SUBACCOUNT;
use crate::core::model::{AccountKey, CallerId};

#[derive(Serialize)]
pub(crate) struct ErrorBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    pub error: String,
}

/// `POST …/VerifiedCallerId/`
#[derive(Serialize)]
pub(crate) struct Initiated {
    pub api_id: String,
    pub message: String,
    pub verification_uuid: String,
}

/// `POST …/VerifiedCallerId/Verification/{uuid}/`: the caller ID as verification made it,
/// `created_at` at nanosecond precision, `channel` as the initiate request gave it. No
/// `subaccount`: no SDK fixture or documented example has one here (the Node, Go, Java and .NET
/// models declare it and read it as empty); get, update and list carry it.
#[derive(Serialize)]
pub(crate) struct Verified {
    pub alias: String,
    pub api_id: String,
    pub channel: String,
    pub country: String,
    pub created_at: String,
    pub phone_number: String,
    pub verification_uuid: String,
}

impl Verified {
    pub fn new(api_id: String, channel: &str, c: CallerId) -> Verified {
        Verified {
            api_id,
            channel: channel.to_owned(),
            country: c.country,
            created_at: c.created_at.rfc3339_nanos(),
            phone_number: c.phone_number,
            alias: c.label,
            verification_uuid: c.id,
        }
    }
}

/// `GET`/`POST …/VerifiedCallerId/{number}/`: read back at microsecond precision. The live
/// API's `modified_at` equals `created_at` even after an update, so it does here too.
#[derive(Serialize)]
pub(crate) struct CallerIdBody {
    pub alias: String,
    pub api_id: String,
    pub country: String,
    pub created_at: String,
    pub modified_at: String,
    pub phone_number: String,
    pub subaccount: String,
    pub verification_uuid: String,
}

impl CallerIdBody {
    pub fn new(api_id: String, c: CallerId) -> CallerIdBody {
        let created_at = c.created_at.rfc3339_micros();
        CallerIdBody {
            alias: c.label,
            api_id,
            country: c.country,
            modified_at: created_at.clone(),
            created_at,
            phone_number: c.phone_number,
            subaccount: subaccount(&c.attributes),
            verification_uuid: c.id,
        }
    }
}

fn subaccount(attributes: &crate::core::model::Attributes) -> String {
    attributes.get(SUBACCOUNT).unwrap_or_default().to_owned()
}

/// `GET …/VerifiedCallerId/`
#[derive(Serialize)]
pub(crate) struct ListBody {
    pub api_id: String,
    pub meta: Meta,
    pub objects: Vec<ListItem>,
}

#[derive(Serialize)]
pub(crate) struct Meta {
    pub limit: usize,
    pub next: Option<String>,
    pub offset: usize,
    pub previous: Option<String>,
    pub total_count: usize,
}

#[derive(Serialize)]
pub(crate) struct ListItem {
    pub alias: String,
    pub country: String,
    pub created_at: String,
    pub modified_at: String,
    pub phone_number: String,
    pub resource_uri: String,
    pub subaccount: String,
    pub verification_uuid: String,
}

impl ListItem {
    pub fn new(key: &AccountKey, c: CallerId) -> ListItem {
        let created_at = c.created_at.rfc3339_micros();
        ListItem {
            resource_uri: format!(
                "/v1/Account/{}/VerifiedCallerId/{}",
                key.account,
                c.phone_number.trim_start_matches('+')
            ),
            alias: c.label,
            country: c.country,
            modified_at: created_at.clone(),
            created_at,
            phone_number: c.phone_number,
            subaccount: subaccount(&c.attributes),
            verification_uuid: c.id,
        }
    }
}
