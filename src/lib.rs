//! callerid-mock: a local, stateful emulator of phone providers' caller-ID verification APIs.
//!
//! Point an unmodified official SDK at the server and it verifies caller IDs as against the
//! real provider, with no phones, SMS or money; a control plane under `/_mock/` lets a test
//! read the code that was "sent", move the clock and reset state.
//!
//! # Layout
//! Top to bottom, each module importing only the ones below it (`tests/layers.rs` holds it):
//! - `cli`, `server`: the subcommands (`healthcheck`, `ca`, `env`); the accept loop,
//!   connection limits and timeouts, connections an injected fault resets.
//! - `router`: the request path: provider or control plane, body, parse once, faults, the
//!   work, durability, the request journal.
//! - `control`, `proxy`: the `/_mock/` API (its OpenAPI document, the web inbox); the proxy
//!   (CONNECT tunnels, absolute-form requests, passthrough).
//! - `app`: what every handler can reach.
//! - [`config`]: the one [`Config`] of a server (every flag, described once).
//! - `providers`: one folder per provider, each owning its routes, wire types, errors, flags
//!   and webhooks; registered by one line in `providers/mod.rs`.
//! - `delivery`: webhooks: the core's calls that ended, rendered by their provider, delivered.
//! - `persist`, `faults`, `journal`, `http`, `client`, [`zero_touch`]: `--state FILE`; fault
//!   rules; the bounded journals; request and response helpers; the one HTTP client; the lines
//!   of `callerid-mock env`.
//! - `core`, `tls`, `allow`, `shutdown`, `memory`: provider-neutral state (an indexed `store`),
//!   time (`clock`, `timers`, `time`), randomness (`ids`), `phone` and `magic` numbers, the
//!   state file format and change log; it knows no provider's JSON, no HTTP and no file. The
//!   CA; `--callback-allow`; the stop signal; memory handed back to the system.
//!
//! # Errors
//! [`start`] and [`Server::shutdown`] return a `String`: a sentence for the person who started
//! the server (`cannot bind 127.0.0.1:8484: address in use`), printed by the binary and relayed
//! by the Python and npm packages. No caller does anything with a cause but show it, so no
//! error type is kept for it; inside, each provider's failures are exhaustive enums.
//!
//! # Use from a test
//! ```no_run
//! # async fn demo() {
//! let config = callerid_mock::Config { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
//! let server = callerid_mock::start(config).await.unwrap();
//! println!("listening on {}", server.addr());
//! server.shutdown().await.unwrap();
//! # }
//! ```

pub mod cli;
pub mod config;
pub mod zero_touch;

mod allow;
mod app;
mod client;
mod control;
mod core;
mod delivery;
mod faults;
mod http;
mod journal;
mod memory;
mod persist;
mod providers;
mod proxy;
mod router;
mod server;
mod shutdown;
mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use allow::{Allowed, parse_allowed};
use app::{App, Parts};
pub use config::Config;
use core::clock::Clock;
use core::ids::Ids;
pub use core::time::Timestamp;
use core::{Core, state_file::StateFile};
use delivery::Deliveries;
use faults::Faults;
use persist::Persister;
use providers::Registry;
pub use server::raise_fd_limit;
use shutdown::Shutdown;

/// How long shutdown waits for in-flight requests, and then for webhooks in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running server.
pub struct Server {
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinHandle<Result<(), String>>,
}

impl Server {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address `--tls-bind` bound, if given.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// Stops accepting, lets in-flight requests finish (up to a grace period), then writes the
    /// last changes to the state file; the cause if they could not be written.
    pub async fn shutdown(self) -> Result<(), String> {
        let _ = self.shutdown.send(true);
        self.tasks.await.unwrap_or_else(|e| Err(format!("the server failed: {e}")))
    }
}

