//! Who may use `/_mock/`. The control plane reads every code and can rewrite all state, so it
//! is closed to strangers, checked before a request's body is read:
//!
//! 1. **DNS rebinding**: on a loopback bind, only loopback `Host` names (`localhost`,
//!    `*.localhost`, `127.x.y.z`, `[::1]`, any port) and those given with `--allow-host` are
//!    answered (403 otherwise), so a web page whose name resolves to 127.0.0.1 learns nothing.
//! 2. **The admin token** (`--admin-token`): every route needs `Authorization: Bearer TOKEN`
//!    (401 otherwise), or the cookie that `GET /_mock/?token=TOKEN` sets once for the inbox
//!    (`HttpOnly; SameSite=Strict`).
//! 3. **CSRF**: a request that changes state is refused (403) when its `Origin` is another
//!    origin or `Sec-Fetch-Site` says `cross-site`, and a body must be
//!    `Content-Type: application/json` (415), which a page on another origin cannot send
//!    without a preflight.

use hyper::header::{CONTENT_TYPE, COOKIE, HOST, HeaderMap, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Method, StatusCode, Uri};

use super::error;
use crate::app::App;
use crate::http::{self, Pairs, Response};

/// The cookie that carries the admin token for the inbox.
const COOKIE_NAME: &str = "callerid_mock_token";

/// The answer that stops a request (a refusal, or the inbox's login redirect), or `None` to go
/// on. `has_body`: the request carries a body.
pub(crate) fn check(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap, has_body: bool) -> Option<Response> {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()));
    if app.config().bind.ip().is_loopback()
        && let Some(host) = host.as_deref()
        && !loopback_or_allowed(host, &app.config().allow_hosts)
    {
        let name = host_name(host);
        return Some(error(
            StatusCode::FORBIDDEN,
            &format!(
                "Host {name:?} is not a loopback name: /_mock/ answers it only if the server is started \
                 with --allow-host {name}"
            ),
        ));
    }
    if let Some(token) = &app.config().admin_token {
        let query = Pairs::form(uri.query().unwrap_or("").as_bytes());
        if let (&Method::GET, Some(given)) = (method, query.get("token")) {
            return Some(login(token, given));
        }
        if !authorized(token, headers) {
            let mut res = error(
                StatusCode::UNAUTHORIZED,
                "/_mock/ needs the admin token: send Authorization: Bearer <token>, or open /_mock/?token=<token> once",
            );
            res.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer realm=\"callerid-mock\""));
            return Some(res);
        }
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        if let Some(refused) = cross_site(headers, host.as_deref()) {
            return Some(refused);
        }
        let json = headers.get(CONTENT_TYPE).and_then(|c| c.to_str().ok()).is_some_and(|c| {
            c.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
        });
        if has_body && !json {
            return Some(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a /_mock/ body must be Content-Type: application/json",
            ));
        }
    }
    None
}

/// The refusal of a state change a page on another origin asked for, if it is one.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<Response> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Some(error(StatusCode::FORBIDDEN, "a cross-site request may not change the emulator's state"));
    }
    if let Some(origin) = text("origin") {
        let own = host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        if !own {
            return Some(error(
                StatusCode::FORBIDDEN,
                &format!("a request from origin {origin:?} may not change the emulator's state"),
            ));
        }
    }
    None
}

/// `GET /_mock/?token=…`: the right token sets the cookie and drops the token from the URL.
fn login(token: &str, given: &str) -> Response {
    if !same(token, given) {
        return error(StatusCode::UNAUTHORIZED, "that is not the admin token");
    }
    let mut res = http::empty(StatusCode::SEE_OTHER, None);
    res.headers_mut().insert(LOCATION, HeaderValue::from_static("/_mock/"));
    // Percent-encoded: a token may hold `;`, `,`, spaces or other characters a cookie cannot.
    let value = percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC);
    let cookie = format!("{COOKIE_NAME}={value}; Path=/_mock; HttpOnly; SameSite=Strict");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(SET_COOKIE, cookie);
    }
    res
}

fn authorized(token: &str, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, given)| same(token, given.trim()));
    let cookie = headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(';').filter_map(|c| c.trim().split_once('=')).any(|(k, given)| {
            k == COOKIE_NAME && percent_encoding::percent_decode_str(given).decode_utf8().is_ok_and(|g| same(token, &g))
        })
    });
    bearer || cookie
}

/// Compares secrets in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A `Host` value without its port.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(name, _)| name)
}

fn loopback_or_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host).to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_and_others_need_allow_host() {
        for ok in
            ["localhost", "localhost:8484", "app.localhost:1", "127.0.0.1:8484", "127.9.9.9", "[::1]:8484", "[::1]"]
        {
            assert!(loopback_or_allowed(ok, &[]), "{ok}");
        }
        for no in ["evil.example", "evil.example:8484", "10.0.0.1:8484", "localhost.evil.example", "[::2]:1"] {
            assert!(!loopback_or_allowed(no, &[]), "{no}");
        }
        assert!(loopback_or_allowed("mock.internal:8484", &["mock.internal".into()]));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same("token", "token"));
        assert!(!same("token", "tokeN") && !same("token", "toke") && !same("", "x"));
    }
}
