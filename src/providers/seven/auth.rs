//! The API key, from wherever a seven SDK puts it: `X-Api-Key` (any case),
//! `Authorization: Basic <key>` (not base64), `Authorization: Bearer <token>`, or `p` in the
//! query or body.

use crate::http::{Pairs, Request};

/// The key, if one is present and well formed: 1 to 128 of `A-Z a-z 0-9 _ - . : /  + =`.
pub(crate) fn api_key(req: &Request, params: &Pairs) -> Option<String> {
    let from_header = req.header("x-api-key").map(str::to_owned).or_else(|| {
        let value = req.header("authorization")?.trim();
        let (scheme, key) = value.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("bearer")).then(|| key.trim().to_owned())
    });
    let key = from_header.or_else(|| params.get("p").map(str::to_owned))?;
    well_formed(&key).then_some(key)
}

fn well_formed(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.:/+=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;
    use hyper::body::Bytes;
    use hyper::header::{HeaderMap, HeaderValue};

    fn req(header: Option<(&'static str, &'static str)>, query: &str) -> (Request, Pairs) {
        let mut headers = HeaderMap::new();
        if let Some((k, v)) = header {
            headers.insert(k, HeaderValue::from_static(v));
        }
        let r = Request::new(Method::POST, &format!("/api/validate_for_voice?{query}"), headers, Bytes::new());
        let p = super::super::params::read(&r);
        (r, p)
    }

    #[test]
    fn finds_the_key_wherever_the_sdks_put_it() {
        for (header, query) in [
            (Some(("x-api-key", "KEY")), ""),
            (Some(("X-API-KEY", "KEY")), ""),
            (Some(("authorization", "Basic KEY")), ""),
            (Some(("authorization", "basic KEY")), ""),
            (Some(("authorization", "Bearer KEY")), ""),
            (None, "p=KEY"),
        ] {
            let (r, p) = req(header, query);
            assert_eq!(api_key(&r, &p).as_deref(), Some("KEY"), "{header:?} {query}");
        }
    }

    #[test]
    fn a_missing_or_malformed_key_is_none() {
        let (r, p) = req(None, "");
        assert_eq!(api_key(&r, &p), None);
        let (r, p) = req(None, "p=bad+key%21");
        assert_eq!(api_key(&r, &p), None);
        let (r, p) = req(Some(("authorization", "Digest x")), "");
        assert_eq!(api_key(&r, &p), None);
    }
}