/// Binds, loads the state file or fixtures, and starts serving in the background. A start that
/// fails says why, in a sentence for the person who started it.
pub async fn start(mut config: Config) -> Result<Server, String> {
    memory::tune();
    // An empty token (what compose gives an unset `${VAR}`) is no token, never one that matches
    // the empty string.
    if config.admin_token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        tracing::warn!("the admin token is empty (--admin-token or CALLERID_MOCK_ADMIN_TOKEN): it means no token");
        config.admin_token = None;
    }
    let registry = Arc::new(Registry::new(&config.providers));
    let faults = Arc::new(Faults::default());
    let deliveries = Arc::new(Deliveries::new(
        config.max_journal as usize,
        config.max_journal_bytes,
        registry.clone(),
        faults.clone(),
        config.callback_allow.clone(),
        config.callback_ca.clone(),
    )?);
    let core = Core::new(
        Arc::new(Clock::new(config.start_time, config.frozen_clock)),
        Ids::new(config.seed),
        registry.clone(),
        deliveries.clone(),
        core_options(&config),
    );
    let persister = open_state(&config, &core, &registry)?;
    // Nothing is served before what seeded the state file (fixtures) is in it.
    if let Some(mut durable) = persister.as_ref().map(|p| p.durable.clone()) {
        let head = core.log_head();
        let outcome =
            durable.wait_for(|d| d.kept(head) || d.undone(head)).await.map(|d| (d.kept(head), d.failure.clone()));
        let why = match outcome {
            Ok((true, _)) => None,
            Ok((false, cause)) => {
                Some(format!("cannot write the state file: {}", cause.as_deref().unwrap_or("unknown")))
            }
            Err(_) => Some("the state file writer stopped".to_owned()),
        };
        if let Some(why) = why {
            return give_up(persister, why);
        }
    }
    let (listener, tls_listener) = match bind(&config).await {
        Ok(listeners) => listeners,
        Err(why) => return give_up(persister, why),
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    warn_exposure(&config, addr);
    let (stop, shutdown) = Shutdown::new();
    let app = Arc::new(App::new(Parts {
        state_file: persister.as_ref().map(|p| p.durable.clone()),
        phone_loaded: warm_up_phone_numbers(),
        shutdown: shutdown.clone(),
        config,
        addr,
        core,
        providers: registry,
        faults,
        deliveries,
    }));
    // --tls-bind needs the CA now: a start that cannot make or read it fails here, loudly.
    let tls_listener = match tls_listener.map(|l| app.tls().map(|tls| (l, tls.config.clone()))) {
        None => None,
        Some(Ok(pair)) => Some(pair),
        Some(Err(e)) => {
            let why = format!("--tls-bind needs the CA: {e}");
            return give_up(persister, why);
        }
    };
    let tls_addr = tls_listener.as_ref().and_then(|(l, _)| l.local_addr().ok());
    let tasks = tokio::spawn(run(app, listener, tls_listener, persister, shutdown));
    Ok(Server { addr, tls_addr, shutdown: stop, tasks })
}

fn core_options(config: &Config) -> core::Options {
    core::Options {
        auto_answer: config.auto_answer,
        ring_time: config.ring_time,
        call_duration: config.call_duration,
        strict_auth: config.strict_auth,
        max_state_bytes: config.max_state_bytes,
        max_pending: config.max_pending,
        retention: config.retention,
    }
}

/// The state file, where the last run left off (fixtures seed a fresh one), or the fixtures
/// alone without one.
fn open_state(config: &Config, core: &Arc<Core>, registry: &Registry) -> Result<Option<Persister>, String> {
    let Some(path) = &config.state else {
        if let Some(fixtures) = &config.fixtures {
            load_fixtures(core, fixtures)?;
        }
        return Ok(None);
    };
    let opened = persist::open(path, core, &registry.names(), config.frozen_clock)?;
    let fresh = opened.fresh;
    let persister = Persister::start(opened, core.clone());
    if let (true, Some(fixtures)) = (fresh, &config.fixtures)
        && let Err(why) = load_fixtures(core, fixtures)
    {
        return give_up(Some(persister), why);
    }
    Ok(Some(persister))
}

