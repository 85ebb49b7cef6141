//! The provider-neutral control plane under `/_mock/`: JSON in and out, for tests. [`ROUTES`]
//! is the whole of it: the dispatcher matches requests against it, and a test holds it equal
//! to the OpenAPI document served at `/_mock/openapi.json`. Errors are `{"error", "status"}`.

mod admin;
mod codes;
mod faults;
mod inbox;
mod wire;

use hyper::StatusCode;
use serde_json::json;

use crate::App;
use crate::http::{self, Request, Response};

/// A control operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Inbox,
    Events,
    Health,
    OpenApi,
    Codes,
    LatestCode,
    Answer,
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
    ("GET", "/openapi.json", Route::OpenApi),
    ("GET", "/codes", Route::Codes),
    ("GET", "/codes/latest", Route::LatestCode),
    ("POST", "/calls/{id}/answer", Route::Answer),
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

/// The OpenAPI 3.1 document of the control plane.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

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

/// Handles a request whose path started with `/_mock`; `segs` is the rest.
pub(crate) async fn handle(app: &App, req: &Request, segs: &[&str]) -> Response {
    let matching: Vec<_> = ROUTES.iter().filter_map(|(m, p, r)| Some((*m, *r, bind(p, segs)?))).collect();
    let Some((_, route, params)) = matching.iter().find(|(m, _, _)| *m == req.method.as_str()) else {
        return match matching.is_empty() {
            true => error(StatusCode::NOT_FOUND, "no such control route"),
            false => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        };
    };
    let result = match route {
        Route::Inbox => Ok(inbox::page()),
        Route::Events => Ok(inbox::events(app)),
        Route::Health => Ok(admin::health(app)),
        Route::OpenApi => Ok(http::json_bytes(StatusCode::OK, OPENAPI.as_bytes().to_vec())),
        Route::Codes => codes::list(app, req),
        Route::LatestCode => codes::latest(app, req).await,
        Route::Answer => codes::answer(app, req, params[0]),
        Route::GetClock => Ok(admin::clock_view(app)),
        Route::MoveClock => admin::move_clock(app, req),
        Route::Reset => Ok(admin::reset(app, req)),
        Route::Callbacks => Ok(admin::callbacks(app, req)),
        Route::Requests => Ok(faults::requests(app, req)),
        Route::AddFault => faults::add(app, req),
        Route::ListFaults => Ok(faults::list(app)),
        Route::ClearFaults => Ok(faults::clear(app)),
        Route::ExportState => Ok(admin::export_state(app)),
        Route::ImportState => admin::import_state(app, req),
    };
    result.unwrap_or_else(|(status, text)| error(status, &text))
}

type Result = std::result::Result<Response, (StatusCode, String)>;

fn error(status: StatusCode, text: &str) -> Response {
    http::json(status, &json!({"error": text, "status": status.as_u16()}))
}

fn bad(text: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, text.into())
}

/// The value of query parameter `name`.
fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_openapi_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
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
