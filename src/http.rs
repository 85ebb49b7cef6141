//! Request and response helpers shared by every provider: the owned request, path segments,
//! query and form parsing, Basic auth, and JSON/empty responses.

use std::convert::Infallible;

use base64::Engine as _;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde::Serialize;

use crate::core::time::Timestamp;

/// A response; its body is boxed so a stream (Server-Sent Events, a forwarded answer) fits
/// beside whole bodies. A stream that breaks ends in an error, so that the answer is cut off
/// (the client sees it short) rather than ended as if it were whole.
pub(crate) type Response = hyper::Response<BoxBody<Bytes, BodyError>>;

/// Why a response body broke off.
pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A body that cannot break, boxed as a response's.
pub(crate) fn body<B>(body: B) -> BoxBody<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
{
    body.map_err(|e| match e {}).boxed()
}

/// A request read whole, before any state is touched.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: Method,
    /// The raw path, not decoded.
    pub path: String,
    /// The raw query string, `""` when there is none.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn new(method: Method, path_and_query: &str, headers: HeaderMap, body: Bytes) -> Request {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Request { method, path: path.to_owned(), query: query.to_owned(), headers, body }
    }

    /// Query parameters in order; a malformed query yields what could be read.
    pub fn query_pairs(&self) -> Pairs {
        Pairs::form(self.query.as_bytes())
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().get(name).map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The `Authorization: Basic` user and password, if present and well formed.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?.trim();
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// A path split on `/`, each segment percent-decoded, without the empty segments of a leading
/// or trailing slash: `/v1/Account/MA1/VerifiedCallerId/` → `v1 Account MA1 VerifiedCallerId`.
/// A segment with nothing to decode is borrowed, not copied.
pub(crate) fn segments(path: &str) -> Vec<std::borrow::Cow<'_, str>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(|s| if s.contains('%') { percent_decode(s).into() } else { s.into() }).collect()
}

/// Percent-decodes a path segment; `+` stays `+` (it is not a space in a path).
pub(crate) fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Name-value pairs in order (a query string, a form body); the first value of a name wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pairs(Vec<(String, String)>);

impl Pairs {
    /// Parses `application/x-www-form-urlencoded` (also query strings); a malformed input
    /// yields nothing.
    pub fn form(input: &[u8]) -> Pairs {
        Pairs(serde_urlencoded::from_bytes::<Vec<(String, String)>>(input).unwrap_or_default())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order (a parameter the SDKs repeat).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn push(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }

    pub fn extend(&mut self, other: Pairs) {
        self.0.extend(other.0);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// An HTTP `Date` value (`Thu, 01 Jan 2026 00:00:00 GMT`) for `now`, formatted once per second
/// per thread.
pub(crate) fn date(now: Timestamp) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, HeaderValue)> = const { std::cell::RefCell::new((i64::MIN, HeaderValue::from_static(""))) };
    }
    let secs = now.unix_seconds();
    LAST.with_borrow_mut(|(at, value)| {
        if *at != secs {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0).unsigned_abs());
            *value = HeaderValue::from_str(&httpdate::fmt_http_date(time)).expect("an HTTP date is ASCII");
            *at = secs;
        }
        value.clone()
    })
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).expect("response types serialize");
    json_bytes(status, bytes)
}

pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    bytes(status, "application/json", body)
}

/// A whole body with its content type (HTML, XML).
pub(crate) fn bytes(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut res = hyper::Response::new(self::body(Full::new(body.into())));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A response with no body and, if given, a `Content-Type`.
pub(crate) fn empty(status: StatusCode, content_type: Option<&'static str>) -> Response {
    let mut res = hyper::Response::new(body(Full::new(Bytes::new())));
    *res.status_mut() = status;
    if let Some(ct) = content_type {
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    res
}

/// A JSON body's fields, as the JSON APIs read them: an empty (or blank) body has none; `None`
/// when the body is not a JSON object.
pub fn json_object(body: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(serde_json::Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str) -> Request {
        Request::new(Method::GET, path, HeaderMap::new(), Bytes::new())
    }

    #[test]
    fn splits_and_decodes_segments() {
        assert_eq!(segments("/v1/Account/MA1/VerifiedCallerId/"), ["v1", "Account", "MA1", "VerifiedCallerId"]);
        assert_eq!(segments("/a/%2B1202/b"), ["a", "+1202", "b"]);
        assert_eq!(segments("/a/+1202"), ["a", "+1202"]);
        assert!(segments("/").is_empty());
    }

    #[test]
    fn reads_query_pairs() {
        let r = req("/x?country=US&limit=20&alias=a%20b&plus=%2B1");
        assert_eq!(r.query, "country=US&limit=20&alias=a%20b&plus=%2B1");
        let pairs = r.query_pairs();
        assert_eq!(pairs.get("alias"), Some("a b"));
        assert_eq!(pairs.get("plus"), Some("+1"));
    }

    #[test]
    fn decodes_basic_auth() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Basic TUFYWFhYWFhYWFhYWFhYWFhYWFg6dG9rZW4xMjM="));
        let r = Request::new(Method::GET, "/", headers, Bytes::new());
        assert_eq!(r.basic_auth(), Some(("MAXXXXXXXXXXXXXXXXXX".into(), "token123".into())));
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Basic !!!"));
        assert_eq!(Request::new(Method::GET, "/", headers, Bytes::new()).basic_auth(), None);
    }
}
