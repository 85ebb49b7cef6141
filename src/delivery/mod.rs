//! Outbound webhooks, shared by every provider. The core hands over what the application may be
//! told about (a validation call that ended, an outbound call that moved or was answered), right
//! after the operation that made it lets go of the lock, so the webhook is journaled before that
//! operation answers; the provider that owns it renders the requests (URL, method, parameters,
//! signature headers) and each one's delivery [`Policy`] (timeouts, which failures are retried
//! and how often), and this module sends each on a fresh connection per attempt, recording every
//! attempt in a bounded journal. A provider may also withhold a webhook (it does not call back
//! in that case): it is journaled as `not_sent`, with the reason.
//!
//! An answered call's document (TwiML, Plivo XML) is fetched the same way, and its answer
//! (at most [`MAX_DOCUMENT_BYTES`]) handed back to the provider to run: a document it cannot
//! run ends the call with the provider's error (`notice.rs`).
//!
//! Deliveries run as tasks of their own, never inside a request handler, so a receiver that is
//! down, slow or failing never slows the API; at shutdown they get the grace period to finish.
//! At most [`MAX_IN_FLIGHT`] run at once; past that a webhook is journaled as dropped. A fault
//! rule (operation `callback`) or a magic number can make a delivery fail without contacting
//! the receiver, or delay it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, broadcast};

use crate::allow::Allowed;
use crate::core::Core;
use crate::core::clock::Clock;
use crate::core::ids::Ids;
use crate::core::model::{Call, CallError, Verification};
use crate::core::time::Timestamp;
use crate::faults::Faults;
use crate::journal::{self, Journal};
use send::{Outcome, attempt};

mod notice;
mod send;

/// The most of a document's answer that is read (the rest is not).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 10;
/// Most deliveries in flight at once.
pub const MAX_IN_FLIGHT: usize = 256;
/// Pauses before each retry (the last repeats): 0.25 s, 1 s, 2 s, 4 s, 8 s.
pub const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// How a webhook is delivered: each attempt's timeouts, and which failures are tried again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts after the first, at most.
    pub retries: u8,
    pub retry_on: RetryOn,
    /// To open the connection.
    pub connect_timeout: Duration,
    /// From the request sent to the answer's head.
    pub read_timeout: Duration,
    /// For the whole attempt.
    pub total_timeout: Duration,
}

/// The failures a [`Policy`] retries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryOn {
    /// The connection could not be opened (refused, unreachable, timed out).
    pub connect: bool,
    /// No answer within the read or total timeout.
    pub read_timeout: bool,
    /// A 4xx answer.
    pub client_error: bool,
    /// A 5xx answer.
    pub server_error: bool,
}

impl Default for Policy {
    /// Two retries of a connection failure, a timeout or a 5xx; 5 s per attempt.
    fn default() -> Policy {
        Policy {
            retries: 2,
            retry_on: RetryOn { connect: true, read_timeout: true, client_error: false, server_error: true },
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(5),
        }
    }
}

/// A request a provider wants sent.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub provider: &'static str,
    /// The account it belongs to (whole: it is masked when shown, for providers whose account
    /// names are secrets).
    pub account: String,
    /// What it reports on.
    pub subject: Subject,
    /// The number it is about (a verification's, a call's `to`): magic numbers and fault rules
    /// match it.
    pub number: String,
    pub method: &'static str,
    /// The full URL; for GET it already carries the parameters.
    pub url: String,
    /// The parameters, as sent in the query (GET) or the form body (POST).
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The request body (the form-encoded parameters for POST, empty for GET).
    pub body: String,
    pub policy: Policy,
    /// Why the provider does not send it, if it does not: journaled as `not_sent`.
    pub withheld: Option<String>,
}

/// What a webhook reports on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A verification (its validation call), by id.
    Verification(String),
    /// An outbound call, by id.
    Call(String),
}

impl Subject {
    pub fn id(&self) -> &str {
        match self {
            Subject::Verification(id) | Subject::Call(id) => id,
        }
    }
}

/// One try at delivering.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: Timestamp,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why there is no status (refused, timed out, unsupported URL).
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
    /// The provider does not call back in this case (the reason is the one attempt's error).
    NotSent,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::NotSent => "not_sent",
        }
    }
}

/// A webhook and what became of it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: u64,
    pub queued_at: Timestamp,
    pub webhook: Webhook,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    /// For a document fetched: the error that ended the call, when it could not be run.
    pub call_error: Option<CallError>,
}

impl journal::ByteSize for Delivery {
    /// Calibrated like the request journal's entries.
    fn bytes(&self) -> usize {
        let w = &self.webhook;
        540 + w.url.len()
            + w.body.len()
            + w.params.iter().chain(&w.headers).map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
            + self.attempts.iter().map(|a| 64 + a.error.as_ref().map_or(0, String::len)).sum::<usize>()
    }
}

