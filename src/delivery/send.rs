//! One delivery attempt: connect (TLS for `https://`), send the webhook, read the answer's status.

use std::sync::Arc;

use hyper::Method;
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

use http_body_util::BodyExt;

use super::{Inner, MAX_DOCUMENT_BYTES, Webhook};
use crate::client;

/// What one attempt came to.
pub(super) enum Outcome {
    /// The receiver answered with this status (and this body, when it was to be read).
    Answered(u16, Bytes),
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
pub(super) async fn attempt(webhook: &Webhook, inner: &Inner, read_body: bool) -> Outcome {
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
        Stream::Plain(s) => send(webhook, &uri, s, read_body).await,
        Stream::Tls(s) => send(webhook, &uri, *s, read_body).await,
    }
}

impl Inner {
    pub(super) fn tls_client(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        self.tls.get_or_init(|| client_config(self.callback_ca.as_deref())).clone()
    }
}

/// A connection to a receiver.
enum Stream {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

/// Sends the webhook on an open connection and reads the status of the answer (and with
/// `read_body`, its body, up to [`MAX_DOCUMENT_BYTES`]).
async fn send<S>(webhook: &Webhook, uri: &hyper::Uri, stream: S, read_body: bool) -> Outcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let policy = &webhook.policy;
    let mut sender = match client::open(stream, true).await {
        Ok(sender) => sender,
        Err(e) => return Outcome::ConnectFailed(format!("connect failed: {e}")),
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &webhook.headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) else {
            return Outcome::Invalid(format!("not a header: {name}: {value}"));
        };
        headers.append(name, value);
    }
    let Ok(method) = Method::from_bytes(webhook.method.as_bytes()) else {
        return Outcome::Invalid(format!("not a method: {}", webhook.method));
    };
    let req = match client::request(method, uri, headers, Bytes::from(webhook.body.clone())) {
        Ok(req) => req,
        Err(e) => return Outcome::Invalid(e),
    };
    match tokio::time::timeout(policy.read_timeout, sender.send_request(req)).await {
        Err(_) => Outcome::TimedOut(format!("no answer within {:?}", policy.read_timeout)),
        Ok(Err(e)) => Outcome::TimedOut(format!("request failed: {e}")),
        Ok(Ok(res)) => {
            let status = res.status().as_u16();
            if !read_body || status >= 300 {
                return Outcome::Answered(status, Bytes::new());
            }
            let body = http_body_util::Limited::new(res.into_body(), MAX_DOCUMENT_BYTES);
            match tokio::time::timeout(policy.read_timeout, body.collect()).await {
                Ok(Ok(body)) => Outcome::Answered(status, body.to_bytes()),
                Ok(Err(e)) => Outcome::Invalid(format!("the answer's body could not be read: {e}")),
                Err(_) => {
                    Outcome::TimedOut(format!("the answer's body did not arrive within {:?}", policy.read_timeout))
                }
            }
        }
    }
}

/// The TLS client webhooks use: the system's roots (none in the `FROM scratch` image) and the
/// certificates of `--callback-ca`, for test receivers with a CA of their own.
fn client_config(callback_ca: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
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
