//! callerid-mock: a local, stateful emulator of phone providers' caller-ID verification APIs.
//!
//! Point an unmodified official SDK at the server and it verifies caller IDs as against the
//! real provider, with no phones, SMS or money; a control plane under `/_mock/` lets a test
//! read the code that was "sent", move the clock and reset state.
//!
//! # Layout
//! - [`config`]: the one [`Config`] of a server.
//! - `server`: the hyper accept loop, graceful shutdown, connections an injected fault resets.
//! - `router`: reads a request whole, sends it to the provider its first path segment names,
//!   applies fault rules and writes the request journal.
//! - `http`: request/response helpers shared by every provider.
//! - [`core`]: provider-neutral state (`store`, `ops`, `calls`, `auth`), time (`clock`,
//!   `timers`, `time`), randomness (`ids`), webhooks (`callbacks`), `faults`, `journal`,
//!   `magic` numbers and the state file format (`snapshot`); it knows no provider's JSON.
//! - `phone`: E.164 parsing and formatting through the `phonenumber` crate.
//! - `providers`: one folder per provider (Plivo, Twilio, seven), each owning its wire format,
//!   registered in `providers::ALL`.
//! - `control`: the `/_mock/` API, its OpenAPI document and the web inbox.
//! - `persist`: `--state FILE`, saved atomically.
//!
//! # Use from a test
//! ```no_run
//! # async fn demo() {
//! let config = callerid_mock::Config { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
//! let server = callerid_mock::start(config).await.unwrap();
//! println!("listening on {}", server.addr());
//! server.shutdown().await;
//! # }
//! ```

pub mod config;
pub mod core;

mod control;
mod http;
mod persist;
mod phone;
mod providers;
mod router;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::Config;
use core::Core;
use core::clock::Clock;
use core::ids::Ids;

/// What every request handler can reach.
pub(crate) struct App {
    pub core: Arc<Core>,
    pub config: Config,
    /// Turns true when the server shuts down (long-lived streams end then).
    pub shutdown: watch::Receiver<bool>,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinHandle<()>,
}

impl Server {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, and waits until they have.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.tasks.await;
    }
}

/// Binds, loads fixtures and starts serving in the background.
pub async fn start(config: Config) -> Result<Server, String> {
    let clock = Clock::new(config.start_time, config.frozen_clock);
    let options = core::Options {
        auto_answer: config.auto_answer,
        max_journal: config.max_journal,
        strict_auth: config.strict_auth,
    };
    let core = Core::new(clock, Ids::new(config.seed), Box::new(providers::Registry), options);
    // A saved state, when there is one, is where the last run left off; fixtures seed a
    // fresh start.
    match (&config.state, &config.fixtures) {
        (Some(path), _) if path.exists() => load_file(&core, path, "state", true)?,
        (_, Some(path)) => load_file(&core, path, "fixtures", false)?,
        _ => {}
    }
    let listener = TcpListener::bind(config.bind).await.map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Load phone metadata now, off the runtime: neither start-up nor the first request pays.
    tokio::task::spawn_blocking(phone::warm_up);

    let (shutdown, rx) = watch::channel(false);
    let app = Arc::new(App { core: core.clone(), config, shutdown: rx.clone() });
    let mut timer_rx = rx.clone();
    let timers = tokio::spawn(core.clone().run_timers(async move {
        let _ = timer_rx.wait_for(|stop| *stop).await;
    }));
    let saver = app.config.state.clone().map(|path| tokio::spawn(persist::run(core.clone(), path, rx.clone())));
    let tasks = tokio::spawn(async move {
        server::serve(listener, app, rx).await;
        let _ = timers.await;
        if let Some(saver) = saver {
            let _ = saver.await;
        }
    });
    Ok(Server { addr, shutdown, tasks })
}

/// Loads a state file (`what` names it in errors); `replace` as [`Core::load_state`].
fn load_file(core: &Core, path: &std::path::Path, what: &str, replace: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    let file =
        serde_json::from_str(&text).map_err(|e| format!("{what} {} is not a state file: {e}", path.display()))?;
    let n = core.load_state(file, replace).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    tracing::info!(entries = n, path = %path.display(), "{what} loaded");
    Ok(())
}

/// The lines printed at start: where the server is and the base URL each SDK should use.
pub fn banner(addr: SocketAddr) -> String {
    let origin = format!("http://{addr}");
    let mut out = format!("callerid-mock {} listening on {origin}\n", env!("CARGO_PKG_VERSION"));
    for p in providers::ALL {
        out.push_str(&format!("  {:<8} {}\n", p.name, (p.base_url)(&origin)));
    }
    out.push_str(&format!("  {:<8} {origin}/_mock/\n", "control"));
    out
}
