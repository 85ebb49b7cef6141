//! Telnyx's response bodies, keys in the order of the OpenAPI document's examples.

use serde::Serialize;

use crate::core::model::CallerId;
use crate::core::time::Timestamp;

/// `POST /v2/verified_numbers`: the request echoed, not wrapped in `data`.
#[derive(Serialize)]
pub(crate) struct Requested<'a> {
    pub phone_number: &'a str,
    pub verification_method: &'a str,
}

/// A verified number, as `data` of get, delete and verify, and as a list item.
#[derive(Serialize)]
pub(crate) struct VerifiedNumber {
    pub phone_number: String,
    pub record_type: &'static str,
    pub verified_at: String,
}

impl VerifiedNumber {
    pub fn new(c: CallerId) -> VerifiedNumber {
        VerifiedNumber { verified_at: verified_at(c.created_at), phone_number: c.phone_number, record_type: "verified_number" }
    }
}

/// `{"data": …}`
#[derive(Serialize)]
pub(crate) struct Data<T> {
    pub data: T,
}

/// `GET /v2/verified_numbers`
#[derive(Serialize)]
pub(crate) struct ListBody {
    pub data: Vec<VerifiedNumber>,
    pub meta: Meta,
}

#[derive(Serialize)]
pub(crate) struct Meta {
    pub page_number: usize,
    pub page_size: usize,
    pub total_pages: usize,
    pub total_results: usize,
}

/// ISO 8601 in UTC without a zone, at microseconds, as the API writes it:
/// `2020-09-14T17:03:32.965812`.
fn verified_at(t: Timestamp) -> String {
    let text = t.rfc3339_micros();
    let text = text.trim_end_matches('Z');
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    format!("{whole}.{fraction:0<6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_at_has_six_digits_and_no_zone() {
        let at = |s| verified_at(Timestamp::parse_rfc3339(s).unwrap());
        assert_eq!(at("2020-09-14T17:03:32.965812Z"), "2020-09-14T17:03:32.965812");
        assert_eq!(at("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00.000000");
        assert_eq!(at("2026-01-01T00:00:00.5Z"), "2026-01-01T00:00:00.500000");
        assert_eq!(at("2026-01-01T00:00:00.123456789Z"), "2026-01-01T00:00:00.123456");
    }
}
