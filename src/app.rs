//! What every request handler can reach: the core, the providers, the transport-level records
//! (fault rules, the request journal, webhook deliveries), the state file's durability, and
//! the shutdown signal.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{Semaphore, watch};

use crate::config::Config;
use crate::core::Core;
use crate::delivery::Deliveries;
use crate::faults::Faults;
use crate::journal::{Journal, RequestRecord};
use crate::persist::Durable;
use crate::providers::Registry;
use crate::tls::{Ca, Minter};

pub(crate) struct App {
    pub core: Arc<Core>,
    pub config: Config,
    pub providers: Arc<Registry>,
    pub faults: Arc<Faults>,
    pub requests: Mutex<Journal<RequestRecord>>,
    pub deliveries: Arc<Deliveries>,
    /// How far the state file is written, when one is kept.
    pub durable: Option<watch::Receiver<Durable>>,
    /// Slots for long-lived requests (long-polls, event streams): `--max-waiters`.
    pub streams: Arc<Semaphore>,
    /// Turns true once phone metadata is loaded (in the background, right after start).
    pub phone_ready: watch::Receiver<bool>,
    /// Turns true when the server shuts down (long-lived requests end then).
    pub shutdown: watch::Receiver<bool>,
    /// Where the server listens.
    pub addr: std::net::SocketAddr,
    /// The CA and TLS for the providers' hosts, made the first time they are needed.
    pub tls: std::sync::OnceLock<Result<Tls, String>>,
}

/// The emulator's CA, and the TLS configuration that answers for the providers' hosts.
pub(crate) struct Tls {
    pub ca: Arc<Ca>,
    pub config: Arc<rustls::ServerConfig>,
}

impl App {
    /// The CA and TLS configuration, made (or read from `--ca-dir`) on first use.
    pub fn tls(&self) -> Result<&Tls, &str> {
        let made = self.tls.get_or_init(|| {
            let dir = self.config.ca_dir.clone().or_else(crate::tls::default_dir);
            let ca = Arc::new(Ca::load_or_create(dir.as_deref(), &self.providers.domains())?);
            let providers = self.providers.clone();
            let config = Minter::new(ca.clone(), move |host| providers.serves_host(host)).server_config()?;
            Ok(Tls { ca, config })
        });
        made.as_ref().map_err(String::as_str)
    }

    /// Waits (without blocking a runtime thread) until phone numbers can be parsed.
    pub async fn phone_ready(&self) {
        if !*self.phone_ready.borrow() {
            let _ = self.phone_ready.clone().wait_for(|ready| *ready).await;
        }
    }

    /// Waits until every change queued up to `lsn` is in the state file; the cause if it
    /// cannot be written (or the server stops first).
    pub async fn durable(&self, lsn: u64) -> Result<(), Arc<str>> {
        let Some(durable) = &self.durable else { return Ok(()) };
        let mut rx = durable.clone();
        let outcome = rx.wait_for(|d| d.lsn >= lsn || d.failure.is_some()).await;
        match outcome {
            Ok(d) if d.lsn >= lsn => Ok(()),
            Ok(d) => Err(d.failure.clone().unwrap_or_else(|| "the state file is not written".into())),
            Err(_) => Err("the state file writer stopped".into()),
        }
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
