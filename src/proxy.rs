//! Zero-touch routing: the main port is also an HTTP proxy, so that an application reaches the
//! emulator with `HTTPS_PROXY` and its production settings.
//!
//! - `CONNECT host:443` for a provider host (each provider lists its hosts): the emulator
//!   answers 200, terminates TLS in the tunnel with a certificate for that host signed by its
//!   own CA ([`crate::tls`]), and serves the tunnel's requests through the same router as plain
//!   requests.
//! - An absolute-form request (`GET http://api.twilio.com/…`, or `https://…` as some clients
//!   send through a plain proxy) for a provider host is routed as if it had come directly.
//! - Any other host is refused with 403 naming it and `--proxy-passthrough`; with that flag, a
//!   tunnel to it is relayed byte for byte (never intercepted), and an absolute-form request is
//!   forwarded. Nothing reaches the internet otherwise.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderMap;
use hyper::upgrade::Upgraded;
use hyper::{StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::client;
use crate::http::{self, BodyError, Response};

/// A tunnel's stream, decrypted.
pub(crate) type Tunnel = tokio_rustls::server::TlsStream<TokioIo<Upgraded>>;

/// How the server serves a tunnel's decrypted stream (as a connection of its own, holding
/// `slot`): handed in by the server, so that the proxy never names it.
pub(crate) type Serve =
    Box<dyn FnOnce(Tunnel, OwnedSemaphorePermit) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// How long a passthrough may take to connect to the host it relays to.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The host a request names in its target (absolute-form or authority-form), lowercase,
/// without port or IPv6 brackets.
pub(crate) fn target_host(uri: &Uri) -> Option<String> {
    let host = uri.authority()?.host();
    Some(host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
}

/// Whether a request's target is this server itself (a local name on its port) rather than a
/// host it stands in for.
pub(crate) fn is_local(app: &App, uri: &Uri, host: &str) -> bool {
    let local_name = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip == app.config().bind.ip())
        || app.config().allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
    local_name && port == app.addr().port()
}

/// Answers `CONNECT`: a TLS tunnel for a provider host (served by `serve`), a relay with
/// `--proxy-passthrough`, or 403. Either tunnel holds `slot`, a connection slot of its own.
pub(crate) fn connect(
    app: &App,
    req: hyper::Request<Incoming>,
    slot: Option<OwnedSemaphorePermit>,
    serve: Serve,
) -> Response {
    let Some(host) = target_host(req.uri()) else {
        return error(StatusCode::BAD_REQUEST, "CONNECT needs a host:port target".to_owned());
    };
    let serves = app.providers().serves_host(&host);
    if !serves && !app.config().proxy_passthrough {
        return refuse(&host);
    }
    let Some(slot) = slot else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "too many connections: --max-connections reached".into());
    };
    if serves {
        let tls = match app.tls() {
            Ok(tls) => tls.config.clone(),
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, format!("no CA for the tunnel: {e}")),
        };
        tokio::spawn(tunnel(req, host, tls, app.config().header_timeout, slot, serve));
        return established();
    }
    let Some(authority) = req.uri().authority().map(|a| a.to_string()) else {
        return error(StatusCode::BAD_REQUEST, "CONNECT needs a host:port target".to_owned());
    };
    tokio::spawn(relay(req, authority, app.config().idle_timeout, slot));
    established()
}

/// A tunnel's answer exactly as proxies send it, `HTTP/1.1 200 Connection established` and no
/// header: twilio-php skips a proxy's answer only when it reads so.
fn established() -> Response {
    let mut res = http::empty(StatusCode::OK, None);
    res.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(b"Connection established"));
    res
}

/// 403 for a host no provider serves.
pub(crate) fn refuse(host: &str) -> Response {
    tracing::debug!(host, "proxy: refused a host no provider serves");
    error(
        StatusCode::FORBIDDEN,
        format!(
            "callerid-mock answers only for the providers' hosts, and {host} is not one of them; \
             start it with --proxy-passthrough to relay other hosts"
        ),
    )
}

fn error(status: StatusCode, message: String) -> Response {
    http::json(status, &json!({"error": message, "status": status.as_u16()}))
}

