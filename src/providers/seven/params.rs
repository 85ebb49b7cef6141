//! Request parameters as the seven SDKs send them: merged from the query and the body (JSON
//! when the content type says so, a form otherwise); `null` and `""` values count as absent, and
//! the first occurrence of a name wins.

use serde_json::Value;

use crate::http::{Pairs, Request};

pub(crate) fn read(req: &Request) -> Pairs {
    let mut pairs = req.query_pairs();
    let is_json = req.header("content-type").is_some_and(|ct| ct.contains("json"));
    if is_json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&req.body) {
            for (k, v) in map {
                match v {
                    Value::String(s) => pairs.push(k, s),
                    Value::Number(n) => pairs.push(k, n.to_string()),
                    _ => {}
                }
            }
        }
    } else {
        pairs.extend(Pairs::form(&req.body));
    }
    pairs.retain(|_, v| !v.is_empty());
    pairs
}
