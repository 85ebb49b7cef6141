//! The six operations: parse the request, apply it to the core, render Plivo's body.

use hyper::StatusCode;

use super::OTP_TTL;
use super::error::PlivoError;
use super::params::Params;
use super::wire::{CallerIdBody, Initiated, ListBody, ListItem, Meta, Verified};
use crate::core::NewVerification;
use crate::core::store::{AccountKey, Channel};
use crate::http::{self, Request, Response};
use crate::{App, phone};

type Result = std::result::Result<Response, PlivoError>;

/// Most objects a list page may hold.
const MAX_LIMIT: usize = 20;

pub(super) fn initiate(app: &App, key: &AccountKey, req: &Request) -> Result {
    let p = Params::from_body(req)?;
    let raw = p.text("phone_number").ok_or_else(|| bad("phone_number is mandatory"))?;
    let number =
        phone::parse_international(&raw).ok_or_else(|| bad(&format!("The number {raw} is not a valid number")))?;
    let requested_channel = match p.text("channel").map(|c| c.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("sms") => Some(Channel::Sms),
        Some("call") => Some(Channel::Call),
        Some(other) => return Err(bad(&format!("channel {other} is not one of sms, call"))),
    };
    let core = &app.core;
    let new = NewVerification {
        id: core.ids.uuid_v4(),
        phone_number: number.e164.clone(),
        country: number.country,
        label: p.text("alias").unwrap_or_default(),
        subaccount: p.subaccount().unwrap_or_default(),
        requested_channel,
        channel: requested_channel.unwrap_or(Channel::Sms),
        code: core.ids.digits(app.config.plivo_otp_length),
        ttl: Some(OTP_TTL),
        rings_after: None,
        callback: None,
    };
    let v = core.start_verification(key, new)?;
    Ok(http::json(
        StatusCode::OK,
        &Initiated {
            api_id: core.ids.uuid_v4(),
            message: format!("Verification code is sent to number {} which is valid for 15 minutes", v.phone_number),
            verification_uuid: v.id,
        },
    ))
}

pub(super) fn verify(app: &App, key: &AccountKey, req: &Request, uuid: &str) -> Result {
    let p = Params::from_body(req)?;
    let otp = p.text("otp").ok_or_else(|| bad("otp is mandatory"))?;
    let caller = app.core.check_code(key, uuid, otp.trim(), None)?;
    Ok(http::json(StatusCode::OK, &Verified::new(app.core.ids.uuid_v4(), caller)))
}

pub(super) fn get(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    let caller = app.core.caller_id(key, &number).ok_or(PlivoError::NotFound)?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(app.core.ids.uuid_v4(), caller)))
}

pub(super) fn update(app: &App, key: &AccountKey, req: &Request, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    let p = Params::from_body(req)?;
    let caller = app.core.update_caller_id(key, &number, p.text("alias"), p.subaccount())?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(app.core.ids.uuid_v4(), caller)))
}

pub(super) fn delete(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    app.core.delete_caller_id(key, &number)?;
    // Ruby's SDK fails on a 204 without a JSON content type.
    Ok(http::empty(StatusCode::NO_CONTENT, Some("application/json")))
}

pub(super) fn list(app: &App, key: &AccountKey, req: &Request) -> Result {
    let p = Params::from_query(req);
    let limit = p.count("limit", MAX_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad("The maximum number of results that can be fetched is 20. \
            limit can't be more than 20 or less than 1"));
    }
    let offset = p.count("offset", 0)?;
    let country = p.text("country");
    let subaccount = p.subaccount();
    let alias = p.text("alias");
    let matching: Vec<_> = app
        .core
        .caller_ids(key)
        .into_iter()
        .filter(|c| country.as_deref().is_none_or(|x| c.country.eq_ignore_ascii_case(x)))
        .filter(|c| subaccount.as_deref().is_none_or(|x| c.subaccount == x))
        .filter(|c| alias.as_deref().is_none_or(|x| c.label == x))
        .collect();
    let total_count = matching.len();
    let page_uri = |offset: usize| {
        let mut uri = format!("/v1/Account/{}/VerifiedCallerId/?limit={limit}&offset={offset}", key.account);
        for (name, value) in [("country", &country), ("subaccount", &subaccount), ("alias", &alias)] {
            if let Some(value) = value {
                uri.push_str(&format!("&{name}={}", percent_encode(value)));
            }
        }
        uri
    };
    let meta = Meta {
        limit,
        next: (offset + limit < total_count).then(|| page_uri(offset + limit)),
        offset,
        previous: (offset > 0).then(|| page_uri(offset.saturating_sub(limit))),
        total_count,
    };
    let objects = matching.into_iter().skip(offset).take(limit).map(|c| ListItem::new(key, c)).collect();
    Ok(http::json(StatusCode::OK, &ListBody { api_id: app.core.ids.uuid_v4(), meta, objects }))
}

fn bad(text: &str) -> PlivoError {
    PlivoError::BadRequest(text.to_owned())
}

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
