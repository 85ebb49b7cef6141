//! Reading Plivo request parameters as the SDKs send them: JSON bodies with unknown keys,
//! `null`s and `""` meaning "not given" (Ruby sends nulls, Go empty strings), the 2-byte body
//! `""` from Node on GET/DELETE, and Node's `sub_account` for `subaccount`.

use serde_json::{Map, Value};

use super::error::PlivoError;
use crate::http::{Pairs, Request};

/// Request parameters: the JSON body's keys (or form fields), then query pairs.
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Reads a body; anything but a JSON object (an empty body, `""`, `null`) has no keys.
    pub fn from_body(req: &Request) -> Result<Params, PlivoError> {
        let body = req.body.as_ref();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params(map)),
            Ok(_) => Ok(Params(Map::new())),
            // Plivo takes JSON only, but a form body (curl -d) is read rather than refused.
            Err(_) if is_form(req) => {
                let pairs = Pairs::form(body);
                Ok(Params(pairs.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect()))
            }
            Err(_) => Err(PlivoError::BadRequest("request body is not valid JSON".into())),
        }
    }

    pub fn from_query(req: &Request) -> Params {
        Params(req.query_pairs().iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect())
    }

    /// A parameter as text; absent, `null` and `""` are all `None`.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A parameter that may be a list (plivo-java sends a call's `to` as a JSON array): its
    /// items joined with `sep`, or the text as given.
    pub fn joined(&self, key: &str, sep: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::Array(items) => {
                let texts: Vec<String> = items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                (!texts.is_empty()).then(|| texts.join(sep))
            }
            _ => self.text(key),
        }
    }

    /// Every parameter given, as text (absent, `null`, `""`, arrays and objects left out).
    pub fn entries(&self) -> impl Iterator<Item = (&str, String)> {
        self.0.keys().filter_map(|k| Some((k.as_str(), self.text(k)?)))
    }

    /// `subaccount`, or `sub_account` as the Node SDK spells it.
    pub fn subaccount(&self) -> Option<String> {
        self.text("subaccount").or_else(|| self.text("sub_account"))
    }

    /// A non-negative integer parameter, `default` when absent.
    pub fn count(&self, key: &str, default: usize) -> Result<usize, PlivoError> {
        match self.text(key) {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<usize>()
                .map_err(|_| PlivoError::BadRequest(format!("{key} must be a non-negative integer"))),
        }
    }
}

fn is_form(req: &Request) -> bool {
    req.header("content-type").is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;
    use hyper::body::Bytes;
    use hyper::header::HeaderMap;

    fn body(b: &'static str) -> Result<Params, PlivoError> {
        Params::from_body(&Request::new(Method::POST, "/", HeaderMap::new(), Bytes::from_static(b.as_bytes())))
    }

    #[test]
    fn nulls_and_empty_strings_are_not_given() {
        let p = body(r#"{"alias":null,"channel":"","phone_number":"+1","account_id":0}"#).unwrap();
        assert_eq!(p.text("alias"), None);
        assert_eq!(p.text("channel"), None);
        assert_eq!(p.text("phone_number").as_deref(), Some("+1"));
    }

    #[test]
    fn odd_bodies_have_no_keys() {
        for b in ["", "\"\"", "null", "[]", "  "] {
            assert_eq!(body(b).unwrap().text("x"), None, "{b:?}");
        }
        assert!(body("{nope").is_err());
    }

    #[test]
    fn joins_a_list() {
        let p = body(r#"{"to":["1","2"],"one":"3","none":[]}"#).unwrap();
        assert_eq!((p.joined("to", "<").as_deref(), p.joined("one", "<").as_deref()), (Some("1<2"), Some("3")));
        assert_eq!(p.joined("none", "<"), None);
    }

    #[test]
    fn reads_node_sub_account() {
        assert_eq!(body(r#"{"sub_account":"SA1"}"#).unwrap().subaccount().as_deref(), Some("SA1"));
    }
}
