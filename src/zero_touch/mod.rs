//! `callerid-mock env`: the shell lines that route unmodified SDKs to a running server through
//! its proxy, and the files they point at (the server's CA, a bundle of it with the system's
//! roots, the same as a Java trust store, a PHP ini file naming it, two shims for clients that
//! read no proxy variable).

mod jks;

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
    defaults: &[(&str, &str)],
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
    // The JVM and PHP read no CA variable: a trust store, and an ini file PHP scans.
    let (store, php) = (dir.join("java").join("truststore.jks"), dir.join("php"));
    write_bytes(&store, &jks::trust_store(&format!("{system}\n{pem}")))?;
    let bundle_path = bundle.to_string_lossy().into_owned();
    write(
        &php.join("callerid-mock.ini"),
        &format!("curl.cainfo=\"{bundle_path}\"\nopenssl.cafile=\"{bundle_path}\"\n"),
    )?;
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
    // PHP scans its own ini directory (the leading empty entry) and then this one.
    let php = quote(&php.to_string_lossy());
    out.push_str(&format!("export PHP_INI_SCAN_DIR=\"${{PHP_INI_SCAN_DIR:-}}\":{php}\n"));
    let java = quote(&java_options(url, &store.to_string_lossy()));
    out.push_str(&format!("export JAVA_TOOL_OPTIONS={java}\"${{JAVA_TOOL_OPTIONS:+ $JAVA_TOOL_OPTIONS}}\"\n"));
    // The public keys the providers' webhooks verify with (Telnyx's SDKs read TELNYX_PUBLIC_KEY).
    for (name, key) in keys {
        out.push_str(&format!("export {name}={}\n", quote(key)));
    }
    // The providers' own variables (a Space name…), only where the user set none.
    for (name, value) in defaults {
        // A host name: nothing in it is special inside double quotes.
        assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b)), "{name}={value}");
        out.push_str(&format!("export {name}=\"${{{name}:-{value}}}\"\n"));
    }
    Ok(out)
}

/// The JVM's proxy and trust store, as system properties: the JVM reads no proxy variable.
fn java_options(url: &str, store: &str) -> String {
    let (host, port) = host_and_port(url);
    let direct: Vec<String> =
        no_proxy(url).split(',').map(|h| if h.contains(':') { format!("[{h}]") } else { h.to_owned() }).collect();
    format!(
        "-Dhttps.proxyHost={host} -Dhttps.proxyPort={port} -Dhttp.proxyHost={host} -Dhttp.proxyPort={port} \
         -Dhttp.nonProxyHosts={} -Djavax.net.ssl.trustStore={store} -Djavax.net.ssl.trustStorePassword={} \
         -Djavax.net.ssl.trustStoreType=JKS",
        direct.join("|"),
        jks::PASSWORD
    )
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

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))
        .and_then(|()| std::fs::write(path, bytes))
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
    let (host, _) = host_and_port(url);
    if !host.is_empty() && !hosts.contains(&host) {
        hosts.push(host);
    }
    hosts.join(",")
}

/// The host (without brackets) and port of `url` (80 when it names none).
fn host_and_port(url: &str) -> (&str, u16) {
    let authority = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or((v6, ""), |(host, rest)| (host, rest.trim_start_matches(':'))),
        None => authority.rsplit_once(':').unwrap_or((authority, "")),
    };
    (host, port.parse().unwrap_or(80))
}

#[cfg(test)]
mod tests {
    use super::{env_lines, java_options, no_proxy};

    #[test]
    fn no_proxy_names_loopback_and_the_servers_own_host() {
        assert_eq!(no_proxy("http://127.0.0.1:8484"), "localhost,127.0.0.1,::1");
        assert_eq!(no_proxy("http://callerid-mock:8484"), "localhost,127.0.0.1,::1,callerid-mock");
        assert_eq!(no_proxy("http://[fd00::1]:8484/"), "localhost,127.0.0.1,::1,fd00::1");
        assert_eq!(no_proxy("http://mock.test"), "localhost,127.0.0.1,::1,mock.test");
    }

    #[test]
    fn the_jvm_gets_the_proxy_the_direct_hosts_and_the_trust_store_as_properties() {
        assert_eq!(
            java_options("http://callerid-mock:8484", "/t/truststore.jks"),
            "-Dhttps.proxyHost=callerid-mock -Dhttps.proxyPort=8484 -Dhttp.proxyHost=callerid-mock \
             -Dhttp.proxyPort=8484 -Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1]|callerid-mock \
             -Djavax.net.ssl.trustStore=/t/truststore.jks -Djavax.net.ssl.trustStorePassword=changeit \
             -Djavax.net.ssl.trustStoreType=JKS"
        );
        assert!(java_options("http://[fd00::1]:9/", "s").contains("-Dhttps.proxyHost=fd00::1 -Dhttps.proxyPort=9 "));
    }

    #[test]
    fn php_and_the_jvm_keep_what_the_user_set_and_read_the_files_written() {
        let dir = std::env::temp_dir().join(format!("callerid-mock-env-{}", std::process::id()));
        let lines =
            env_lines("http://127.0.0.1:8484", &dir, "", &["api.twilio.com"], &[], &[("SPACE", "example.test")])
                .unwrap();
        let php = dir.join("php");
        assert!(lines.contains(&format!("export PHP_INI_SCAN_DIR=\"${{PHP_INI_SCAN_DIR:-}}\":'{}'\n", php.display())));
        assert!(lines.contains("\"${JAVA_TOOL_OPTIONS:+ $JAVA_TOOL_OPTIONS}\"\n"), "{lines}");
        assert!(lines.contains("export SPACE=\"${SPACE:-example.test}\"\n"), "{lines}");
        let ini = std::fs::read_to_string(php.join("callerid-mock.ini")).unwrap();
        let bundle = dir.join("bundle.pem");
        assert_eq!(ini, format!("curl.cainfo=\"{0}\"\nopenssl.cafile=\"{0}\"\n", bundle.display()));
        let store = std::fs::read(dir.join("java").join("truststore.jks")).unwrap();
        assert_eq!(&store[..4], &[0xFE, 0xED, 0xFE, 0xED]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
