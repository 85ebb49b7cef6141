//! The provider-neutral control plane under `/_mock/`: JSON in and out, for tests. [`ROUTES`]
//! is the whole of it: the dispatcher matches requests against it, and a test holds it equal
//! to the OpenAPI document served at `/_mock/openapi.json`. Errors are `{"error", "status"}`.
//!
//! Listings (`codes`, `caller-ids`, `requests`, `callbacks`) are pages: `limit` (default
//! [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]) entries, newest first, and `next`, the path of the
//! next page, or `null`.

mod admin;
mod calls;
mod codes;
mod faults;
mod guard;
mod inbox;
mod journals;
mod state;
mod wire;

use hyper::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::http::{self, Request, Response};

pub(crate) use guard::check as guard;
pub(crate) use state::import_streamed;

/// Entries a page holds unless `limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// The most entries a page may hold.
pub(crate) const MAX_LIMIT: usize = 1000;

/// A control operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Inbox,
    Events,
    Health,
    Stats,
    OpenApi,
    CaCert,
    Keys,
    Codes,
    LatestCode,
    Calls,
    Answer,
    HangUp,
    Numbers,
    Own,
    Disown,
    CallerIds,
    GetClock,
    MoveClock,
    Reset,
    Callbacks,
    Requests,
    AddFault,
    ListFaults,
    ClearFaults,
    ExportState,
    ImportState,
}

/// Every control route: method, path below `/_mock` (`{name}` matches one segment), operation.
pub(crate) const ROUTES: &[(&str, &str, Route)] = &[
    ("GET", "/", Route::Inbox),
    ("GET", "/events", Route::Events),
    ("GET", "/health", Route::Health),
    ("GET", "/stats", Route::Stats),
    ("GET", "/openapi.json", Route::OpenApi),
    ("GET", "/ca.pem", Route::CaCert),
    ("GET", "/keys", Route::Keys),
    ("GET", "/codes", Route::Codes),
    ("GET", "/codes/latest", Route::LatestCode),
    ("GET", "/calls", Route::Calls),
    ("POST", "/calls/{id}/answer", Route::Answer),
    ("POST", "/calls/{id}/hangup", Route::HangUp),
    ("GET", "/numbers", Route::Numbers),
    ("POST", "/numbers", Route::Own),
    ("DELETE", "/numbers", Route::Disown),
    ("GET", "/caller-ids", Route::CallerIds),
    ("GET", "/clock", Route::GetClock),
    ("POST", "/clock", Route::MoveClock),
    ("POST", "/reset", Route::Reset),
    ("GET", "/callbacks", Route::Callbacks),
    ("GET", "/requests", Route::Requests),
    ("POST", "/faults", Route::AddFault),
    ("GET", "/faults", Route::ListFaults),
    ("DELETE", "/faults", Route::ClearFaults),
    ("GET", "/state", Route::ExportState),
    ("PUT", "/state", Route::ImportState),
];

/// The segments `pattern` binds (`{id}` → the segment), if `segs` match it.
fn bind<'a>(pattern: &str, segs: &[&'a str]) -> Option<Vec<&'a str>> {
    let trimmed = pattern.trim_start_matches('/');
    let parts: Vec<&str> = if trimmed.is_empty() { Vec::new() } else { trimmed.split('/').collect() };
    if parts.len() != segs.len() {
        return None;
    }
    let mut bound = Vec::new();
    for (part, seg) in parts.iter().zip(segs) {
        if part.starts_with('{') {
            bound.push(*seg);
        } else if part != seg {
            return None;
        }
    }
    Some(bound)
}

