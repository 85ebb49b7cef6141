//! Outbound webhook delivery, shared by every provider: a provider renders the request (URL,
//! method, parameters, signature headers), this module sends it with a timeout per attempt and
//! a few retries with backoff, and records every attempt in a bounded journal.
//!
//! Deliveries run as their own tasks, never inside a request handler, so a receiver that is
//! down, slow or failing never slows the API. At most [`MAX_IN_FLIGHT`] run at once; past that
//! a webhook is journaled as dropped. A fault rule (target operation `callback`) can make a
//! delivery fail without contacting the receiver, or delay it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, broadcast};

use super::clock::Clock;
use super::faults::Action;
use super::journal::Journal;
use super::time::Timestamp;

/// Most deliveries in flight at once.
pub const MAX_IN_FLIGHT: usize = 256;
/// Time allowed for one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pauses before the second and third attempts; a 2xx, 3xx or 4xx answer ends the retries.
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];

/// A request a provider wants sent.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub provider: &'static str,
    pub account: String,
    /// The verification (call) it reports on, and its number.
    pub verification_id: String,
    pub phone_number: String,
    pub method: &'static str,
    /// The full URL; for GET it already carries the parameters.
    pub url: String,
    /// The parameters, as sent in the query (GET) or the form body (POST).
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The request body (the form-encoded parameters for POST, empty for GET).
    pub body: String,
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
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
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
}

/// The journal, and who to tell when it changes.
struct Shared {
    journal: Mutex<Journal<Delivery>>,
    changed: broadcast::Sender<()>,
}

impl Shared {
    /// Changes the delivery `id` of `account`, then tells the watchers.
    fn update(&self, account: &str, id: u64, f: impl FnOnce(&mut Delivery)) {
        if let Some(d) = self.journal.lock().get_mut(account, id) {
            f(d);
        }
        let _ = self.changed.send(());
    }
}

/// The delivery engine and its journal.
pub struct Webhooks {
    shared: Arc<Shared>,
    client: Client<HttpConnector, Full<Bytes>>,
    in_flight: Arc<Semaphore>,
}

impl Webhooks {
    /// An engine whose journal keeps `max_journal` deliveries per account; it sends on
    /// `changed` whenever the journal changes.
    pub fn new(max_journal: usize, changed: broadcast::Sender<()>) -> Webhooks {
        // Title-Case header names on the wire (`X-Twilio-Signature`), as the providers send them;
        // no idle connections kept, so a receiver that shuts down is not held open by us.
        let client =
            Client::builder(TokioExecutor::new()).http1_title_case_headers(true).pool_max_idle_per_host(0).build_http();
        Webhooks {
            shared: Arc::new(Shared { journal: Mutex::new(Journal::new(max_journal)), changed }),
            client,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Journals `webhook` and starts delivering it in the background; `fault` is what an
    /// injected fault does to it.
    pub fn send(&self, clock: Arc<Clock>, webhook: Webhook, fault: Option<Action>) {
        let id = {
            let mut journal = self.shared.journal.lock();
            let queued_at = clock.now();
            let delivery = Delivery {
                id: 0,
                queued_at,
                webhook: webhook.clone(),
                state: DeliveryState::Pending,
                attempts: Vec::new(),
            };
            let id = journal.push(&webhook.account, delivery);
            if let Some(d) = journal.get_mut(&webhook.account, id) {
                d.id = id;
            }
            id
        };
        let _ = self.shared.changed.send(());
        tracing::info!(provider = webhook.provider, url = %webhook.url, method = webhook.method, "callback queued");
        let permit = match (self.in_flight.clone().try_acquire_owned(), tokio::runtime::Handle::try_current()) {
            (Ok(permit), Ok(handle)) => (permit, handle),
            (Err(_), _) => {
                return fail(&self.shared, &clock, &webhook.account, id, None, "dropped: too many callbacks in flight");
            }
            (_, Err(_)) => {
                return fail(&self.shared, &clock, &webhook.account, id, None, "dropped: no runtime to deliver on");
            }
        };
        let (permit, handle) = permit;
        let (journal, client) = (self.shared.clone(), self.client.clone());
        handle.spawn(async move {
            match fault {
                Some(Action::Error { status, .. }) => {
                    fail(&journal, &clock, &webhook.account, id, Some(status), "injected fault: error status")
                }
                Some(Action::Reset) => {
                    fail(&journal, &clock, &webhook.account, id, None, "injected fault: connection reset")
                }
                Some(Action::Drop { .. }) => {
                    fail(&journal, &clock, &webhook.account, id, None, "injected fault: connection dropped")
                }
                Some(Action::Latency { min_ms, .. }) => {
                    tokio::time::sleep(Duration::from_millis(min_ms)).await;
                    deliver(&client, &journal, &clock, id, &webhook).await;
                }
                None => deliver(&client, &journal, &clock, id, &webhook).await,
            }
            drop(permit);
        });
    }

    /// Every delivery, newest first, that `keep` accepts.
    pub fn journal(&self, keep: impl Fn(&Webhook) -> bool) -> Vec<Delivery> {
        self.shared.journal.lock().list(|d| keep(&d.webhook)).into_iter().map(|(_, d)| d).collect()
    }

    /// Forgets every delivery, or one account's.
    pub fn reset(&self, account: Option<&str>) {
        self.shared.journal.lock().reset(account);
    }
}

/// Records one attempt that never reached the receiver and fails the delivery.
fn fail(shared: &Shared, clock: &Clock, account: &str, id: u64, status: Option<u16>, why: &str) {
    shared.update(account, id, |d| {
        d.attempts.push(Attempt { at: clock.now(), status, error: Some(why.to_owned()), duration_ms: 0 });
        d.state = DeliveryState::Failed;
    });
}

async fn deliver(
    client: &Client<HttpConnector, Full<Bytes>>,
    shared: &Shared,
    clock: &Clock,
    id: u64,
    webhook: &Webhook,
) {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        let at = clock.now();
        let started = Instant::now();
        let (status, error) = match attempt(client, webhook).await {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let done = matches!(status, Some(s) if s < 500);
        let retry = if done { None } else { delays.next() };
        let duration_ms = started.elapsed().as_millis() as u64;
        shared.update(&webhook.account, id, |d| {
            d.attempts.push(Attempt { at, status, error: error.clone(), duration_ms });
            d.state = match (done, retry) {
                (true, _) if status.is_some_and(|s| s < 300) => DeliveryState::Delivered,
                (true, _) | (false, None) => DeliveryState::Failed,
                (false, Some(_)) => DeliveryState::Pending,
            };
        });
        tracing::info!(url = %webhook.url, status, error, "callback attempt");
        match retry {
            Some(delay) => tokio::time::sleep(*delay).await,
            None => return,
        }
    }
}

async fn attempt(client: &Client<HttpConnector, Full<Bytes>>, webhook: &Webhook) -> Result<u16, String> {
    let uri: hyper::Uri = webhook.url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("only http:// callback URLs can be reached from the emulator, not {:?}", webhook.url));
    }
    let mut req = hyper::Request::builder().method(webhook.method).uri(uri);
    for (name, value) in &webhook.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let req = req.body(Full::new(Bytes::from(webhook.body.clone()))).map_err(|e| e.to_string())?;
    match tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(req)).await {
        Err(_) => Err(format!("timed out after {}s", ATTEMPT_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("request failed: {e}")),
        Ok(Ok(res)) => Ok(res.status().as_u16()),
    }
}
