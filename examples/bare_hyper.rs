//! The benchmark's reference: a bare hyper 1.x server built the same way as callerid-mock's
//! server (hyper-util's auto builder, multi-thread tokio) that does no work: it reads the
//! request body whole and answers `?size=N` bytes of JSON (default 46), so that each
//! measurement compares like with like: the same request, an answer of the same size.
//! `scripts/bench` runs it beside the emulator in the same run.
//!
//! Usage: `bare_hyper ADDR` (port 0 picks one); prints `listening on http://ADDR`.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// An answer of `size` bytes: a JSON string padded to the length.
fn body(size: usize) -> Bytes {
    let mut out = Vec::with_capacity(size.max(4));
    out.extend_from_slice(b"{\"p\":\"");
    out.resize(size.saturating_sub(2).max(6), b'x');
    out.extend_from_slice(b"\"}");
    Bytes::from(out)
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("binds");
    println!("listening on http://{}", listener.local_addr().unwrap());
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                let size = req
                    .uri()
                    .query()
                    .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("size=")))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(46);
                let _ = req.into_body().collect().await;
                let mut res = hyper::Response::new(Full::new(body(size)));
                res.headers_mut().insert("content-type", "application/json".parse().unwrap());
                Ok::<_, Infallible>(res)
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