/// The route a request below `/_mock` names, with its bound segments; or why there is none.
pub(crate) fn route<'a>(method: &str, segs: &[&'a str]) -> std::result::Result<(Route, Vec<&'a str>), ControlError> {
    let matching: Vec<_> = ROUTES.iter().filter_map(|(m, p, r)| Some((*m, *r, bind(p, segs)?))).collect();
    let refused = |status, message: &str| ControlError { status, message: message.to_owned() };
    match matching.iter().find(|(m, _, _)| *m == method) {
        Some((_, route, params)) => Ok((*route, params.clone())),
        None if matching.is_empty() => Err(refused(StatusCode::NOT_FOUND, "no such control route")),
        None => Err(refused(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")),
    }
}

/// Handles a request whose path started with `/_mock`; `segs` is the rest.
pub(crate) async fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    let (route, params) = match route(req.method.as_str(), segs) {
        Ok(found) => found,
        Err(e) => return error(e.status, &e.message),
    };
    let result = match route {
        Route::Inbox => Ok(inbox::page()),
        Route::Events => inbox::events(app),
        Route::Health => Ok(admin::health(app)),
        Route::Stats => Ok(admin::stats(app)),
        Route::OpenApi => Ok(http::json(StatusCode::OK, &admin::openapi(app))),
        Route::CaCert => admin::ca_cert(app),
        Route::Keys => Ok(admin::keys(app)),
        Route::Codes => codes::list(app, req),
        Route::LatestCode => codes::latest(app, req).await,
        Route::Calls => calls::list(app, req),
        Route::Answer => calls::pick_up(app, req, params[0]),
        Route::HangUp => calls::hang_up(app, params[0]),
        Route::Numbers => calls::numbers(app, req),
        Route::Own => calls::own(app, req),
        Route::Disown => calls::disown(app, req),
        Route::CallerIds => codes::caller_ids(app, req),
        Route::GetClock => Ok(admin::clock_view(app)),
        Route::MoveClock => admin::move_clock(app, req),
        Route::Reset => Ok(admin::reset(app, req)),
        Route::Callbacks => journals::callbacks(app, req),
        Route::Requests => journals::requests(app, req),
        Route::AddFault => faults::add(app, req),
        Route::ListFaults => Ok(faults::list(app)),
        Route::ClearFaults => Ok(faults::clear(app)),
        Route::ExportState => Ok(state::export(app)),
        Route::ImportState => state::import(app, &req.body).await,
    };
    result.unwrap_or_else(|e| error(e.status, &e.message))
}

/// A control-plane error: its status and what to say.
#[derive(Debug)]
pub(crate) struct ControlError {
    pub status: StatusCode,
    pub message: String,
}

type Result = std::result::Result<Response, ControlError>;

pub(crate) fn error(status: StatusCode, text: &str) -> Response {
    http::json(status, &json!({"error": text, "status": status.as_u16()}))
}

/// The answer when a change could not be written to the state file.
pub(crate) fn not_saved(cause: &str) -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, &format!("the state file cannot be written: {cause}"))
}

/// A core refusal of a control-plane write: 503 for the state file, 429 for a cap.
fn core_error(e: crate::core::CoreError) -> ControlError {
    use crate::core::CoreError;
    match e {
        CoreError::NotSaved(cause) => ControlError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("the state file cannot be written: {cause}"),
        },
        CoreError::LimitReached(limit) => ControlError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("the emulator's {} cap is reached", limit.describe()),
        },
        other => bad(format!("{other:?}")),
    }
}

fn bad(text: impl Into<String>) -> ControlError {
    ControlError { status: StatusCode::BAD_REQUEST, message: text.into() }
}

/// The registry's name for a `provider` filter, or a 400 listing the providers (every route
/// that takes one answers an unknown name alike).
fn provider(app: &App, value: &str) -> std::result::Result<&'static str, ControlError> {
    app.providers()
        .by_name(value)
        .map(|p| p.name())
        .ok_or_else(|| bad(format!("unknown provider {value:?}; one of {:?}", app.providers().names())))
}

/// A slot for a long-poll or an event stream, or a 503 naming `--max-waiters`.
fn waiter_slot(app: &App) -> std::result::Result<tokio::sync::OwnedSemaphorePermit, ControlError> {
    app.waiter_slot().ok_or_else(|| ControlError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: format!("too many long-polls and event streams at once (--max-waiters {})", app.config().max_waiters),
    })
}

/// `limit` and the cursor named `cursor` of a listing.
fn paging(req: &Request, cursor: &str) -> std::result::Result<(usize, Option<String>), ControlError> {
    let limit = match req.query_param("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| bad(format!("limit must be an integer from 1 to {MAX_LIMIT}")))?,
    };
    Ok((limit, req.query_param(cursor)))
}

/// The path of the next page: this request's query with `cursor` set to `value`.
fn next_page(req: &Request, cursor: &str, value: Option<String>) -> Option<String> {
    let value = value?;
    let mut pairs: Vec<(String, String)> =
        req.query_pairs().iter().filter(|(k, _)| *k != cursor).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    pairs.push((cursor.to_owned(), value));
    Some(format!("{}?{}", req.path, serde_urlencoded::to_string(&pairs).expect("pairs of strings encode")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_openapi_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(admin::OPENAPI).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys().filter(|k| *k != "parameters") {
                documented.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
        let routed: BTreeSet<_> = ROUTES.iter().map(|(m, p, _)| (m.to_string(), format!("/_mock{p}"))).collect();
        assert_eq!(routed, documented);
    }

    #[test]
    fn patterns_bind_their_parameters() {
        assert_eq!(bind("/calls/{id}/answer", &["calls", "CA1", "answer"]), Some(vec!["CA1"]));
        assert_eq!(bind("/codes", &["codes"]), Some(vec![]));
        assert_eq!(bind("/codes", &["codes", "latest"]), None);
        assert_eq!(bind("/codes/latest", &["codes", "x"]), None);
        assert_eq!(bind("/", &[]), Some(vec![]));
        assert_eq!(bind("/", &["x"]), None);
    }
}