/// What renders webhooks and runs documents: the provider that owns the verification or call
/// (the registry of providers implements it, so that deliveries never name a provider).
pub(crate) trait Render: Send + Sync {
    /// The webhook that tells the application a validation call ended, if it asked for one.
    fn call_ended(&self, v: &Verification, ids: &Ids) -> Option<Webhook>;
    /// The webhooks that tell the application an outbound call moved to its current state.
    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook>;
    /// How an answered call's document is read, if it has one.
    fn document(&self, call: &Call, ids: &Ids) -> Option<Document>;
    /// Runs the document read for `call` (or, `Err`, why none could be read): the error that
    /// ends the call, if it cannot be run.
    fn run_document(&self, core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError>;
}

/// Where an answered call's document comes from.
pub(crate) enum Document {
    /// A request to the application's answer URL; the answer's body is the document.
    Fetch(Box<Webhook>),
    /// Given in the request that placed (or redirected) the call.
    Inline(String),
}

/// The delivery side: the journal, the HTTP client, and what a delivery consults (the provider
/// that renders it, fault rules, `--callback-allow`). The core gives it every call that ends.
pub(crate) struct Deliveries {
    inner: Arc<Inner>,
}

struct Inner {
    journal: Mutex<Journal<Delivery>>,
    in_flight: Arc<Semaphore>,
    render: Arc<dyn Render>,
    faults: Arc<Faults>,
    allowed: Vec<Allowed>,
    /// `--callback-ca`, and the TLS client made from it with the system's roots on the first
    /// `https://` callback (or at start, when the flag is given, so that a bad file stops it).
    callback_ca: Option<std::path::PathBuf>,
    tls: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
    runtime: tokio::runtime::Handle,
}

impl Deliveries {
    /// A delivery side on the current runtime.
    pub fn new(
        per_account: usize,
        max_bytes: usize,
        render: Arc<dyn Render>,
        faults: Arc<Faults>,
        allowed: Vec<Allowed>,
        callback_ca: Option<std::path::PathBuf>,
    ) -> Result<Deliveries, String> {
        let inner = Inner {
            journal: Mutex::new(Journal::new(per_account, max_bytes)),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            render,
            faults,
            allowed,
            tls: std::sync::OnceLock::new(),
            callback_ca,
            runtime: tokio::runtime::Handle::current(),
        };
        if inner.callback_ca.is_some() {
            inner.tls_client()?;
        }
        Ok(Deliveries { inner: Arc::new(inner) })
    }

    /// A page of deliveries, newest first (see [`Journal::page`]).
    pub fn page(
        &self,
        account: Option<&str>,
        before: Option<u64>,
        limit: usize,
        keep: impl Fn(&Delivery) -> bool,
    ) -> (Vec<Delivery>, Option<u64>) {
        let (page, next) = self.inner.journal.lock().page(account, before, limit, keep);
        (page.into_iter().map(|(_, d)| d).collect(), next)
    }

    /// Forgets every delivery, or one account's.
    pub fn reset(&self, account: Option<&str>) {
        self.inner.journal.lock().reset(account);
    }

    pub fn bytes(&self) -> usize {
        self.inner.journal.lock().bytes()
    }

    /// Gives the deliveries in flight up to `grace` to finish (at shutdown).
    pub async fn drain(&self, grace: Duration) {
        let all = self.inner.in_flight.acquire_many(MAX_IN_FLIGHT as u32);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("webhook deliveries still in flight at shutdown were abandoned");
        }
    }
}

/// What a delivery in flight needs.
struct InFlight {
    inner: Arc<Inner>,
    clock: Arc<Clock>,
    watchers: broadcast::Sender<()>,
}

impl InFlight {
    fn changed(&self) {
        let _ = self.watchers.send(());
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Delivery)) {
        self.inner.journal.lock().update(id, f);
        self.changed();
    }

    /// Records one attempt that never reached the receiver and fails the delivery.
    fn fail(&self, id: u64, status: Option<u16>, why: &str) {
        self.finish(id, status, why, DeliveryState::Failed);
    }

    /// Ends a delivery that never reached the receiver, in `state`, with the reason.
    fn finish(&self, id: u64, status: Option<u16>, why: &str, state: DeliveryState) {
        let at = self.clock.now();
        self.update(id, |d| {
            d.attempts.push(Attempt { at, status, error: Some(why.to_owned()), duration_ms: 0 });
            d.state = state;
        });
    }

    /// Delivers `webhook` as its policy says; the answer's body when it was delivered (read
    /// only with `read_body`: a document), or why it was not.
    async fn deliver(&self, id: u64, webhook: &Webhook, read_body: bool) -> Result<Bytes, String> {
        let policy = &webhook.policy;
        let mut last = String::new();
        for n in 0..=policy.retries {
            let at = self.clock.now();
            let started = Instant::now();
            let outcome = tokio::time::timeout(policy.total_timeout, attempt(webhook, &self.inner, read_body))
                .await
                .unwrap_or_else(|_| Outcome::TimedOut(format!("no answer within {:?} (total)", policy.total_timeout)));
            let on = policy.retry_on;
            let (status, body, error, again) = match outcome {
                Outcome::Answered(s, body) => {
                    let again = (s >= 500 && on.server_error) || ((400..500).contains(&s) && on.client_error);
                    (Some(s), body, None, again)
                }
                Outcome::ConnectFailed(e) => (None, Bytes::new(), Some(e), on.connect),
                Outcome::TimedOut(e) => (None, Bytes::new(), Some(e), on.read_timeout),
                Outcome::Invalid(e) => (None, Bytes::new(), Some(e), false),
            };
            let retry = again && n < policy.retries;
            let duration_ms = started.elapsed().as_millis() as u64;
            tracing::info!(url = ?webhook.url, status, error, "callback attempt");
            last = match (&error, status) {
                (Some(e), _) => e.clone(),
                (None, Some(s)) => format!("the receiver answered {s}"),
                (None, None) => String::new(),
            };
            let delivered = status.is_some_and(|s| s < 300);
            self.update(id, |d| {
                d.attempts.push(Attempt { at, status, error, duration_ms });
                d.state = match status {
                    _ if retry => DeliveryState::Pending,
                    Some(s) if s < 300 => DeliveryState::Delivered,
                    _ => DeliveryState::Failed,
                };
            });
            if delivered {
                return Ok(body);
            }
            if !retry {
                break;
            }
            tokio::time::sleep(RETRY_DELAYS[usize::from(n).min(RETRY_DELAYS.len() - 1)]).await;
        }
        Err(last)
    }
}
