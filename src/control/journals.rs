//! The journals: `GET /_mock/requests` (what providers were asked) and `GET /_mock/callbacks`
//! (the webhooks sent), newest first, a page at a time. A filter on `account` reads that
//! account's own list; other filters walk the journal newest first until the page is full.

use hyper::StatusCode;

use super::wire::{Callbacks, DeliveryView, RequestView, Requests};
use super::{Result, bad, next_page, paging};
use crate::app::App;
use crate::http::{self, Request};

fn cursor(value: Option<String>) -> std::result::Result<Option<u64>, super::ControlError> {
    value.map(|b| b.parse::<u64>().map_err(|_| bad("before must be a cursor from a next link"))).transpose()
}

pub(super) fn requests(app: &App, req: &Request) -> Result {
    let provider = req.query_param("provider").map(|p| super::provider(app, &p)).transpose()?;
    let (account, operation) = (req.query_param("account"), req.query_param("operation"));
    let status = req.query_param("status").and_then(|s| s.parse::<u16>().ok());
    let (limit, before) = paging(req, "before")?;
    let (entries, next) = app.requests_page(account.as_deref(), cursor(before)?, limit, |r| {
        provider.is_none_or(|p| p == r.provider)
            && operation.as_deref().is_none_or(|o| o == r.operation)
            && status.is_none_or(|s| s == r.status)
    });
    let requests = entries.iter().map(|(id, r)| RequestView::new(app, *id, r)).collect();
    Ok(http::json(StatusCode::OK, &Requests { requests, next: next_page(req, "before", next.map(|n| n.to_string())) }))
}

pub(super) fn callbacks(app: &App, req: &Request) -> Result {
    let provider = req.query_param("provider").map(|p| super::provider(app, &p)).transpose()?;
    let (account, id) = (req.query_param("account"), req.query_param("id"));
    let (limit, before) = paging(req, "before")?;
    let (deliveries, next) = app.deliveries().page(account.as_deref(), cursor(before)?, limit, |d| {
        provider.is_none_or(|p| p == d.webhook.provider) && id.as_deref().is_none_or(|i| d.webhook.subject.is(i))
    });
    let callbacks = deliveries.iter().map(|d| DeliveryView::new(app, d)).collect();
    Ok(http::json(
        StatusCode::OK,
        &Callbacks { callbacks, next: next_page(req, "before", next.map(|n| n.to_string())) },
    ))
}
