//! `validate_for_voice`: parse, look the number up, issue a code or answer with the record.

use std::time::Duration;

use hyper::StatusCode;
use serde_json::Value;

use super::wire::{ALREADY_SAVED, CodeIssued, INVALID_NUMBER, SenderRecord};
use crate::App;
use crate::core::store::{AccountKey, CallbackSpec, Channel};
use crate::core::{CoreError, NewVerification, RING_TIMEOUT};
use crate::http::{self, Request, Response};
use crate::phone::{self, Number};

/// Parameters merged from the query and the body (JSON when the content type says so, a form
/// otherwise); `null` and `""` values count as absent. The first occurrence of a name wins.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn read(req: &Request) -> Params {
        let mut pairs = req.query_pairs();
        let is_json = req.header("content-type").is_some_and(|ct| ct.contains("json"));
        if is_json {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&req.body) {
                for (k, v) in map {
                    match v {
                        Value::String(s) => pairs.push((k, s)),
                        Value::Number(n) => pairs.push((k, n.to_string())),
                        _ => {}
                    }
                }
            }
        } else {
            pairs.extend(http::form_pairs(&req.body));
        }
        pairs.retain(|(_, v)| !v.is_empty());
        Params(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// "The format is almost arbitrary": national forms in the configured region, `00` and `+`
/// prefixes, and international digits without a prefix.
pub(super) fn parse_number(raw: &str, region: phonenumber::country::Id) -> Option<Number> {
    phone::parse_in_region(raw, region).or_else(|| {
        let digits_only = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
        digits_only.then(|| phone::parse_international(raw)).flatten()
    })
}

pub(super) fn validate_for_voice(app: &App, api_key: &str, params: &Params) -> Response {
    let raw = params.get("number").map(str::trim).unwrap_or("");
    let Some(number) = parse_number(raw, app.config.seven_region) else {
        return http::json(
            StatusCode::OK,
            &SenderRecord {
                id: None,
                sender: raw.to_owned(),
                formatted_output: None,
                success: false,
                error: Some(INVALID_NUMBER.to_owned()),
                voice: false,
            },
        );
    };
    let key = AccountKey::new(super::NAME, api_key);
    let core = &app.core;
    let callback =
        params.get("callback").map(|url| CallbackSpec { url: url.to_owned(), method: "GET", signing_key: None });
    let new = NewVerification {
        id: core.ids.uuid_v4(),
        phone_number: number.e164.clone(),
        country: number.country.clone(),
        label: String::new(),
        subaccount: String::new(),
        requested_channel: Some(Channel::Call),
        channel: Channel::Call,
        // 100000-999999: the PHP SDK reads the code as an int, so no leading zero.
        code: (core.ids.below(900_000) + 100_000).to_string(),
        ttl: Some(RING_TIMEOUT),
        rings_after: Some(Duration::ZERO),
        callback,
    };
    match core.start_verification(&key, new) {
        Ok(v) => http::json(StatusCode::OK, &CodeIssued { success: true, code: v.code, error: None }),
        Err(CoreError::AlreadyVerified) => {
            let id = core.caller_id(&key, &number.e164).and_then(|c| c.id.parse().ok());
            http::json(
                StatusCode::OK,
                &SenderRecord {
                    id,
                    sender: number.e164.trim_start_matches('+').to_owned(),
                    formatted_output: Some(number.international()),
                    success: true,
                    error: Some(ALREADY_SAVED.to_owned()),
                    voice: true,
                },
            )
        }
        // The only other refusal: the account holds as many caller IDs as it may.
        Err(_) => http::json(
            StatusCode::OK,
            &SenderRecord {
                id: None,
                sender: raw.to_owned(),
                formatted_output: None,
                success: false,
                error: Some("Caller ID limit reached".to_owned()),
                voice: false,
            },
        ),
    }
}
