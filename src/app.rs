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
}

impl App {
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
