//! Outbound webhooks, shared by every provider: the core reports calls that ended on its bus,
//! the provider that owns the call renders the request (URL, method, parameters, signature
//! headers), and this module sends it with a timeout per attempt and retries with backoff,
//! recording every attempt in a bounded journal.
//!
//! Deliveries run as tasks owned by [`run`], never inside a request handler, so a receiver that
//! is down, slow or failing never slows the API; at shutdown they get the grace period to
//! finish. At most [`MAX_IN_FLIGHT`] run at once; past that a webhook is journaled as dropped.
//! A fault rule (operation `callback`) or a magic number can make a delivery fail without
//! contacting the receiver, or delay it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use crate::app::App;
use crate::core::Ended;
use crate::core::magic::{self, Magic};
use crate::core::time::Timestamp;
use crate::faults::{Action, Target};
use crate::journal::{self, Journal};

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
    /// As shown (masked when the provider's account names are secrets).
    pub account: String,
    /// The verification (call) it reports on.
    pub verification_id: String,
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

impl journal::Sized for Delivery {
    fn bytes(&self) -> usize {
        let w = &self.webhook;
        256 + w.url.len()
            + w.body.len()
            + w.params.iter().chain(&w.headers).map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
            + self.attempts.iter().map(|a| 64 + a.error.as_ref().map_or(0, String::len)).sum::<usize>()
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The delivery journal and the HTTP client.
pub(crate) struct Deliveries {
    journal: Mutex<Journal<Delivery>>,
    client: HttpClient,
    in_flight: Arc<Semaphore>,
}

impl Deliveries {
    pub fn new(per_account: usize, max_bytes: usize) -> Deliveries {
        // Title-Case header names on the wire (`X-Twilio-Signature`), as the providers send them;
        // no idle connections kept, so a receiver that shuts down is not held open by us.
        let client =
            Client::builder(TokioExecutor::new()).http1_title_case_headers(true).pool_max_idle_per_host(0).build_http();
        Deliveries {
            journal: Mutex::new(Journal::new(per_account, max_bytes)),
            client,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// A page of deliveries, newest first (see [`Journal::page`]).
    pub fn page(
        &self,
        account: Option<&str>,
        before: Option<u64>,
        limit: usize,
        keep: impl Fn(&Delivery) -> bool,
    ) -> (Vec<Delivery>, Option<u64>) {
        let (page, next) = self.journal.lock().page(account, before, limit, keep);
        (page.into_iter().map(|(_, d)| d).collect(), next)
    }

    /// Forgets every delivery, or one account's.
    pub fn reset(&self, account: Option<&str>) {
        self.journal.lock().reset(account);
    }

    pub fn bytes(&self) -> usize {
        self.journal.lock().bytes()
    }

    fn update(&self, app: &App, id: u64, f: impl FnOnce(&mut Delivery)) {
        self.journal.lock().update(id, f);
        app.core.notify_watchers();
    }
}

/// Turns calls that ended into webhooks and delivers them, until `shutdown`; then gives the
/// deliveries in flight `grace` to finish.
pub(crate) async fn run(
    app: Arc<App>,
    mut ended: mpsc::UnboundedReceiver<Ended>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            e = ended.recv() => match e {
                Some(e) => queue(&app, &mut tasks, e),
                None => break,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    // Calls that ended while the server stopped still get their webhook queued.
    while let Ok(e) = ended.try_recv() {
        queue(&app, &mut tasks, e);
    }
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!(left = tasks.len(), "webhook deliveries still in flight at shutdown were abandoned");
    }
}

/// Journals the webhook of a call that ended and starts delivering it.
fn queue(app: &Arc<App>, tasks: &mut JoinSet<()>, e: Ended) {
    let v = &e.verification;
    let Some(provider) = app.providers.by_name(v.key.provider) else { return };
    let Some(webhook) = provider.call_ended(v, app.core.ids()) else { return };
    let target = Target {
        provider: webhook.provider,
        operation: "callback",
        account: Some(v.key.account.to_string()),
        number: Some(v.phone_number.clone()),
    };
    let fault = match magic::lookup(&v.phone_number) {
        Some(Magic::CallbackFails) => Some(Action::Error { status: 500, code: None, message: "magic number".into() }),
        _ => app.faults.check(&target, app.core.ids()),
    };
    let deliveries = &app.deliveries;
    let id = {
        let mut journal = deliveries.journal.lock();
        let delivery = Delivery {
            id: 0,
            queued_at: app.core.clock().now(),
            webhook: webhook.clone(),
            state: DeliveryState::Pending,
            attempts: Vec::new(),
        };
        let id = journal.push(&webhook.account, delivery);
        journal.update(id, |d| d.id = id);
        id
    };
    app.core.notify_watchers();
    tracing::info!(provider = webhook.provider, url = ?webhook.url, method = webhook.method, "callback queued");
    let Ok(permit) = deliveries.in_flight.clone().try_acquire_owned() else {
        return fail(app, id, None, "dropped: too many callbacks in flight");
    };
    let app = app.clone();
    tasks.spawn(async move {
        match fault {
            Some(Action::Error { status, .. }) => fail(&app, id, Some(status), "injected fault: error status"),
            Some(Action::Reset) => fail(&app, id, None, "injected fault: connection reset"),
            Some(Action::Drop { .. }) => fail(&app, id, None, "injected fault: connection dropped"),
            Some(Action::Latency { min_ms, .. }) => {
                tokio::time::sleep(Duration::from_millis(min_ms)).await;
                deliver(&app, id, &webhook).await;
            }
            None => deliver(&app, id, &webhook).await,
        }
        drop(permit);
    });
}

/// Records one attempt that never reached the receiver and fails the delivery.
fn fail(app: &App, id: u64, status: Option<u16>, why: &str) {
    let at = app.core.clock().now();
    app.deliveries.update(app, id, |d| {
        d.attempts.push(Attempt { at, status, error: Some(why.to_owned()), duration_ms: 0 });
        d.state = DeliveryState::Failed;
    });
}

async fn deliver(app: &App, id: u64, webhook: &Webhook) {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        let at = app.core.clock().now();
        let started = Instant::now();
        let (status, error) = match attempt(&app.deliveries.client, webhook).await {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let done = matches!(status, Some(s) if s < 500);
        let retry = if done { None } else { delays.next() };
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(url = ?webhook.url, status, error, "callback attempt");
        app.deliveries.update(app, id, |d| {
            d.attempts.push(Attempt { at, status, error, duration_ms });
            d.state = match (done, retry) {
                (true, _) if status.is_some_and(|s| s < 300) => DeliveryState::Delivered,
                (true, _) | (false, None) => DeliveryState::Failed,
                (false, Some(_)) => DeliveryState::Pending,
            };
        });
        match retry {
            Some(delay) => tokio::time::sleep(*delay).await,
            None => return,
        }
    }
}

async fn attempt(client: &HttpClient, webhook: &Webhook) -> Result<u16, String> {
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
