//! HTTP/2 (cleartext, prior knowledge: what gRPC-style and some HTTP clients speak to a local
//! server) serves the same routes as HTTP/1.1, several streams on one connection.

mod common;

use common::{BASIC, TestServer, plivo_initiate_body, plivo_path};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[test]
fn http2_with_prior_knowledge_serves_providers_and_the_control_plane_on_one_connection() {
    let s = TestServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await.unwrap();
        tokio::spawn(conn);
        let request = |method: &str, path: &str, body: Vec<u8>| {
            let mut sender = sender.clone();
            let req = hyper::Request::builder()
                .method(method)
                .uri(format!("http://{}{path}", s.addr))
                .header("authorization", BASIC)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            async move {
                let res = sender.send_request(req).await.unwrap();
                let (parts, body) = res.into_parts();
                (
                    parts.version,
                    parts.status.as_u16(),
                    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap(),
                )
            }
        };
        // Two streams at once on the one connection.
        let (health, initiated) = tokio::join!(
            request("GET", "/_mock/health", Vec::new()),
            request(
                "POST",
                &plivo_path("VerifiedCallerId/"),
                plivo_initiate_body("+12025551234", serde_json::json!({}))
            ),
        );
        assert_eq!((health.0, health.1), (hyper::Version::HTTP_2, 200), "{}", health.2);
        assert!(health.2.contains(r#""status":"ok""#), "{}", health.2);
        assert_eq!(initiated.1, 200, "{}", initiated.2);
        assert!(initiated.2.contains("Verification code is sent to number +12025551234"), "{}", initiated.2);
        let codes = request("GET", "/_mock/codes?number=%2B12025551234", Vec::new()).await;
        assert!(codes.2.contains(r#""provider":"plivo""#), "the code was issued over HTTP/2: {}", codes.2);
    });
}
