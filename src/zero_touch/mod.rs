//! `callerid-mock env`: the shell lines that route unmodified SDKs to a running server through
//! its proxy, and the files they point at (the server's CA, a bundle of it with the system's
//! roots, two shims for clients that read no proxy variable).

use std::path::{Path, PathBuf};

/// Makes requests' `Session.send` honour the proxy and CA variables (the Plivo SDK calls it).
const SITECUSTOMIZE: &str = include_str!("sitecustomize.py");
/// Sends fetch-based SDKs to the emulator on Node versions whose fetch ignores proxies.
const FETCH_SHIM: &str = include_str!("fetch.cjs");

/// Where the system's own roots are, on the common Linux distributions and macOS.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Keeps the server's CA `pem` (and a bundle of it with the system's roots) and the shims in
/// `dir`, and returns the lines that route HTTP clients through the server at `url`, whose
/// providers' SDKs call `hosts` (`*` stands for one label).
pub fn env_lines(
    url: &str,
    dir: &Path,
    pem: &str,
    hosts: &[&str],
    keys: &[(String, String)],
) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (ca, bundle) = (dir.join("ca.pem"), dir.join("bundle.pem"));
    let system = SYSTEM_BUNDLES.iter().find_map(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    write(&ca, pem)?;
    write(&bundle, &format!("{system}\n{pem}"))?;
    let (python, node) = (dir.join("python"), dir.join("node").join("fetch.cjs"));
    let shim = FETCH_SHIM.replace("__EMULATOR__", url.trim_end_matches('/')).replace("__HOSTS__", &json_array(hosts));
    write(&python.join("sitecustomize.py"), SITECUSTOMIZE)?;
    write(&node, &shim)?;
    let (proxy, ca, bundle) =
        (quote(url.trim_end_matches('/')), quote(&ca.to_string_lossy()), quote(&bundle.to_string_lossy()));
    let direct = quote(&no_proxy(url));
    let mut out = format!("# Routes the providers' SDKs to callerid-mock at {url}: eval \"$(callerid-mock env)\"\n");
    if system.is_empty() {
        out.push_str("# no system CA bundle found: the bundle holds the emulator's CA only\n");
    }
    for (name, value) in [
        ("HTTPS_PROXY", &proxy),
        ("https_proxy", &proxy),
        ("HTTP_PROXY", &proxy),
        ("http_proxy", &proxy),
        ("NO_PROXY", &direct),
        ("no_proxy", &direct),
        ("SSL_CERT_FILE", &bundle),
        ("REQUESTS_CA_BUNDLE", &bundle),
        ("CURL_CA_BUNDLE", &bundle),
        ("NODE_EXTRA_CA_CERTS", &ca),
        ("NODE_USE_ENV_PROXY", &quote("1")),
    ] {
        out.push_str(&format!("export {name}={value}\n"));
    }
    // Two shims for clients that read none of the above (see their comments).
    let python = quote(&python.to_string_lossy());
    out.push_str(&format!("export PYTHONPATH={python}\"${{PYTHONPATH:+:$PYTHONPATH}}\"\n"));
    let node = quote(&format!("--require \"{}\"", node.to_string_lossy()));
    out.push_str(&format!("export NODE_OPTIONS={node}\"${{NODE_OPTIONS:+ $NODE_OPTIONS}}\"\n"));
    // The public keys the providers' webhooks verify with (Telnyx's SDKs read TELNYX_PUBLIC_KEY).
    for (name, key) in keys {
        out.push_str(&format!("export {name}={}\n", quote(key)));
    }
    Ok(out)
}

/// Where `env` keeps its files without `--dir`: the CA directory's `env/`.
pub fn default_dir() -> Option<PathBuf> {
    crate::tls::default_dir().map(|d| d.join("env"))
}

/// Writes `text` to `path`, making its directory.
fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))
        .and_then(|()| std::fs::write(path, text))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `'text'` for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `["a", "b"]`.
fn json_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The hosts reached directly, not through the proxy: loopback, where callback receivers and
/// the control plane usually are, and the server's own host (`callerid-mock` in a compose
/// network), so that control-plane calls to it are never sent to it as a proxy.
fn no_proxy(url: &str) -> String {
    let mut hosts = vec!["localhost", "127.0.0.1", "::1"];
    let authority = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    if !host.is_empty() && !hosts.contains(&host) {
        hosts.push(host);
    }
    hosts.join(",")
}

#[cfg(test)]
mod tests {
    use super::no_proxy;

    #[test]
    fn no_proxy_names_loopback_and_the_servers_own_host() {
        assert_eq!(no_proxy("http://127.0.0.1:8484"), "localhost,127.0.0.1,::1");
        assert_eq!(no_proxy("http://callerid-mock:8484"), "localhost,127.0.0.1,::1,callerid-mock");
        assert_eq!(no_proxy("http://[fd00::1]:8484/"), "localhost,127.0.0.1,::1,fd00::1");
        assert_eq!(no_proxy("http://mock.test"), "localhost,127.0.0.1,::1,mock.test");
    }
}