/// The tunnel of a provider host: TLS with a minted certificate (within `handshake_timeout`),
/// then HTTP as on the main port.
async fn tunnel(
    req: hyper::Request<Incoming>,
    host: String,
    tls: Arc<rustls::ServerConfig>,
    handshake_timeout: Duration,
    slot: OwnedSemaphorePermit,
    serve: Serve,
) {
    let upgraded = match hyper::upgrade::on(req).await {
        Ok(upgraded) => upgraded,
        Err(e) => return tracing::debug!(host, error = %e, "proxy: the CONNECT was not upgraded"),
    };
    let handshake = TlsAcceptor::from(tls).accept(TokioIo::new(upgraded));
    match tokio::time::timeout(handshake_timeout, handshake).await {
        Ok(Ok(stream)) => serve(stream, slot).await,
        Ok(Err(e)) => {
            tracing::debug!(host, error = %e, "proxy: TLS handshake failed in a tunnel");
            crate::tls::handshake_failed("proxy", &e)
        }
        Err(_) => tracing::debug!(host, "proxy: no TLS handshake in a tunnel within --header-timeout"),
    }
}

/// `--proxy-passthrough`: the tunnel relayed to the host it names, byte for byte, holding its
/// connection slot; closed when nothing has passed either way for `idle` (`--idle-timeout`).
async fn relay(req: hyper::Request<Incoming>, authority: String, idle: Duration, _slot: OwnedSemaphorePermit) {
    let upgraded = match hyper::upgrade::on(req).await {
        Ok(upgraded) => upgraded,
        Err(e) => return tracing::debug!(authority, error = %e, "proxy: the CONNECT was not upgraded"),
    };
    let remote = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&authority)).await {
        Ok(Ok(remote)) => remote,
        Ok(Err(e)) => return tracing::info!(authority, error = %e, "proxy passthrough: cannot connect"),
        Err(_) => return tracing::info!(authority, "proxy passthrough: connecting timed out"),
    };
    let (mut client_in, mut client_out) = tokio::io::split(TokioIo::new(upgraded));
    let (mut remote_in, mut remote_out) = remote.into_split();
    let (mut up, mut down) = (vec![0u8; 16 << 10], vec![0u8; 16 << 10]);
    let (mut client_open, mut remote_open) = (true, true);
    while client_open || remote_open {
        let moved = tokio::time::timeout(idle, async {
            tokio::select! {
                read = client_in.read(&mut up), if client_open => match read {
                    Ok(0) | Err(_) => {
                        client_open = false;
                        remote_out.shutdown().await
                    }
                    Ok(n) => remote_out.write_all(&up[..n]).await,
                },
                read = remote_in.read(&mut down), if remote_open => match read {
                    Ok(0) | Err(_) => {
                        remote_open = false;
                        client_out.shutdown().await
                    }
                    Ok(n) => client_out.write_all(&down[..n]).await,
                },
            }
        })
        .await;
        match moved {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => return tracing::debug!(authority, "proxy passthrough: a tunnel idle for --idle-timeout closed"),
        }
    }
}

/// `--proxy-passthrough`: an absolute-form request for another host, forwarded to it over
/// plain HTTP (an `https://` target is refused: that is what CONNECT is for).
pub(crate) async fn forward(parts: hyper::http::request::Parts, body: Bytes) -> Response {
    let Some(authority) = parts.uri.authority().cloned() else { return refuse("?") };
    if parts.uri.scheme_str() != Some("http") {
        return error(StatusCode::BAD_REQUEST, format!("{} is forwarded only as CONNECT", parts.uri));
    }
    let port = authority.port_u16().unwrap_or(80);
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((authority.host(), port))).await {
        Ok(Ok(stream)) => stream,
        _ => return error(StatusCode::BAD_GATEWAY, format!("cannot connect to {authority}")),
    };
    let Ok(mut sender) = client::open(stream, false).await else {
        return error(StatusCode::BAD_GATEWAY, format!("cannot talk HTTP to {authority}"));
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "proxy-connection" | "proxy-authorization") {
            headers.append(name, value.clone());
        }
    }
    let req = match client::request(parts.method, &parts.uri, headers, body) {
        Ok(req) => req,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let res = match sender.send_request(req).await {
        Ok(res) => res,
        Err(e) => return error(StatusCode::BAD_GATEWAY, format!("{authority}: {e}")),
    };
    // Streamed as it arrives, never held whole: a break upstream breaks the answer off (its
    // client sees it short), never ends it as if it were whole.
    let (parts, body) = res.into_parts();
    let body = body.map_err(move |e| -> BodyError {
        tracing::info!(%authority, error = %e, "proxy passthrough: an answer broke off upstream; its client gets it cut");
        Box::new(e)
    });
    hyper::Response::from_parts(parts, body.boxed())
}
