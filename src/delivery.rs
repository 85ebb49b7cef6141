//! Outbound webhooks, shared by every provider: the core hands over each call that ended (right
//! after the operation that ended it lets go of the lock, so the webhook is journaled before
//! that operation answers), the provider that owns the call renders the request (URL, method,
//! parameters, signature headers) and its delivery [`Policy`] (timeouts, which failures are
//! retried and how often), and this module sends it on a fresh connection per attempt,
//! recording every attempt in a bounded journal. A provider may also withhold a webhook (it
//! does not call back in that case): it is journaled as `not_sent`, with the reason.
//!
//! Deliveries run as tasks of their own, never inside a request handler, so a receiver that is
//! down, slow or failing never slows the API; at shutdown they get the grace period to finish. At most [`MAX_IN_FLIGHT`] run at once; past that a webhook is journaled as dropped.
//! A fault rule (operation `callback`) or a magic number can make a delivery fail without
//! contacting the receiver, or delay it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, broadcast};

use crate::core::clock::Clock;
use crate::core::magic::{self, Magic};
use crate::core::time::Timestamp;
use crate::core::{Core, Ended, EndedSink};
use crate::faults::{Action, Faults, Target};
use crate::journal::{self, Journal};
use crate::providers::Registry;

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
    pub policy: Policy,
    /// Why the provider does not send it, if it does not: journaled as `not_sent`.
    pub withheld: Option<String>,
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
}

impl journal::Sized for Delivery {
    /// Calibrated like the request journal's entries.
    fn bytes(&self) -> usize {
        let w = &self.webhook;
        540 + w.url.len()
            + w.body.len()
            + w.params.iter().chain(&w.headers).map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
            + self.attempts.iter().map(|a| 64 + a.error.as_ref().map_or(0, String::len)).sum::<usize>()
    }
}

/// The delivery side: the journal, the HTTP client, and what a delivery consults (the provider
/// that renders it, fault rules, `--callback-allow`). The core gives it every call that ends.
pub(crate) struct Deliveries {
    inner: Arc<Inner>,
}

