//! The six operations: what each request carries, parsed once ([`Initiate`], [`ListQuery`],
//! [`Update`], the OTP), and the work that applies it to the core and renders Plivo's body.

use hyper::StatusCode;

use super::error::PlivoError;
use super::params::Params;
use super::wire::{CallerIdBody, Initiated, ListBody, ListItem, Meta, Verified};
use super::{MAX_WRONG_OTPS, OTP_TTL, REQUESTED_CHANNEL, SUBACCOUNT};
use crate::core::model::{AccountKey, Attributes, CallerId, Channel};
use crate::core::phone::{self, Number};
use crate::core::{CallerLookup, CallerQuery, CodeLookup, Core, NewVerification, Start};
use crate::http::{self, Response};

pub(super) type Result<T = Response> = std::result::Result<T, PlivoError>;

/// Most objects a list page may hold.
const MAX_LIMIT: usize = 20;

/// An initiate request.
pub(super) struct Initiate {
    pub number: Number,
    alias: String,
    subaccount: String,
    channel: Option<Channel>,
}

impl Initiate {
    pub fn parse(p: Params) -> Result<Initiate> {
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

/// A verify request's OTP.
pub(super) fn otp(p: Params) -> Result<String> {
    Ok(p.text("otp").ok_or_else(|| bad("otp is mandatory"))?.trim().to_owned())
}

/// An update request: the alias and subaccount it sets (`None` leaves one as it is).
pub(super) struct Update {
    alias: Option<String>,
    subaccount: Option<String>,
}

impl Update {
    pub fn parse(p: Params) -> Update {
        Update { alias: p.text("alias"), subaccount: p.subaccount() }
    }
}

/// A list request: its page and filters.
pub(super) struct ListQuery {
    limit: usize,
    offset: usize,
    country: Option<String>,
    subaccount: Option<String>,
    alias: Option<String>,
}

impl ListQuery {
    pub fn parse(p: &Params) -> Result<ListQuery> {
        let limit = p.count("limit", MAX_LIMIT)?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad("The maximum number of results that can be fetched is 20. \
                limit can't be more than 20 or less than 1"));
        }
        Ok(ListQuery {
            limit,
            offset: p.count("offset", 0)?,
            country: p.text("country"),
            subaccount: p.subaccount(),
            alias: p.text("alias"),
        })
    }
}

pub(super) fn initiate(core: &Core, key: &AccountKey, i: Initiate, otp_length: usize) -> Result {
    let ids = core.ids();
    let mut attributes = Attributes::default();
    attributes.set(SUBACCOUNT, &i.subaccount);
    attributes.set(REQUESTED_CHANNEL, i.channel.map_or("", Channel::as_str));
    let new = NewVerification::submitted(key.clone(), ids.uuid_v4(), i.number, ids.digits(otp_length), OTP_TTL)
        .with_label(i.alias)
        .with_attributes(attributes);
    // A code sent by a call rings at once and is read out when answered.
    let new = if i.channel == Some(Channel::Call) { new.read_out_by_call() } else { new };
    let v = core.start_verification(new)?;
    Ok(http::json(
        StatusCode::OK,
        &Initiated {
            api_id: ids.uuid_v4(),
            message: format!("Verification code is sent to number {} which is valid for 15 minutes", v.phone_number),
            verification_uuid: v.id,
        },
    ))
}

pub(super) fn verify(core: &Core, key: &AccountKey, uuid: &str, otp: &str) -> Result {
    let (v, caller) = core.check_code(key, CodeLookup::Id(uuid), otp, MAX_WRONG_OTPS)?;
    let channel = v.attributes.get(REQUESTED_CHANNEL).unwrap_or_default();
    Ok(http::json(StatusCode::OK, &Verified::new(core.ids().uuid_v4(), channel, caller)))
}

pub(super) fn get(core: &Core, key: &AccountKey, number: &str) -> Result {
    let caller = core.caller_id(key, CallerLookup::Number(number)).ok_or(PlivoError::NotFound)?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(core.ids().uuid_v4(), caller)))
}

pub(super) fn update(core: &Core, key: &AccountKey, number: &str, u: Update) -> Result {
    let attributes = [(SUBACCOUNT, u.subaccount)];
    let caller = core.update_caller_id(key, CallerLookup::Number(number), u.alias, &attributes)?;
    Ok(http::json(StatusCode::OK, &CallerIdBody::new(core.ids().uuid_v4(), caller)))
}

pub(super) fn delete(core: &Core, key: &AccountKey, number: &str) -> Result {
    core.delete_caller_id(key, CallerLookup::Number(number))?;
    // Ruby's SDK fails on a 204 without a JSON content type.
    Ok(http::empty(StatusCode::NO_CONTENT, Some("application/json")))
}

/// Newest first. `offset` costs O(offset); a `country`, `subaccount` or `alias` filter visits
/// every caller ID of the account (none of them is indexed).
pub(super) fn list(core: &Core, key: &AccountKey, q: &ListQuery) -> Result {
    let keep = |c: &CallerId| {
        q.country.as_deref().is_none_or(|x| c.country.eq_ignore_ascii_case(x))
            && q.subaccount.as_deref().is_none_or(|x| c.attributes.get(SUBACCOUNT).unwrap_or("") == x)
            && q.alias.as_deref().is_none_or(|x| c.label == x)
    };
    let filtered = q.country.is_some() || q.subaccount.is_some() || q.alias.is_some();
    let query = CallerQuery {
        start: Start::Offset(q.offset),
        limit: q.limit,
        number: None,
        keep: filtered.then_some(&keep as &dyn Fn(&CallerId) -> bool),
        count: true,
    };
    let page = core.caller_ids(key, &query).unwrap_or_default();
    let total_count = page.total;
    let (limit, offset) = (q.limit, q.offset);
    let page_uri = |offset: usize| {
        let mut uri = format!("/v1/Account/{}/VerifiedCallerId/?limit={limit}&offset={offset}", key.account);
        for (name, value) in [("country", &q.country), ("subaccount", &q.subaccount), ("alias", &q.alias)] {
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
    Ok(http::json(StatusCode::OK, &ListBody { api_id: core.ids().uuid_v4(), meta, objects }))
}

fn bad(text: &str) -> PlivoError {
    PlivoError::BadRequest(text.to_owned())
}

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
