//! What every request handler can reach: the core, the providers, the transport-level records
//! (fault rules, the request journal, webhook deliveries), the state file's progress, the
//! waiter slots, and the shutdown signal. Its parts are reached through methods, so that what
//! changes them (the request journal's lock, above all) stays in one place.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::config::Config;
use crate::core::Core;
use crate::delivery::Deliveries;
use crate::faults::Faults;
use crate::journal::{Journal, RequestRecord};
use crate::persist::Durable;
use crate::providers::Registry;
use crate::shutdown::Shutdown;
use crate::tls::{Ca, Minter};

/// What an [`App`] is made of, as the server's start puts it together.
pub(crate) struct Parts {
    pub config: Config,
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    pub providers: Arc<Registry>,
    pub faults: Arc<Faults>,
    pub deliveries: Arc<Deliveries>,
    /// How far the state file is written, when one is kept.
    pub state_file: Option<watch::Receiver<Durable>>,
    /// Turns true once phone metadata is loaded (in the background, right after start).
    pub phone_loaded: watch::Receiver<bool>,
    pub shutdown: Shutdown,
}

pub(crate) struct App {
    config: Config,
    addr: SocketAddr,
    core: Arc<Core>,
    providers: Arc<Registry>,
    faults: Arc<Faults>,
    deliveries: Arc<Deliveries>,
    requests: Mutex<Journal<RequestRecord>>,
    state_file: Option<watch::Receiver<Durable>>,
    /// Slots for long-lived requests (long-polls, event streams): `--max-waiters`.
    waiter_slots: Arc<Semaphore>,
    phone_loaded: watch::Receiver<bool>,
    shutdown: Shutdown,
    /// The CA and TLS for the providers' hosts, made the first time they are needed.
    made_tls: OnceLock<Result<Tls, String>>,
}

/// The emulator's CA, and the TLS configuration that answers for the providers' hosts.
pub(crate) struct Tls {
    pub ca: Arc<Ca>,
    pub config: Arc<rustls::ServerConfig>,
}

impl App {
    pub fn new(p: Parts) -> App {
        App {
            requests: Mutex::new(Journal::new(p.config.max_journal as usize, p.config.max_journal_bytes)),
            waiter_slots: Arc::new(Semaphore::new(p.config.max_waiters)),
            config: p.config,
            addr: p.addr,
            core: p.core,
            providers: p.providers,
            faults: p.faults,
            deliveries: p.deliveries,
            state_file: p.state_file,
            phone_loaded: p.phone_loaded,
            shutdown: p.shutdown,
            made_tls: OnceLock::new(),
        }
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn providers(&self) -> &Registry {
        &self.providers
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn deliveries(&self) -> &Deliveries {
        &self.deliveries
    }

    /// The stop signal, for a wait that must end when the server stops.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Records a provider request in the request journal (under `account`, `""` for none).
    pub fn record_request(&self, account: &str, entry: RequestRecord) {
        self.requests.lock().push(account, entry);
    }

    /// A page of the request journal, newest first (see [`Journal::page`]).
    pub fn requests_page(
        &self,
        account: Option<&str>,
        before: Option<u64>,
        limit: usize,
        keep: impl Fn(&RequestRecord) -> bool,
    ) -> (Vec<(u64, RequestRecord)>, Option<u64>) {
        self.requests.lock().page(account, before, limit, keep)
    }

    /// Bytes the request journal holds.
    pub fn requests_bytes(&self) -> usize {
        self.requests.lock().bytes()
    }

    /// Wipes every account, or one (every provider's), with its journals and webhooks; returns
    /// how many namespaces were emptied.
    pub fn reset(&self, account: Option<&str>) -> usize {
        let removed = self.core.reset(account);
        self.requests.lock().reset(account);
        self.deliveries.reset(account);
        removed
    }

    /// How far the state file is written, and why it cannot be, when one is kept.
    pub fn state_file(&self) -> Option<Durable> {
        self.state_file.as_ref().map(|d| d.borrow().clone())
    }

    /// Waits until every change queued up to `lsn` is in the state file (at once without one);
    /// the cause if it cannot be written (or the server stops first).
    pub async fn synced(&self, lsn: u64) -> Result<(), Arc<str>> {
        let Some(durable) = &self.state_file else { return Ok(()) };
        let mut rx = durable.clone();
        // A change the file cannot keep is undone before its answer, so nothing of it is seen
        // after its 503.
        let outcome = rx.wait_for(|d| d.kept(lsn) || d.undone(lsn)).await;
        match outcome {
            Ok(d) if d.kept(lsn) => Ok(()),
            Ok(d) => Err(d.failure.clone().unwrap_or_else(|| "the state file could not be written".into())),
            Err(_) => Err("the state file writer stopped".into()),
        }
    }

    /// Whether a state file is kept (writes then wait for it).
    pub fn keeps_state_file(&self) -> bool {
        self.state_file.is_some()
    }

    /// A slot for a long-lived request, if `--max-waiters` allows one more.
    pub fn waiter_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.waiter_slots.clone().try_acquire_owned().ok()
    }

    /// Long-lived requests in flight.
    pub fn waiters(&self) -> usize {
        self.config.max_waiters - self.waiter_slots.available_permits()
    }

    /// Waits (without blocking a runtime thread) until phone numbers can be parsed.
    pub async fn phone_ready(&self) {
        if !*self.phone_loaded.borrow() {
            let _ = self.phone_loaded.clone().wait_for(|ready| *ready).await;
        }
    }

    /// The CA and TLS configuration, made (or read from `--ca-dir`) on first use.
    pub fn tls(&self) -> Result<&Tls, &str> {
        let made = self.made_tls.get_or_init(|| {
            let ca = Arc::new(Ca::for_dir(self.config.ca_dir.as_deref(), &self.providers.domains())?);
            let providers = self.providers.clone();
            let config = Minter::new(ca.clone(), move |host| providers.serves_host(host)).server_config()?;
            Ok(Tls { ca, config })
        });
        made.as_ref().map_err(String::as_str)
    }

    /// The account as logs, journals and the inbox show it: masked when the provider's account
    /// names are secrets (an API key).
    pub fn shown_account(&self, provider: &str, account: &str) -> String {
        match self.providers.by_name(provider) {
            Some(p) if p.account_is_secret() => mask(account),
            _ => account.to_owned(),
        }
    }
}

/// A secret shown as its first and last four characters (`abcd…wxyz`); short ones show less.
pub(crate) fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let keep = match chars.len() {
        n if n >= 16 => 4,
        n if n >= 8 => 2,
        _ => 0,
    };
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_to_their_ends() {
        assert_eq!(super::mask("abcdefghijklmnopqrstuvwxyz"), "abcd…wxyz");
        assert_eq!(super::mask("TESTKEY12"), "TE…12");
        assert_eq!(super::mask("KEY"), "…");
    }
}
