//! The writer thread: appends the core's queued changes and syncs them (group commit), copies
//! the state into the log as checkpoints, and compacts the file behind a complete one.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::format::{self, HEADER_LEN};
use super::open::Opened;
use super::{CHECKPOINT_SLACK, CHECKPOINT_STEP, COMPACT_STEP, Durable, RETRY};
use crate::core::scan::Cursor;
use crate::core::store::Undo;
use crate::core::{Change, Core, Doorbell, Logged};

/// The running writer.
pub(crate) struct Persister {
    thread: JoinHandle<Result<(), String>>,
    stop: Arc<AtomicBool>,
    doorbell: Arc<Doorbell>,
    pub durable: watch::Receiver<Durable>,
}

impl Persister {
    /// Starts logging the core's changes into `opened` on a thread of its own.
    pub fn start(opened: Opened, core: Arc<Core>) -> Persister {
        let doorbell = core.start_log();
        let (durable_tx, durable) = watch::channel(Durable::default());
        let stop = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            core,
            file: opened.file,
            end: opened.end,
            live_start: opened.live_start,
            live_len: opened.live_len,
            next_checkpoint: opened.next_checkpoint,
            checkpoint: None,
            compaction: None,
            failure: None,
            durable: durable_tx,
            doorbell: doorbell.clone(),
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("state-writer".into())
            .spawn(move || writer.run())
            .expect("the state writer thread starts");
        Persister { thread, stop, doorbell, durable }
    }

    /// Writes what is left and stops; the cause if the file could not be written.
    pub fn stop(self) -> Result<(), String> {
        self.stop.store(true, Ordering::SeqCst);
        self.doorbell.ring();
        self.thread.join().unwrap_or_else(|_| Err("the state writer failed".into()))
    }
}

/// A batch of changes as lines, with where its checkpoint markers are.
struct Batch {
    bytes: Vec<u8>,
    last_lsn: u64,
    /// How to undo the changes, should the batch not be written.
    undo: Vec<Undo>,
    /// `(offset in bytes, checkpoint id, is_end)`: a begin's offset is where its line starts,
    /// an end's where its line ends.
    markers: Vec<(u64, u64, bool)>,
}

struct Checkpoint {
    id: u64,
    cursor: Cursor,
    copying: bool,
    begin_at: Option<u64>,
    end_at: Option<u64>,
}

struct Compaction {
    /// Where the live part starts (the checkpoint being moved to the front).
    src: u64,
    copied: u64,
}

