//! What the binary's subcommands do (`main.rs` parses their flags and prints): `healthcheck`,
//! `ca` and `env`, each with a std-only HTTP client (the `FROM scratch` image has no curl).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::providers::Registry;
use crate::tls::Ca;

/// Whether the server at `url` answers `GET /_mock/health` with status ok; why not, if not.
pub fn healthcheck(url: &str) -> Result<(), String> {
    let (status, body) = get(url, "/_mock/health")?;
    if status != 200 {
        return Err(format!("answered {status}: {body}"));
    }
    if !body.contains(r#""status":"ok""#) {
        return Err(format!("body is not ok: {body}"));
    }
    Ok(())
}

/// The emulator's CA as a server with this `--ca-dir` (or the default) uses it, made now if
/// there is none, or made anew with `renew`: where `ca.pem` is kept (if it could be), the PEM,
/// and what a CA kept from an earlier release lacks (the providers' domains added since, the
/// exclusion of IP addresses), each a reason to renew it.
pub fn ca(ca_dir: Option<&Path>, renew: bool) -> Result<(Option<PathBuf>, String, Vec<String>), String> {
    let domains = Registry::new(&Default::default()).domains();
    let ca = if renew { Ca::renew(ca_dir, &domains)? } else { Ca::for_dir(ca_dir, &domains)? };
    let mut stale: Vec<String> = ca.missing.iter().map(|d| format!("{d} (its hosts get no certificate)")).collect();
    if ca.ip_open {
        stale.push("the exclusion of IP addresses (it could sign for an address)".to_owned());
    }
    Ok((ca.path.clone(), ca.pem().to_owned(), stale))
}

/// The lines of `callerid-mock env` for the server at `url`, its files kept in `dir` (default
/// the CA directory's `env/`).
pub fn env(url: &str, dir: Option<PathBuf>) -> Result<String, String> {
    let dir = dir.or_else(crate::zero_touch::default_dir).ok_or("no --dir and no cache directory to keep the CA in")?;
    let (status, pem) = get(url, "/_mock/ca.pem")?;
    if status != 200 || !pem.contains("BEGIN CERTIFICATE") {
        return Err(format!("{url}/_mock/ca.pem answered {status}: {pem}"));
    }
    let registry = Registry::new(&Default::default());
    let hosts: Vec<&str> = registry.all().flat_map(|p| p.hosts()).copied().collect();
    // The keys webhooks are signed with, for the SDKs that read one from the environment.
    let keys = match get(url, "/_mock/keys")? {
        (200, body) => key_exports(&body),
        _ => Vec::new(),
    };
    let defaults: Vec<(&str, &str)> = registry.all().flat_map(|p| p.env_defaults()).copied().collect();
    crate::zero_touch::env_lines(url, &dir, &pem, &hosts, &keys, &defaults)
}

/// `(TELNYX_PUBLIC_KEY, key)` for each key of `GET /_mock/keys` an SDK reads from a variable.
fn key_exports(body: &str) -> Vec<(String, String)> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else { return Vec::new() };
    let keys = json["keys"].as_array().cloned().unwrap_or_default();
    keys.iter()
        .filter_map(|k| Some((k["env"].as_str()?.to_owned(), k["key"].as_str()?.to_owned())))
        .filter(|(name, key)| {
            let safe = |s: &str, extra: &[u8]| s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
            safe(name, b"_") && safe(key, b"+/=")
        })
        .collect()
}

/// A dependency-free HTTP/1.1 GET of a control route below `url`: the status and the body.
fn get(url: &str, route: &str) -> Result<(u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs are supported")?;
    let (host, prefix) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let timeout = Duration::from_secs(2);
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or(format!("{host} resolves to nothing"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let path = format!("/{}{route}", prefix.trim_end_matches('/')).replace("//", "/");
    // The container's HEALTHCHECK runs with the server's environment, so it has the token.
    let auth = std::env::var("CALLERID_MOCK_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("cannot send: {e}"))?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| format!("no answer: {e}"))?;
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("not HTTP: {response:?}"))?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, body.to_owned()))
}