struct Inner {
    journal: Mutex<Journal<Delivery>>,
    in_flight: Arc<Semaphore>,
    providers: Arc<Registry>,
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
        providers: Arc<Registry>,
        faults: Arc<Faults>,
        allowed: Vec<Allowed>,
        callback_ca: Option<std::path::PathBuf>,
    ) -> Result<Deliveries, String> {
        let inner = Inner {
            journal: Mutex::new(Journal::new(per_account, max_bytes)),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            providers,
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

impl EndedSink for Deliveries {
    /// Journals the webhook of a call that ended and starts delivering it.
    fn ended(&self, core: &Core, e: Ended) {
        let inner = &self.inner;
        let v = &e.verification;
        let Some(provider) = inner.providers.by_name(v.key.provider) else { return };
        let Some(webhook) = provider.call_ended(v, core.ids()) else { return };
        let target = Target {
            provider: webhook.provider,
            operation: "callback",
            account: Some(v.key.account.to_string()),
            number: Some(v.phone_number.clone()),
        };
        let fault = match magic::lookup(&v.phone_number) {
            Some(Magic::CallbackFails) => {
                Some(Action::Error { status: 500, code: None, message: "magic number".into() })
            }
            _ => inner.faults.check(&target, core.ids()),
        };
        let id = {
            let mut journal = inner.journal.lock();
            let delivery = Delivery {
                id: 0,
                queued_at: core.clock().now(),
                webhook: webhook.clone(),
                state: DeliveryState::Pending,
                attempts: Vec::new(),
            };
            let id = journal.push(&webhook.account, delivery);
            journal.update(id, |d| d.id = id);
            id
        };
        let ctx = Ctx { inner: inner.clone(), clock: core.clock().clone(), watchers: core.watchers() };
        ctx.changed();
        if let Some(why) = &webhook.withheld {
            return ctx.finish(id, None, &format!("not sent: {why}"), DeliveryState::NotSent);
        }
        tracing::info!(provider = webhook.provider, url = ?webhook.url, method = webhook.method, "callback queued");
        if let Err(why) = permitted(&inner.allowed, &webhook.url) {
            tracing::warn!(url = ?webhook.url, "a callback was refused by --callback-allow");
            return ctx.fail(id, None, &why);
        }
        let Ok(permit) = inner.in_flight.clone().try_acquire_owned() else {
            return ctx.fail(id, None, "dropped: too many callbacks in flight");
        };
        inner.runtime.spawn(async move {
            match fault {
                Some(Action::Error { status, .. }) => ctx.fail(id, Some(status), "injected fault: error status"),
                Some(Action::Reset) => ctx.fail(id, None, "injected fault: connection reset"),
                Some(Action::Drop { .. }) => ctx.fail(id, None, "injected fault: connection dropped"),
                Some(Action::Latency { min_ms, .. }) => {
                    tokio::time::sleep(Duration::from_millis(min_ms)).await;
                    ctx.deliver(id, &webhook).await;
                }
                None => ctx.deliver(id, &webhook).await,
            }
            drop(permit);
        });
    }
}

/// What a delivery in flight needs.
struct Ctx {
    inner: Arc<Inner>,
    clock: Arc<Clock>,
    watchers: broadcast::Sender<()>,
}

impl Ctx {
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

    async fn deliver(&self, id: u64, webhook: &Webhook) {
        let policy = &webhook.policy;
        for n in 0..=policy.retries {
            let at = self.clock.now();
            let started = Instant::now();
            let outcome = tokio::time::timeout(policy.total_timeout, attempt(webhook, &self.inner))
                .await
                .unwrap_or_else(|_| Outcome::TimedOut(format!("no answer within {:?} (total)", policy.total_timeout)));
            let on = policy.retry_on;
            let (status, error, again) = match outcome {
                Outcome::Status(s) => {
                    (Some(s), None, (s >= 500 && on.server_error) || ((400..500).contains(&s) && on.client_error))
                }
                Outcome::ConnectFailed(e) => (None, Some(e), on.connect),
                Outcome::TimedOut(e) => (None, Some(e), on.read_timeout),
                Outcome::Invalid(e) => (None, Some(e), false),
            };
            let retry = again && n < policy.retries;
            let duration_ms = started.elapsed().as_millis() as u64;
            tracing::info!(url = ?webhook.url, status, error, "callback attempt");
            self.update(id, |d| {
                d.attempts.push(Attempt { at, status, error, duration_ms });
                d.state = match status {
                    _ if retry => DeliveryState::Pending,
                    Some(s) if s < 300 => DeliveryState::Delivered,
                    _ => DeliveryState::Failed,
                };
            });
            if !retry {
                return;
            }
            tokio::time::sleep(RETRY_DELAYS[usize::from(n).min(RETRY_DELAYS.len() - 1)]).await;
        }
    }
}

/// What one attempt came to.
enum Outcome {
    /// The receiver answered with this status.
    Status(u16),
    /// The connection could not be opened.
    ConnectFailed(String),
    /// No answer in time.
    TimedOut(String),
    /// A URL the emulator cannot call; never retried.
    Invalid(String),
}

/// One attempt on a fresh connection: connect (and for `https://`, the TLS handshake) within
/// the policy's connect timeout, then the answer's head within its read timeout. Header names go
/// out Title-Case (`X-Twilio-Signature`), as the providers send them.
async fn attempt(webhook: &Webhook, inner: &Inner) -> Outcome {
    let policy = &webhook.policy;
    let uri: hyper::Uri = match webhook.url.parse() {
        Ok(uri) => uri,
        Err(e) => return Outcome::Invalid(format!("invalid URL: {e}")),
    };
    let (secure, Some(host)) = (uri.scheme_str(), uri.host()) else {
        return Outcome::Invalid(format!("not a URL the emulator can call: {:?}", webhook.url));
    };
    let secure = match secure {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return Outcome::Invalid(format!(
                "only http:// and https:// callback URLs can be called, not {:?}",
                webhook.url
            ));
        }
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let connect = async {
        let stream = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| format!("connect failed: {e}"))?;
        if !secure {
            return Ok(Stream::Plain(stream));
        }
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| format!("bad host: {e}"))?;
        let client = inner.tls_client()?;
        let tls = tokio_rustls::TlsConnector::from(client).connect(name, stream).await;
        tls.map(|s| Stream::Tls(Box::new(s))).map_err(|e| format!("TLS handshake failed: {e}"))
    };
    let stream = match tokio::time::timeout(policy.connect_timeout, connect).await {
        Err(_) => return Outcome::ConnectFailed(format!("connect timed out after {:?}", policy.connect_timeout)),
        Ok(Err(e)) => return Outcome::ConnectFailed(e),
        Ok(Ok(stream)) => stream,
    };
    match stream {
        Stream::Plain(s) => send(webhook, &uri, host, s).await,
        Stream::Tls(s) => send(webhook, &uri, host, *s).await,
    }
}

