//! callerid-mock: a local, stateful emulator of phone providers' caller-ID verification APIs.
//!
//! Point an unmodified official SDK at the server and it verifies caller IDs as against the
//! real provider, with no phones, SMS or money; a control plane under `/_mock/` lets a test
//! read the code that was "sent", move the clock and reset state.
//!
//! # Layout
//! - [`config`]: the one [`Config`] of a server (every flag, described once).
//! - `server`: the accept loop, graceful shutdown, connections an injected fault resets.
//! - `router`: the request path: provider or control plane, body, parse once, faults, the
//!   work, durability, the request journal.
//! - `app`: what every handler can reach.
//! - `http`: request/response helpers shared by every provider.
//! - `core`: provider-neutral state (an indexed `store`), time (`clock`, `timers`, `time`),
//!   randomness (`ids`), `phone` numbers, `magic` numbers, the state file format
//!   (`state_file`) and the change log (`changes`); it knows no provider's JSON, no HTTP, no file.
//! - `providers`: one folder per provider, each owning its routes, wire types, errors, flags
//!   and webhooks; registered by one line in `providers/mod.rs`.
//! - `control`: the `/_mock/` API, its OpenAPI document and the web inbox.
//! - `delivery`: webhooks: the core's calls that ended, rendered by their provider, delivered.
//! - `faults`, `journal`: fault rules and the bounded journals.
//! - `persist`: `--state FILE`, the durable change log.
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

pub mod config;

mod app;
mod control;
mod core;
mod delivery;
mod faults;
mod http;
mod journal;
mod persist;
mod providers;
mod proxy;
mod router;
mod server;
mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use app::App;
pub use config::Config;
use core::clock::Clock;
use core::ids::Ids;
pub use core::time::Timestamp;
use core::{Core, state_file::StateFile};
pub use delivery::{Allowed, parse_allowed};
use journal::Journal;
use persist::Persister;
use providers::Registry;
pub use server::raise_fd_limit;

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

/// Binds, loads the state file or fixtures, and starts serving in the background.
pub async fn start(config: Config) -> Result<Server, String> {
    let registry = Arc::new(Registry::new(&config.providers));
    let clock = Arc::new(Clock::new(config.start_time, config.frozen_clock));
    let per_account = config.max_journal as usize;
    let faults = Arc::new(faults::Faults::default());
    let deliveries = Arc::new(delivery::Deliveries::new(
        per_account,
        config.max_journal_bytes,
        registry.clone(),
        faults.clone(),
        config.callback_allow.clone(),
        config.callback_ca.clone(),
    )?);
    let options = core::Options {
        auto_answer: config.auto_answer,
        strict_auth: config.strict_auth,
        max_state_bytes: config.max_state_bytes,
        max_pending: config.max_pending,
        retention: config.retention,
    };
    let core = Core::new(clock, Ids::new(config.seed), registry.clone(), deliveries.clone(), options);
    // A state file is where the last run left off; fixtures seed a fresh one, or a run without.
    let persister = match &config.state {
        Some(path) => {
            let opened = persist::open(path, &core, &registry.names(), config.frozen_clock)?;
            let fresh = opened.fresh;
            let persister = Persister::start(opened, core.clone());
            let seeded = match (fresh, &config.fixtures) {
                (true, Some(fixtures)) => load_fixtures(&core, fixtures),
                _ => Ok(()),
            };
            if let Err(e) = seeded {
                let _ = persister.stop();
                return Err(e);
            }
            Some(persister)
        }
        None => {
            if let Some(fixtures) = &config.fixtures {
                load_fixtures(&core, fixtures)?;
            }
            None
        }
    };
    let listener = match TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(e) => return give_up(persister, format!("cannot bind {}: {e}", config.bind)),
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls_listener = match config.tls_bind {
        None => None,
        Some(tls_bind) => match TcpListener::bind(tls_bind).await {
            Ok(listener) => Some(listener),
            Err(e) => return give_up(persister, format!("cannot bind --tls-bind {tls_bind}: {e}")),
        },
    };
    let tls_addr = tls_listener.as_ref().and_then(|l| l.local_addr().ok());
    if !addr.ip().is_loopback() && config.admin_token.is_none() {
        tracing::warn!(%addr, "/_mock/ is open to the network: anyone who reaches this address can read every code and \
            change all state; set --admin-token (CALLERID_MOCK_ADMIN_TOKEN) to close it");
    }
    if !addr.ip().is_loopback() && config.proxy_passthrough {
        tracing::warn!(%addr, "--proxy-passthrough on a non-loopback address: anyone who reaches it can relay \
            through this machine to any host");
    }
    // Load phone metadata now, off the runtime: start-up does not pay, and requests that arrive
    // meanwhile wait for it without blocking a runtime thread (which would stall every socket).
    let (phone_loaded, phone_ready) = watch::channel(false);
    // A thread of its own, not the blocking pool: exit never waits for it.
    std::thread::spawn(move || {
        core::phone::warm_up();
        let _ = phone_loaded.send(true);
    });

    let (shutdown, rx) = watch::channel(false);
    let app = Arc::new(App {
        core: core.clone(),
        providers: registry,
        faults,
        requests: Mutex::new(Journal::new(per_account, config.max_journal_bytes)),
        deliveries: deliveries.clone(),
        durable: persister.as_ref().map(|p| p.durable.clone()),
        streams: Arc::new(Semaphore::new(config.max_waiters)),
        phone_ready,
        shutdown: rx.clone(),
        tls: std::sync::OnceLock::new(),
        addr,
        config,
    });
    // --tls-bind needs the CA now: a start that cannot make or read it fails here, loudly.
    let tls_listener = match tls_listener.map(|l| app.tls().map(|tls| (l, tls.config.clone()))) {
        None => None,
        Some(Ok(pair)) => Some(pair),
        Some(Err(e)) => {
            let why = format!("--tls-bind needs the CA: {e}");
            return give_up(persister, why);
        }
    };
    let mut timer_rx = rx.clone();
    let timers = tokio::spawn(core.clone().run_timers(async move {
        let _ = timer_rx.wait_for(|stop| *stop).await;
    }));
    let tasks = tokio::spawn(async move {
        server::serve(listener, tls_listener, app, rx, SHUTDOWN_GRACE).await;
        let _ = timers.await;
        deliveries.drain(SHUTDOWN_GRACE).await;
        match persister {
            Some(p) => tokio::task::spawn_blocking(move || p.stop()).await.unwrap_or_else(|e| Err(e.to_string())),
            None => Ok(()),
        }
    });
    Ok(Server { addr, tls_addr, shutdown, tasks })
}

