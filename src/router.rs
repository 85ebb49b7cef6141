//! Reads a request whole, then sends it by its first path segment to the provider that owns
//! that prefix, or to the control plane. Each provider matches its own segments from there.

use std::time::Instant;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde_json::json;

use crate::http::{self, Request, Response};
use crate::providers::{plivo, seven, twilio};
use crate::{control, App};

/// The largest request body accepted; larger ones get 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

pub(crate) async fn handle(app: &App, req: hyper::Request<Incoming>) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return http::json(StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": "request body too large or unreadable", "status": 413}));
        }
    };
    let req = Request::new(parts.method, &path_and_query, parts.headers, body);
    let segments = req.segments();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let res = match segs.split_first() {
        Some((&"v1", rest)) => plivo::handle(app, &req, rest),
        Some((&"2010-04-01", rest)) => twilio::handle(app, &req, rest),
        Some((&"api", rest)) => seven::handle(app, &req, rest),
        Some((&"_mock", rest)) => control::handle(app, &req, rest).await,
        _ => not_found(),
    };
    tracing::debug!(method = %req.method, path = %req.path, status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, "request");
    res
}

fn not_found() -> Response {
    http::json(StatusCode::NOT_FOUND, &json!({"error": "no such route", "status": 404}))
}
