//! The benchmark's reference: a bare hyper 1.x server that answers every request with a small
//! fixed JSON body, built the same way as callerid-mock's server (hyper-util's auto builder,
//! multi-thread tokio). `scripts/bench` runs it beside the emulator in the same run.
//!
//! Usage: `bare_hyper ADDR` (port 0 picks one); prints `listening on http://ADDR`.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

const BODY: &[u8] = br#"{"status":"ok","version":"0.1.0","uptime_s":0}"#;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("binds");
    println!("listening on http://{}", listener.local_addr().unwrap());
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_req| async {
                let mut res = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
                res.headers_mut().insert("content-type", "application/json".parse().unwrap());
                Ok::<_, Infallible>(res)
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
