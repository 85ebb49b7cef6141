//! The emulator's one HTTP client: a request on a fresh HTTP/1.1 connection over a stream the
//! caller opened (plain TCP, or TLS for `https://`). Webhooks (`delivery`) and the proxy's
//! passthrough (`proxy`) both send through it.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::{Builder, SendRequest};
use hyper::header::{HOST, HeaderMap, HeaderValue};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// An HTTP/1.1 connection over `stream`, its driver running on a task of its own. With
/// `title_case`, header names go out Title-Case (`X-Twilio-Signature`), as the providers send
/// their webhooks.
pub(crate) async fn open<S>(stream: S, title_case: bool) -> Result<SendRequest<Full<Bytes>>, hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = Builder::new().title_case_headers(title_case).handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// A request for `uri`'s path and query, with `Host` set to its authority unless `headers`
/// carry one.
pub(crate) fn request(
    method: Method,
    uri: &Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Result<hyper::Request<Full<Bytes>>, String> {
    if !headers.contains_key(HOST) {
        let authority = uri.authority().ok_or_else(|| format!("{uri} names no host"))?;
        headers.insert(HOST, HeaderValue::from_str(authority.as_str()).map_err(|e| e.to_string())?);
    }
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = hyper::Request::new(Full::new(body));
    *req.method_mut() = method;
    *req.uri_mut() = target.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    *req.headers_mut() = headers;
    Ok(req)
}
