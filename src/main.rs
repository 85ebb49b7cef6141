//! The `callerid-mock` binary: parses flags, sets up logging, and runs the server until
//! SIGINT/SIGTERM, or checks a running server's health.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use callerid_mock::Config;
use callerid_mock::core::time::Timestamp;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "callerid-mock",
    version,
    about = "A local, stateful emulator of Twilio, Plivo and seven.io caller-ID verification APIs"
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
    Serve(ServeArgs),
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
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CALLERID_MOCK_BIND", default_value = callerid_mock::config::DEFAULT_BIND)]
    bind: SocketAddr,
    /// Seed for every generated id, UUID, code and request id (default: from the OS).
    #[arg(long, env = "CALLERID_MOCK_SEED")]
    seed: Option<u64>,
    /// What the clock reads at start, RFC 3339 (default: now).
    #[arg(long, env = "CALLERID_MOCK_START_TIME", value_parser = parse_time)]
    start_time: Option<Timestamp>,
    /// Stop the clock: it moves only through POST /_mock/clock.
    #[arg(long, env = "CALLERID_MOCK_FROZEN_CLOCK")]
    frozen_clock: bool,
    /// A state file of accounts, tokens and caller IDs to load at start.
    #[arg(long, env = "CALLERID_MOCK_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Keep the state in FILE: loaded at start if present (instead of --fixtures), saved after
    /// every change and at shutdown, atomically.
    #[arg(long, env = "CALLERID_MOCK_STATE")]
    state: Option<PathBuf>,
    /// Digits in a Plivo OTP.
    #[arg(long, env = "CALLERID_MOCK_PLIVO_OTP_LENGTH", default_value_t = 6,
        value_parser = clap::value_parser!(u8).range(4..=10))]
    plivo_otp_length: u8,
    /// ISO region seven.io reads national numbers in (such as 0163 2429751).
    #[arg(long, env = "CALLERID_MOCK_SEVEN_REGION", default_value = "DE", value_parser = parse_region)]
    seven_region: phonenumber::country::Id,
    /// Answer every validation call (Twilio, seven) with the right code as soon as it rings.
    #[arg(long, env = "CALLERID_MOCK_AUTO_ANSWER")]
    auto_answer: bool,
    /// Accept only the accounts and tokens declared in --fixtures or --state; others get the
    /// provider's own 401 (wrong credentials) or 403 (another account's path).
    #[arg(long, env = "CALLERID_MOCK_STRICT_AUTH")]
    strict_auth: bool,
    /// Entries each account keeps in the request and callback journals (oldest dropped).
    #[arg(long, env = "CALLERID_MOCK_MAX_JOURNAL", default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_journal: u32,
    /// Log filter (error, warn, info, debug, trace, or a tracing directive); RUST_LOG also works.
    #[arg(long, env = "CALLERID_MOCK_LOG_LEVEL")]
    log_level: Option<String>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).ok_or_else(|| format!("{s:?} is not an RFC 3339 time such as 2026-01-01T00:00:00Z"))
}

fn parse_region(s: &str) -> Result<phonenumber::country::Id, String> {
    s.to_ascii_uppercase().parse().map_err(|_| format!("{s:?} is not an ISO 3166 region such as DE or US"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Healthcheck { url }) => healthcheck(&url.unwrap_or_else(default_health_url)),
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = args.log_level.clone().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    let config = Config {
        bind: args.bind,
        seed: args.seed,
        start_time: args.start_time,
        frozen_clock: args.frozen_clock,
        fixtures: args.fixtures,
        state: args.state,
        plivo_otp_length: usize::from(args.plivo_otp_length),
        auto_answer: args.auto_answer,
        seven_region: args.seven_region,
        max_journal: args.max_journal as usize,
        strict_auth: args.strict_auth,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime starts");
    runtime.block_on(async move {
        let server = match callerid_mock::start(config).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("callerid-mock: {e}");
                return ExitCode::FAILURE;
            }
        };
        print!("{}", callerid_mock::banner(server.addr()));
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
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
            eprintln!("unhealthy: {why}");
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
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
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