impl Inner {
    fn tls_client(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        self.tls.get_or_init(|| client_config(self.callback_ca.as_deref())).clone()
    }
}

/// A connection to a receiver.
enum Stream {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

/// Sends the webhook on an open connection and reads the status of the answer.
async fn send<S>(webhook: &Webhook, uri: &hyper::Uri, host: &str, stream: S) -> Outcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let policy = &webhook.policy;
    let handshake = hyper::client::conn::http1::Builder::new().title_case_headers(true).handshake(TokioIo::new(stream));
    let (mut sender, conn) = match handshake.await {
        Ok(parts) => parts,
        Err(e) => return Outcome::ConnectFailed(format!("connect failed: {e}")),
    };
    tokio::spawn(conn);
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let mut req = hyper::Request::builder().method(webhook.method).uri(target).header(hyper::header::HOST, authority);
    for (name, value) in &webhook.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let req = match req.body(Full::new(Bytes::from(webhook.body.clone()))) {
        Ok(req) => req,
        Err(e) => return Outcome::Invalid(e.to_string()),
    };
    match tokio::time::timeout(policy.read_timeout, sender.send_request(req)).await {
        Err(_) => Outcome::TimedOut(format!("no answer within {:?}", policy.read_timeout)),
        Ok(Err(e)) => Outcome::TimedOut(format!("request failed: {e}")),
        Ok(Ok(res)) => Outcome::Status(res.status().as_u16()),
    }
}

/// The TLS client webhooks use: the system's roots (none in the `FROM scratch` image) and the
/// certificates of `--callback-ca`, for test receivers with a CA of their own.
pub fn client_config(callback_ca: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = callback_ca {
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("--callback-ca {}: {e}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--callback-ca {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("--callback-ca {}: no certificate in it", path.display()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| format!("--callback-ca {}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An entry of `--callback-allow`: a host name, or an IP network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    Host(String),
    Net(std::net::IpAddr, u8),
}

impl Allowed {
    fn permits(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match (self, bare.parse::<std::net::IpAddr>()) {
            (Allowed::Host(name), _) => name.eq_ignore_ascii_case(bare),
            (Allowed::Net(net, bits), Ok(ip)) => in_network(ip, *net, *bits),
            (Allowed::Net(..), Err(_)) => false,
        }
    }
}

fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(ip), V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (V6(ip), V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Reads a `--callback-allow` value: `10.0.0.0/8`, `::1/128`, `127.0.0.1`, or a host name.
pub fn parse_allowed(s: &str) -> Result<Allowed, String> {
    let s = s.trim();
    if let Some((ip, bits)) = s.split_once('/') {
        let ip: std::net::IpAddr = ip.parse().map_err(|_| format!("{s:?} is not a CIDR such as 10.0.0.0/8"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits: u8 =
            bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| format!("{s:?}: the prefix is 0 to {max}"))?;
        return Ok(Allowed::Net(ip, bits));
    }
    match s.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(Allowed::Net(ip, if ip.is_ipv4() { 32 } else { 128 })),
        Err(_) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) => {
            Ok(Allowed::Host(s.to_ascii_lowercase()))
        }
        Err(_) => Err(format!("{s:?} is not a host name, an IP or a CIDR")),
    }
}

/// Whether `--callback-allow` lets a webhook go to `url` (everything, when it is empty).
fn permitted(allowed: &[Allowed], url: &str) -> Result<(), String> {
    if allowed.is_empty() {
        return Ok(());
    }
    let host = url.parse::<hyper::Uri>().ok().and_then(|u| u.host().map(str::to_owned)).unwrap_or_default();
    if allowed.iter().any(|a| a.permits(&host)) {
        Ok(())
    } else {
        Err(format!("refused: {host:?} is not allowed by --callback-allow"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_matches_names_and_networks() {
        let allowed: Vec<Allowed> =
            ["10.0.0.0/8", "::1", "receiver.test"].iter().map(|s| parse_allowed(s).unwrap()).collect();
        assert!(permitted(&allowed, "http://10.1.2.3:9000/cb").is_ok());
        assert!(permitted(&allowed, "http://[::1]:9000/cb").is_ok());
        assert!(permitted(&allowed, "http://RECEIVER.test/cb").is_ok());
        assert!(permitted(&allowed, "http://11.0.0.1/cb").is_err());
        assert!(permitted(&allowed, "http://169.254.169.254/latest").is_err());
        assert!(permitted(&[], "http://anywhere/").is_ok());
        assert!(parse_allowed("10.0.0.0/33").is_err());
        assert!(parse_allowed("bad host!").is_err());
    }
}
