//! The web inbox at `GET /_mock/`: one HTML page, embedded, with no external assets, kept live
//! by Server-Sent Events from `GET /_mock/events` (an event on every change of the state, the
//! clock or the webhook journal; the page then reads the JSON routes again).

use std::convert::Infallible;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::body::{Body, Frame};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::Result;
use crate::app::App;
use crate::http::{self, Response};

const PAGE: &str = include_str!("inbox.html");

/// How often an idle event stream sends a comment, so a gone client is noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn page() -> Response {
    let mut res = http::bytes(StatusCode::OK, "text/html; charset=utf-8", PAGE);
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `text/event-stream`: `event: change` at once and after every change, bursts coalesced. It
/// holds one of the `--max-waiters` slots while the client stays (freed the moment it goes);
/// past them, a 503.
pub(super) fn events(app: &App) -> Result {
    let slot = super::waiter_slot(app)?;
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let mut changes = app.core().subscribe();
    let mut shutdown = app.shutdown();
    tokio::spawn(async move {
        const CHANGE: &[u8] = b"event: change\ndata: {}\n\n";
        if tx.send(Bytes::from_static(b"retry: 1000\n\n")).await.is_err()
            || tx.send(Bytes::from_static(CHANGE)).await.is_err()
        {
            return;
        }
        loop {
            let message: &'static [u8] = tokio::select! {
                received = changes.recv() => match received {
                    Ok(()) | Err(RecvError::Lagged(_)) => {
                        while changes.try_recv().is_ok() {}
                        CHANGE
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(KEEP_ALIVE) => b": keep-alive\n\n",
                _ = shutdown.stopped() => return,
                _ = tx.closed() => return,
            };
            if tx.send(Bytes::from_static(message)).await.is_err() {
                return;
            }
        }
    });
    let mut res = hyper::Response::new(http::body(Events { rx, _slot: slot }));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The body of an event stream: what the task sends, for as long as the client reads. Dropped
/// (the client went away), it frees its slot and tells the task.
struct Events {
    rx: mpsc::Receiver<Bytes>,
    _slot: OwnedSemaphorePermit,
}

impl Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}
