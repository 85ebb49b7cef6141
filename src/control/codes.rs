//! The codes "sent", and the verified caller IDs: `GET /_mock/codes`, `GET /_mock/codes/latest`,
//! `GET /_mock/caller-ids`.

use std::time::Duration;

use base64::Engine as _;
use hyper::StatusCode;

use super::wire::{CallerIdView, CallerIds, CodeView, Codes};
use super::{ControlError, Result, bad, next_page, paging};
use crate::app::App;
use crate::core::CodeFilter;
use crate::core::model::{AccountKey, Order, VerificationState};
use crate::core::phone;
use crate::core::time::{Timestamp, parse_duration};
use crate::http::{self, Request};

/// The longest a `codes/latest` request waits.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

fn filter(app: &App, req: &Request) -> std::result::Result<CodeFilter, ControlError> {
    let mut filter = CodeFilter::default();
    for (name, value) in req.query_pairs().iter() {
        match name {
            "provider" => filter.provider = Some(super::provider(app, value)?),
            "account" => filter.account = Some(value.to_owned()),
            "number" => {
                let key = phone::path_key(value).ok_or_else(|| bad(format!("number {value:?} is not +digits")))?;
                filter.number = Some(key);
            }
            "state" => {
                let state = VerificationState::parse(value).ok_or_else(|| bad(format!("unknown state {value:?}")))?;
                filter.state = Some(state);
            }
            _ => {}
        }
    }
    Ok(filter)
}

pub(super) fn list(app: &App, req: &Request) -> Result {
    let filter = filter(app, req)?;
    let (limit, before) = paging(req, "before")?;
    let before =
        before.map(|b| b.parse::<u64>().map_err(|_| bad("before must be a cursor from a next link"))).transpose()?;
    let (found, next) = app.core().codes(&filter, before, limit);
    let codes = found.iter().map(|v| CodeView::new(app, v)).collect();
    Ok(http::json(StatusCode::OK, &Codes { codes, next: next_page(req, "before", next.map(|n| n.to_string())) }))
}

/// The newest matching code, waiting up to `wait` (real time, at most [`MAX_WAIT`]) for one to
/// be issued. Woken only by a code for the number or account it waits on: no polling, no scan.
pub(super) async fn latest(app: &App, req: &Request) -> Result {
    let filter = filter(app, req)?;
    let wait = match req.query_param("wait") {
        None => Duration::ZERO,
        Some(w) => parse_duration(&w).ok_or_else(|| bad(format!("wait {w:?} is not a duration such as 10s")))?,
    }
    .min(MAX_WAIT);
    if wait.is_zero() {
        return match app.core().latest_code(&filter) {
            Some(v) => Ok(http::json(StatusCode::OK, &CodeView::new(app, &v))),
            None => Err(no_code(app, &filter, "")),
        };
    }
    let _slot = super::waiter_slot(app)?;
    let deadline = tokio::time::Instant::now() + wait;
    let waiter = app.core().watch_codes(&filter);
    let mut shutdown = app.shutdown();
    loop {
        // Enabled before looking, so a code issued in between still wakes us.
        let issued = waiter.notified();
        tokio::pin!(issued);
        issued.as_mut().enable();
        if let Some(v) = app.core().latest_code(&filter) {
            return Ok(http::json(StatusCode::OK, &CodeView::new(app, &v)));
        }
        tokio::select! {
            _ = issued => {}
            _ = tokio::time::sleep_until(deadline) => {
                return Err(no_code(app, &filter, &format!(" within {}ms", wait.as_millis())));
            }
            _ = shutdown.stopped() => {
                return Err(ControlError { status: StatusCode::SERVICE_UNAVAILABLE, message: "the server is shutting down".into() });
            }
        }
    }
}

/// How many of the newest codes' numbers a "no code" answer names.
const NUMBERS_SHOWN: usize = 5;

/// 404 for a code that is not there: what was looked for, and the numbers the newest codes
/// went to (so that a number written another way, or the wrong account, shows at once).
fn no_code(app: &App, filter: &CodeFilter, waited: &str) -> ControlError {
    let mut wanted = Vec::new();
    if let Some(number) = &filter.number {
        wanted.push(format!("number {number}"));
    }
    if let Some(account) = &filter.account {
        wanted.push(format!("account {account}"));
    }
    if let Some(provider) = filter.provider {
        wanted.push(format!("provider {provider}"));
    }
    if let Some(state) = filter.state {
        wanted.push(format!("state {}", state.as_str()));
    }
    let wanted = if wanted.is_empty() { "any".to_owned() } else { wanted.join(", ") };
    let (newest, _) = app.core().codes(&CodeFilter::default(), None, 100);
    let mut numbers: Vec<&str> = Vec::new();
    for v in &newest {
        if numbers.len() < NUMBERS_SHOWN && !numbers.contains(&v.phone_number.as_str()) {
            numbers.push(&v.phone_number);
        }
    }
    let seen = match numbers.is_empty() {
        true => "no code has been sent yet".to_owned(),
        false => format!("the newest codes went to {}", numbers.join(", ")),
    };
    ControlError { status: StatusCode::NOT_FOUND, message: format!("no code for {wanted}{waited}; {seen}") }
}

/// Verified caller IDs of every account (or `provider`, `account`), a page at a time.
pub(super) fn caller_ids(app: &App, req: &Request) -> Result {
    let provider = req.query_param("provider").map(|p| super::provider(app, &p)).transpose()?;
    let account = req.query_param("account");
    let (limit, after) = paging(req, "after")?;
    let after = after
        .map(|a| decode_cursor(app, &a).ok_or_else(|| bad("after must be a cursor from a next link")))
        .transpose()?;
    let (found, next) = app.core().caller_ids_across(provider, account.as_deref(), after, limit);
    let caller_ids = found.iter().map(|(key, c)| CallerIdView::new(app, key, c)).collect();
    let next = next_page(req, "after", next.map(|c| encode_cursor(&c)));
    Ok(http::json(StatusCode::OK, &CallerIds { caller_ids, next }))
}

fn encode_cursor((key, order): &(AccountKey, Order)) -> String {
    // The account last: it is the one part that may hold any character.
    let raw = format!("{}\n{}\n{}\n{}", key.provider, order.created_at().as_nanos(), order.seq(), key.account);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(app: &App, cursor: &str) -> Option<(AccountKey, Order)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.splitn(4, '\n');
    let provider = app.providers().by_name(parts.next()?)?.name();
    let created = parts.next()?.parse::<i64>().ok()?;
    let seq = parts.next()?.parse::<u64>().ok()?;
    let account = parts.next()?;
    let order = Order::new(Timestamp::from_nanos(created), seq);
    Some((AccountKey::new(provider, account), order))
}
