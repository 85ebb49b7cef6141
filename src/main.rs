//! The `callerid-mock` binary: parses flags, sets up logging, and runs the server until
//! SIGINT/SIGTERM, or checks a running server's health.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use callerid_mock::Config;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "callerid-mock",
    version,
    about = "A local, stateful emulator of phone providers' caller-ID verification APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Exit 0 if a server answers `GET /_mock/health` with status ok, 1 otherwise.
    Healthcheck {
        /// The server to check [default: the address in CALLERID_MOCK_BIND (0.0.0.0 read as
        /// 127.0.0.1), else http://127.0.0.1:8484].
        #[arg(long, env = "CALLERID_MOCK_HEALTHCHECK_URL")]
        url: Option<String>,
    },
    /// Print where the emulator's CA certificate is kept, then the certificate (PEM); make it
    /// if there is none yet.
    Ca {
        /// Where the CA is kept [default: $XDG_CACHE_HOME/callerid-mock, else ~/.cache/callerid-mock].
        #[arg(long, value_name = "DIR", env = "CALLERID_MOCK_CA_DIR")]
        ca_dir: Option<std::path::PathBuf>,
    },
    /// Print the shell lines that route unmodified SDKs to a running server through its proxy:
    /// `eval "$(callerid-mock env)"`.
    Env {
        /// The running server [default: the address in CALLERID_MOCK_BIND, else http://127.0.0.1:8484].
        #[arg(long)]
        url: Option<String>,
        /// Where to keep the server's CA and a bundle of it with the system's roots
        /// [default: the CA directory's `env/`].
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    config: Config,
    /// Log filter (error, warn, info, debug, trace, or a tracing directive); RUST_LOG also works.
    #[arg(long, env = "CALLERID_MOCK_LOG_LEVEL")]
    log_level: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Healthcheck { url }) => healthcheck(&url.unwrap_or_else(default_health_url)),
        Some(Command::Ca { ca_dir }) => print_ca(ca_dir.as_deref()),
        Some(Command::Env { url, dir }) => print_env(&url.unwrap_or_else(default_health_url), dir),
        Some(Command::Serve(args)) => serve(*args),
        None => serve(cli.serve),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = args.log_level.clone().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log that cannot be written (a full disk under it) loses lines; it never panics.
        .log_internal_errors(false)
        .init();
    let config = args.config;
    callerid_mock::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime starts");
    runtime.block_on(async move {
        // Listening from the start, on the same streams throughout, so that no signal is lost.
        let mut signals = Signals::new();
        let banner_config = config.clone();
        let server = match callerid_mock::start(config).await {
            Ok(server) => server,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "callerid-mock: {e}");
                return ExitCode::FAILURE;
            }
        };
        print!("{}", callerid_mock::banner(&server, &banner_config));
        let _ = std::io::stdout().flush();
        signals.next().await;
        tracing::info!("shutting down: finishing the requests in flight (a second signal exits at once)");
        tokio::spawn(async move {
            signals.next().await;
            let _ = writeln!(std::io::stderr(), "callerid-mock: second signal, exiting at once");
            std::process::exit(130);
        });
        match server.shutdown().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ =
                    writeln!(std::io::stderr(), "callerid-mock: the state file could not be written before exit: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// SIGINT and SIGTERM.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            interrupt: signal(SignalKind::interrupt()).expect("a SIGINT handler installs"),
            terminate: signal(SignalKind::terminate()).expect("a SIGTERM handler installs"),
        }
    }

    /// The next SIGINT or SIGTERM.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Where this machine's server listens: `CALLERID_MOCK_BIND`, with an unspecified address
/// (`0.0.0.0`, `[::]`) read as loopback.
fn default_health_url() -> String {
    let bind = std::env::var("CALLERID_MOCK_BIND").ok().and_then(|b| b.parse::<SocketAddr>().ok());
    match bind {
        Some(mut addr) => {
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        }
        None => format!("http://{}", callerid_mock::config::DEFAULT_BIND),
    }
}

fn print_ca(ca_dir: Option<&std::path::Path>) -> ExitCode {
    match callerid_mock::local_ca(ca_dir) {
        Ok((path, pem)) => {
            match path {
                Some(path) => println!("# {}", path.display()),
                None => println!("# not kept: no --ca-dir and no cache directory"),
            }
            print!("{pem}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "callerid-mock: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Makes requests' `Session.send` honour the proxy and CA variables (the Plivo SDK calls it).
const SITECUSTOMIZE: &str = include_str!("zero_touch/sitecustomize.py");
/// Sends fetch-based SDKs to the emulator on Node versions whose fetch ignores proxies.
const FETCH_SHIM: &str = include_str!("zero_touch/fetch.cjs");

/// `["a", "b"]`.
fn serde_json_array(items: &[&str]) -> String {
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

/// Where the system's own roots are, on the common Linux distributions and macOS.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn print_env(url: &str, dir: Option<std::path::PathBuf>) -> ExitCode {
    match env_lines(url, dir) {
        Ok(lines) => {
            print!("{lines}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "callerid-mock env: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fetches the running server's CA, keeps it (and a bundle of it with the system's roots) in
/// `dir`, and writes the variables that route HTTP clients through the server's proxy.
fn env_lines(url: &str, dir: Option<std::path::PathBuf>) -> Result<String, String> {
    let dir = dir
        .or_else(|| callerid_mock::default_ca_dir().map(|d| d.join("env")))
        .ok_or("no --dir and no cache directory to keep the CA in")?;
    let (status, pem) = get(url, "/_mock/ca.pem")?;
    if status != 200 || !pem.contains("BEGIN CERTIFICATE") {
        return Err(format!("{url}/_mock/ca.pem answered {status}: {pem}"));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (ca, bundle) = (dir.join("ca.pem"), dir.join("bundle.pem"));
    let system = SYSTEM_BUNDLES.iter().find_map(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    std::fs::write(&ca, &pem).map_err(|e| format!("{}: {e}", ca.display()))?;
    std::fs::write(&bundle, format!("{system}\n{pem}")).map_err(|e| format!("{}: {e}", bundle.display()))?;
    let (python, node) = (dir.join("python"), dir.join("node").join("fetch.cjs"));
    let hosts = serde_json_array(&callerid_mock::provider_hosts());
    let shim = FETCH_SHIM.replace("__EMULATOR__", url.trim_end_matches('/')).replace("__HOSTS__", &hosts);
    for (path, text) in [(python.join("sitecustomize.py"), SITECUSTOMIZE.to_owned()), (node.clone(), shim)] {
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
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
    Ok(out)
}

/// A dependency-free HTTP/1.1 GET of `{url}/_mock/health` (there is no curl in the image).
fn healthcheck(url: &str) -> ExitCode {
    match check(url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

fn check(url: &str) -> Result<(), String> {
    let (status, body) = get(url, "/_mock/health")?;
    if status != 200 {
        return Err(format!("answered {status}: {body}"));
    }
    if !body.contains(r#""status":"ok""#) {
        return Err(format!("body is not ok: {body}"));
    }
    Ok(())
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