struct Writer {
    core: Arc<Core>,
    file: File,
    end: u64,
    live_start: u64,
    live_len: u64,
    next_checkpoint: u64,
    checkpoint: Option<Checkpoint>,
    compaction: Option<Compaction>,
    failure: Option<Arc<str>>,
    durable: watch::Sender<Durable>,
    doorbell: Arc<Doorbell>,
    stop: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self) -> Result<(), String> {
        let mut final_tries = 0;
        loop {
            let stopping = self.stop.load(Ordering::SeqCst);
            let busy = self.checkpoint.is_some() || self.compaction.is_some();
            if !stopping && !busy {
                self.doorbell.wait(RETRY);
            } else if self.failure.is_some() {
                std::thread::sleep(RETRY);
            }
            let mut batch = batch(self.core.take_changes());
            if batch.bytes.is_empty() && self.failure.is_some() {
                // Nothing to write, yet the file has to be tried: a note of the clock tells
                // whether it can be written again.
                self.core.log_clock();
                batch = self::batch(self.core.take_changes());
            }
            let wrote = !batch.bytes.is_empty();
            if wrote && !self.append(batch) {
                if stopping {
                    final_tries += 1;
                    if final_tries > 2 {
                        return Err(self.failure.as_deref().unwrap_or("unknown").to_owned());
                    }
                }
                continue;
            }
            if stopping {
                if !wrote {
                    return Ok(());
                }
                continue;
            }
            self.step_checkpoint();
            self.step_compaction();
        }
    }

    /// Appends and syncs a batch; on failure undoes its changes (and every one since: none of
    /// them was answered yet), cuts off what reached the file, and says so once.
    fn append(&mut self, batch: Batch) -> bool {
        let at = self.end;
        // After a failure, what a failed write left past the end goes first: a shorter batch
        // written over it would leave whole lines of undone changes behind it.
        let cut = if self.failure.is_some() { self.file.set_len(at) } else { Ok(()) };
        let result = cut.and_then(|()| self.file.write_all_at(&batch.bytes, at)).and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.end += batch.bytes.len() as u64;
                for &(offset, id, is_end) in &batch.markers {
                    if let Some(cp) = self.checkpoint.as_mut().filter(|cp| cp.id == id) {
                        if is_end {
                            cp.end_at = Some(at + offset);
                        } else {
                            cp.begin_at = Some(at + offset);
                        }
                    }
                }
                if self.failure.take().is_some() {
                    self.core.set_log_failure(None);
                    tracing::info!("the state file is written again; writes are accepted");
                }
                // What waited for these changes is told before anyone is answered.
                self.core.synced_through(batch.last_lsn);
                self.durable.send_modify(|d| {
                    d.lsn = batch.last_lsn;
                    d.failure = None;
                });
                true
            }
            Err(e) => {
                let cause: Arc<str> = format!("{e}").into();
                if self.failure.is_none() {
                    tracing::error!(error = %cause, "the state file cannot be written: writes are refused and \
                        /_mock/health answers 503 until it can; retrying every second");
                }
                self.failure = Some(cause.clone());
                self.core.set_log_failure(Some(cause.clone()));
                // Best now; if the cut fails too, it is made before the next write.
                let _ = self.file.set_len(at);
                let head = self.core.roll_back(batch.undo);
                self.durable.send_modify(|d| {
                    d.lose(head);
                    d.failure = Some(cause);
                });
                self.checkpoint = None;
                self.compaction = None;
                false
            }
        }
    }

    /// Starts, continues or completes a checkpoint.
    fn step_checkpoint(&mut self) {
        let Some(cp) = self.checkpoint.as_mut() else {
            let log = self.end - self.live_start;
            if self.compaction.is_none() && log > 2 * self.live_len + CHECKPOINT_SLACK {
                let id = self.next_checkpoint;
                self.next_checkpoint += 1;
                self.core.begin_checkpoint(id);
                self.checkpoint =
                    Some(Checkpoint { id, cursor: Cursor::default(), copying: true, begin_at: None, end_at: None });
                self.doorbell.ring();
            }
            return;
        };
        if cp.copying {
            if !self.core.checkpoint_step(&mut cp.cursor, CHECKPOINT_STEP) {
                self.core.end_checkpoint(cp.id);
                cp.copying = false;
            }
            self.doorbell.ring();
            return;
        }
        if let (Some(begin), Some(end)) = (cp.begin_at, cp.end_at) {
            // Synced: the file can be replayed from here on.
            self.live_start = begin;
            self.live_len = end - begin;
            self.checkpoint = None;
            if begin - HEADER_LEN >= self.end - begin {
                self.compaction = Some(Compaction { src: begin, copied: 0 });
                self.doorbell.ring();
            }
        }
    }

    /// Moves the live part of the file over the dead part before it, a piece at a time, then
    /// truncates. Stops (harmlessly) if the live part grows past the room in front of it.
    fn step_compaction(&mut self) {
        let Some(c) = self.compaction.as_mut() else { return };
        let len = self.end - c.src;
        if len > c.src - HEADER_LEN {
            self.compaction = None;
            return;
        }
        let n = (len - c.copied).min(COMPACT_STEP);
        let mut buf = vec![0; n as usize];
        let copied = self
            .file
            .read_exact_at(&mut buf, c.src + c.copied)
            .and_then(|()| self.file.write_all_at(&buf, HEADER_LEN + c.copied));
        if let Err(e) = copied {
            tracing::warn!(error = %e, "compacting the state file failed; it stays as it is");
            self.compaction = None;
            return;
        }
        c.copied += n;
        if c.copied < len {
            self.doorbell.ring();
            return;
        }
        let done = self
            .file
            .sync_data()
            .and_then(|()| self.file.set_len(HEADER_LEN + len))
            .and_then(|()| self.file.sync_all());
        match done {
            Ok(()) => {
                tracing::debug!(from = self.end, to = HEADER_LEN + len, "state file compacted");
                self.end = HEADER_LEN + len;
                self.live_start = HEADER_LEN;
            }
            Err(e) => tracing::warn!(error = %e, "compacting the state file failed; it stays as it is"),
        }
        self.compaction = None;
    }
}

fn batch((changes, undo): (Vec<Logged>, Vec<Undo>)) -> Batch {
    let mut bytes = Vec::new();
    let mut markers = Vec::new();
    let mut last_lsn = 0;
    for logged in changes {
        let offset = bytes.len() as u64;
        bytes.extend_from_slice(&format::line(&logged.change, logged.rng, logged.seq));
        match logged.change {
            Change::CheckpointBegin { id, .. } => markers.push((offset, id, false)),
            Change::CheckpointEnd { id } => markers.push((bytes.len() as u64, id, true)),
            _ => {}
        }
        last_lsn = logged.lsn;
    }
    Batch { bytes, last_lsn, undo, markers }
}