/// A start that fails after the state file was opened: the writer stops (releasing the file)
/// before the reason is returned.
fn give_up(persister: Option<Persister>, why: String) -> Result<Server, String> {
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

/// The emulator's CA as a server with this `--ca-dir` (or the default) uses it: made now if
/// there is none. Returns where `ca.pem` is kept (if it could be) and the PEM.
pub fn local_ca(ca_dir: Option<&Path>) -> Result<(Option<std::path::PathBuf>, String), String> {
    let dir = ca_dir.map(Path::to_path_buf).or_else(tls::default_dir);
    let domains = Registry::new(&Default::default()).domains();
    let ca = tls::Ca::load_or_create(dir.as_deref(), &domains)?;
    Ok((ca.path.clone(), ca.pem().to_owned()))
}

/// The hosts the providers' SDKs call (`*` stands for one label).
pub fn provider_hosts() -> Vec<&'static str> {
    Registry::new(&Default::default()).all().flat_map(|p| p.hosts()).copied().collect()
}

/// Where the emulator's CA is kept without `--ca-dir`.
pub fn default_ca_dir() -> Option<std::path::PathBuf> {
    tls::default_dir()
}

/// The lines printed at start: where the server is and the base URL each SDK should use.
pub fn banner(server: &Server, config: &Config) -> String {
    let origin = format!("http://{}", server.addr());
    let mut out = format!("callerid-mock {} listening on {origin}\n", env!("CARGO_PKG_VERSION"));
    for p in Registry::new(&config.providers).all() {
        out.push_str(&format!("  {:<8} {}\n", p.name(), p.base_url(&origin)));
    }
    out.push_str(&format!("  {:<8} {origin}/_mock/\n", "control"));
    out.push_str(&format!(
        "  {:<8} HTTPS_PROXY={origin} (eval \"$(callerid-mock env)\"; the CA: {origin}/_mock/ca.pem)\n",
        "proxy"
    ));
    if let Some(tls) = server.tls_addr() {
        out.push_str(&format!("  {:<8} https://{tls} for the providers' hosts, by SNI\n", "tls"));
    }
    out
}
