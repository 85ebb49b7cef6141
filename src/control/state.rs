//! `GET /_mock/state` and `PUT /_mock/state`: the whole state in the state file format.
//!
//! Both stream: the export is written a few hundred entries at a time as the state is walked
//! (each entry as it is when the walk reaches it), and the import is parsed as it arrives, so
//! neither holds a second copy of a large state in memory. An import is limited to
//! [`import_limit`] bytes (four times `--max-state-bytes`: any state the caps allow fits); one
//! that is not a state file, names an id twice or does not fit the caps changes nothing (400),
//! and an empty object is not a state (`POST /_mock/reset` wipes everything).

use std::convert::Infallible;
use std::io::Read;
use std::sync::Arc;

use http_body_util::{BodyExt, Channel};
use hyper::StatusCode;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use tokio::sync::mpsc;

use super::{ControlError, Result, error};
use crate::app::App;
use crate::core::Core;
use crate::core::scan::Cursor;
use crate::core::state_file::{ExportWriter, StateFile};
use crate::http::Response;

/// Entries serialized per lock hold.
const SCAN_CHUNK: usize = 256;
/// Bytes gathered before a piece of the export is sent.
const SEND_CHUNK: usize = 32 << 10;

/// The largest body `PUT /_mock/state` reads.
pub(crate) fn import_limit(app: &App) -> usize {
    (app.core().options().max_state_bytes * 4).max(1 << 20)
}

pub(super) fn export(app: &App) -> Response {
    stream_export(app.core().clone())
}

fn stream_export(core: Arc<Core>) -> Response {
    let (mut tx, body) = Channel::<Bytes, Infallible>::new(2);
    tokio::spawn(async move {
        // As every read: nothing the clock has passed is shown undone.
        core.tick();
        let mut writer = ExportWriter::default();
        let mut cursor = Cursor::default();
        let mut buf = Vec::with_capacity(SEND_CHUNK * 2);
        writer.begin(&mut buf, core.clock().now(), core.clock().is_frozen());
        loop {
            let more = core.scan(&mut cursor, SCAN_CHUNK, |item| writer.item(&mut buf, item));
            if !more {
                writer.finish(&mut buf);
            }
            if (buf.len() >= SEND_CHUNK || !more) && tx.send_data(Bytes::from(std::mem::take(&mut buf))).await.is_err()
            {
                return;
            }
            if !more {
                return;
            }
        }
    });
    let mut res = hyper::Response::new(crate::http::body(body));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Replaces all state with a body already read (the state file format).
pub(super) async fn import(app: &App, body: &Bytes) -> Result {
    let file: StateFile = serde_json::from_slice(body).map_err(not_a_state)?;
    replace(app, file).await
}

/// `PUT /_mock/state` with the body read as it arrives.
pub(crate) async fn import_streamed(app: &App, mut body: Incoming) -> Response {
    let limit = import_limit(app);
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let parse = tokio::task::spawn_blocking(move || {
        let reader = ChannelReader { rx, current: Bytes::new() };
        serde_json::from_reader::<_, StateFile>(std::io::BufReader::new(reader))
    });
    let mut total = 0usize;
    let mut too_large = false;
    // The whole body within --body-timeout, as every body: one that drips holds what was
    // parsed of it no longer than that.
    let deadline = tokio::time::Instant::now() + app.config().body_timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                tracing::info!("PUT /_mock/state: the state did not arrive within --body-timeout; nothing changed");
                crate::memory::give_back();
                return error(StatusCode::REQUEST_TIMEOUT, "the state did not arrive in time (--body-timeout)");
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                tracing::info!("PUT /_mock/state: the body ended before it was whole; nothing changed");
                crate::memory::give_back();
                return error(StatusCode::BAD_REQUEST, "the request body could not be read");
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        total += data.len();
        if total > limit {
            too_large = true;
            break;
        }
        if tx.send(data).await.is_err() {
            break; // the parser stopped early: it has an error to tell
        }
    }
    drop(tx);
    let parsed = parse.await.expect("the state parser does not panic");
    if too_large || parsed.is_err() {
        crate::memory::give_back();
    }
    if too_large {
        let text = format!("a state larger than {limit} bytes (four times --max-state-bytes) is not read");
        return error(StatusCode::PAYLOAD_TOO_LARGE, &text);
    }
    let result = match parsed {
        Ok(file) => replace(app, file).await,
        Err(e) => Err(not_a_state(e)),
    };
    result.unwrap_or_else(|e| error(e.status, &e.message))
}

async fn replace(app: &App, file: StateFile) -> Result {
    let core = app.core().clone();
    let loaded = tokio::task::spawn_blocking(move || core.import(file, true))
        .await
        .expect("an import does not panic")
        .map_err(|e| ControlError { status: StatusCode::BAD_REQUEST, message: format!("not loaded: {e}") })?;
    tracing::info!(entries = loaded, "state imported");
    Ok(stream_export(app.core().clone()))
}

fn not_a_state(e: serde_json::Error) -> ControlError {
    ControlError { status: StatusCode::BAD_REQUEST, message: format!("not a state file: {e}") }
}

/// The bytes of a body as they arrive, for a parser on a blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(next) => self.current = next,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