/// The main port, and `--tls-bind`'s when given.
async fn bind(config: &Config) -> Result<(TcpListener, Option<TcpListener>), String> {
    let listener = TcpListener::bind(config.bind).await.map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
    let tls_listener = match config.tls_bind {
        None => None,
        Some(tls_bind) => {
            Some(TcpListener::bind(tls_bind).await.map_err(|e| format!("cannot bind --tls-bind {tls_bind}: {e}"))?)
        }
    };
    Ok((listener, tls_listener))
}

/// Says once, at start, what a non-loopback address opens to the network.
fn warn_exposure(config: &Config, addr: SocketAddr) {
    if !addr.ip().is_loopback() && config.admin_token.is_none() {
        tracing::warn!(%addr, "/_mock/ is open to the network: anyone who reaches this address can read every code and \
            change all state; set --admin-token (CALLERID_MOCK_ADMIN_TOKEN) to close it");
    }
    if !addr.ip().is_loopback() && config.proxy_passthrough {
        tracing::warn!(%addr, "--proxy-passthrough on a non-loopback address: anyone who reaches it can relay \
            through this machine to any host");
    }
}

/// Loads phone metadata now, off the runtime: start-up does not pay, and requests that arrive
/// meanwhile wait for it without blocking a runtime thread (which would stall every socket).
/// The receiver turns true when it is loaded.
fn warm_up_phone_numbers() -> watch::Receiver<bool> {
    let (loaded, ready) = watch::channel(false);
    // A thread of its own, not the blocking pool: exit never waits for it.
    std::thread::spawn(move || {
        core::phone::warm_up();
        let _ = loaded.send(true);
    });
    ready
}

/// Serves until the server stops, then lets what is in flight finish: requests, the timer
/// task, webhooks, and last the state file's writer (the error if it could not write).
async fn run(
    app: Arc<App>,
    listener: TcpListener,
    tls_listener: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
    persister: Option<Persister>,
    shutdown: Shutdown,
) -> Result<(), String> {
    let core = app.core().clone();
    let mut stopped = shutdown.clone();
    let timers = tokio::spawn(core.run_timers(async move { stopped.stopped().await }));
    server::serve(listener, tls_listener, app.clone(), shutdown, SHUTDOWN_GRACE).await;
    let _ = timers.await;
    app.deliveries().drain(SHUTDOWN_GRACE).await;
    match persister {
        Some(p) => tokio::task::spawn_blocking(move || p.stop()).await.unwrap_or_else(|e| Err(e.to_string())),
        None => Ok(()),
    }
}

/// A start that fails after the state file was opened: the writer stops (releasing the file)
/// before the reason is returned.
fn give_up<T>(persister: Option<Persister>, why: String) -> Result<T, String> {
    if let Some(p) = persister {
        let _ = p.stop();
    }
    Err(why)
}

/// Loads a fixtures file (the state file format) on top of what there is.
fn load_fixtures(core: &Core, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read fixtures {}: {e}", path.display()))?;
    let file: StateFile =
        serde_json::from_str(&text).map_err(|e| format!("fixtures {} is not a state file: {e}", path.display()))?;
    let n = core.import(file, false).map_err(|e| format!("fixtures {}: {e}", path.display()))?;
    tracing::info!(entries = n, path = %path.display(), "fixtures loaded");
    Ok(())
}

/// The lines printed at start: where the server is and the base URL each SDK should use.
pub fn banner(server: &Server, config: &Config) -> String {
    let origin = format!("http://{}", server.addr());
    let mut out = format!("callerid-mock {} listening on {origin}\n", env!("CARGO_PKG_VERSION"));
    for p in Registry::new(&config.providers).all() {
        out.push_str(&format!("  {:<10} {}\n", p.name(), p.base_url(&origin)));
    }
    out.push_str(&format!("  {:<10} {origin}/_mock/\n", "control"));
    out.push_str(&format!(
        "  {:<10} HTTPS_PROXY={origin} (eval \"$(callerid-mock env)\"; the CA: {origin}/_mock/ca.pem)\n",
        "proxy"
    ));
    if let Some(tls) = server.tls_addr() {
        out.push_str(&format!("  {:<10} https://{tls} for the providers' hosts, by SNI\n", "tls"));
    }
    out
}
