//! The `callerid-mock` binary: parses flags, sets up logging, and runs the server until
//! SIGINT/SIGTERM, or checks a running server's health.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

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
        /// Make a new CA for every provider's domain in place of the kept one (which stays
        /// trusted nowhere it is not trusted already: trust the new one).
        #[arg(long)]
        renew: bool,
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
        Some(Command::Ca { ca_dir, renew }) => print_ca(ca_dir.as_deref(), renew),
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
            Err(e) => return fail("callerid-mock", &e),
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
            Err(e) => fail("callerid-mock", &format!("the state file could not be written before exit: {e}")),
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

fn print_ca(ca_dir: Option<&std::path::Path>, renew: bool) -> ExitCode {
    match callerid_mock::cli::ca(ca_dir, renew) {
        Ok((path, pem, missing)) => {
            match path {
                Some(path) => println!("# {}", path.display()),
                None => println!("# not kept: no --ca-dir and no cache directory"),
            }
            if !missing.is_empty() {
                eprintln!(
                    "callerid-mock ca: this CA predates {}: renew it (callerid-mock ca --renew, then trust the \
                     new ca.pem)",
                    missing.join(", ")
                );
            }
            print!("{pem}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("callerid-mock", &e),
    }
}

fn print_env(url: &str, dir: Option<std::path::PathBuf>) -> ExitCode {
    match callerid_mock::cli::env(url, dir) {
        Ok(lines) => {
            print!("{lines}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("callerid-mock env", &e),
    }
}

fn healthcheck(url: &str) -> ExitCode {
    match callerid_mock::cli::healthcheck(url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => fail("unhealthy", &why),
    }
}

/// Says why on stderr and exits 1.
fn fail(what: &str, why: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{what}: {why}");
    ExitCode::FAILURE
}
