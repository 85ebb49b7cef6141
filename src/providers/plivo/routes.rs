//! The six operations: apply the parsed request to the core, render Plivo's body.

use hyper::StatusCode;

use super::error::PlivoError;
use super::params::Params;
use super::wire::{CallerIdBody, Initiated, ListBody, ListItem, Meta, Verified};
use super::{OTP_TTL, SUBACCOUNT};
use crate::app::App;
use crate::core::phone::{self, Number};
use crate::core::store::{AccountKey, Attributes, CallerId, Channel, Entry};
use crate::core::{CallerLookup, CallerQuery, CodeLookup, NewVerification, SigningKey, Start};
use crate::http::{self, Response};

pub(super) type Result = std::result::Result<Response, PlivoError>;

/// Most objects a list page may hold.
const MAX_LIMIT: usize = 20;

/// An initiate request, parsed.
pub(super) struct Initiate {
    pub number: Number,
    alias: String,
    subaccount: String,
    channel: Option<Channel>,
}

impl Initiate {
    pub fn parse(p: Params) -> std::result::Result<Initiate, PlivoError> {
        let raw = p.text("phone_number").ok_or_else(|| bad("phone_number is mandatory"))?;
        let number =
            phone::parse_international(&raw).ok_or_else(|| bad(&format!("The number {raw} is not a valid number")))?;
        let channel = match p.text("channel").map(|c| c.to_ascii_lowercase()).as_deref() {
            None => None,
            Some("sms") => Some(Channel::Sms),
            Some("call") => Some(Channel::Call),
            Some(other) => return Err(bad(&format!("channel {other} is not one of sms, call"))),
        };
        Ok(Initiate {
            number,
            alias: p.text("alias").unwrap_or_default(),
            subaccount: p.subaccount().unwrap_or_default(),
            channel,
        })
    }
}

pub(super) fn initiate(app: &App, key: &AccountKey, i: Initiate, otp_length: usize) -> Result {
    let ids = app.core.ids();
    let mut attributes = Attributes::default();
    attributes.set(SUBACCOUNT, &i.subaccount);
    let channel = i.channel.unwrap_or(Channel::Sms);
    let new = NewVerification {
        key: key.clone(),
        id: ids.uuid_v4(),
        phone_number: i.number.e164,
        country: i.number.country,
        label: i.alias,
        attributes,
        requested_channel: i.channel,
        channel,
        entry: Entry::Api,
        code: ids.digits(otp_length),
        ttl: OTP_TTL,
        // A code sent by a call rings at once and is read out when answered.
        rings_after: (channel == Channel::Call).then_some(std::time::Duration::ZERO),
        callback: None,
        signing_key: SigningKey::AsGiven,
    };
    let v = app.core.start_verification(new)?;
    Ok(http::json(
        StatusCode::OK,
        &Initiated {
            api_id: ids.uuid_v4(),
            message: format!("Verification code is sent to number {} which is valid for 15 minutes", v.phone_number),
            verification_uuid: v.id,
        },
    ))
}

pub(super) fn verify(app: &App, key: &AccountKey, p: &Params, uuid: &str) -> Result {
    let otp = p.text("otp").ok_or_else(|| bad("otp is mandatory"))?;
    let (v, caller) = app.core.check_code(key, CodeLookup::Id(uuid), otp.trim())?;
    Ok(http::json(StatusCode::OK, &Verified::new(app.core.ids().uuid_v4(), v.requested_channel, caller)))
}

pub(super) fn get(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    let caller = app.core.caller_id(key, CallerLookup::Number(&number)).ok_or(PlivoError::NotFound)?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(app.core.ids().uuid_v4(), caller)))
}

pub(super) fn update(app: &App, key: &AccountKey, p: &Params, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    let attributes = [(SUBACCOUNT, p.subaccount())];
    let caller = app.core.update_caller_id(key, CallerLookup::Number(&number), p.text("alias"), &attributes)?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(app.core.ids().uuid_v4(), caller)))
}

pub(super) fn delete(app: &App, key: &AccountKey, number: &str) -> Result {
    let number = phone::path_key(number).ok_or(PlivoError::NotFound)?;
    app.core.delete_caller_id(key, CallerLookup::Number(&number))?;
    // Ruby's SDK fails on a 204 without a JSON content type.
    Ok(http::empty(StatusCode::NO_CONTENT, Some("application/json")))
}

/// Newest first. `offset` costs O(offset); a `country`, `subaccount` or `alias` filter visits
/// every caller ID of the account (none of them is indexed).
pub(super) fn list(app: &App, key: &AccountKey, p: &Params) -> Result {
    let limit = p.count("limit", MAX_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad("The maximum number of results that can be fetched is 20. \
            limit can't be more than 20 or less than 1"));
    }
    let offset = p.count("offset", 0)?;
    let country = p.text("country");
    let subaccount = p.subaccount();
    let alias = p.text("alias");
    let keep = |c: &CallerId| {
        country.as_deref().is_none_or(|x| c.country.eq_ignore_ascii_case(x))
            && subaccount.as_deref().is_none_or(|x| c.attributes.get(SUBACCOUNT).unwrap_or("") == x)
            && alias.as_deref().is_none_or(|x| c.label == x)
    };
    let filtered = country.is_some() || subaccount.is_some() || alias.is_some();
    let query = CallerQuery {
        start: Start::Offset(offset),
        limit,
        number: None,
        keep: filtered.then_some(&keep as &dyn Fn(&CallerId) -> bool),
        count: true,
    };
    let page = app.core.caller_ids(key, &query).unwrap_or_default();
    let total_count = page.total;
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
    let objects = page.items.into_iter().map(|c| ListItem::new(key, c)).collect();
    Ok(http::json(StatusCode::OK, &ListBody { api_id: app.core.ids().uuid_v4(), meta, objects }))
}

fn bad(text: &str) -> PlivoError {
    PlivoError::BadRequest(text.to_owned())
}

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
