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
        print!("{}", callerid_mock::banner(server.addr(), &banner_config));
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
    let path = format!("/{}/_mock/health", prefix.trim_end_matches('/')).replace("//", "/");
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
    let status_line = response.lines().next().unwrap_or_default();
    if !status_line.starts_with("HTTP/1.1 200") {
        return Err(format!("answered {status_line:?}"));
    }
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    if !body.contains(r#""status":"ok""#) {
        return Err(format!("body is not ok: {body}"));
    }
    Ok(())
}
