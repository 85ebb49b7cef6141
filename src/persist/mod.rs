//! `--state FILE`: no acknowledged write is ever lost.
//!
//! Every change the core makes is queued under its lock in the order it happened; a writer
//! thread appends the queued changes to the file as lines and syncs them (`fdatasync`), and a
//! request that changed something is answered only once its changes are synced. Requests that
//! arrive while one sync runs share the next one (group commit), so durability costs one sync
//! per batch, not per request.
//!
//! The file is only ever written in place: no temporary file, no rename. That is what makes a
//! bind-mounted single file (`docker run -v $PWD/state:/state`) and a symlink work, and leaves
//! nothing behind. It stays small by checkpoints: the writer copies the state into the log a few
//! hundred entries at a time while requests go on (changes made meanwhile follow in the log, and
//! replaying them in order fixes up anything copied before it changed), and once a checkpoint is
//! complete and synced the file is compacted by copying it over the dead part before it and
//! truncating. At every instant the file holds a complete checkpoint followed by every change
//! since, so a crash (kill -9, a full disk) at any point loses nothing acknowledged; a last line
//! cut short by a crash was never acknowledged and is dropped at the next start.
//!
//! When the file cannot be written, writes are refused (each provider's 503-like error),
//! `/_mock/health` answers 503 naming the cause, the log says so once, and the batch is retried
//! every second until it is written; if it still cannot be written at shutdown, the process
//! exits non-zero.

mod format;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::core::changes::Cursor;
use crate::core::time::Timestamp;
use crate::core::{Change, Core, Doorbell, Logged};
use format::HEADER_LEN;

/// A checkpoint starts once the log since the last one is this much larger than it.
const CHECKPOINT_SLACK: u64 = 1 << 20;
/// Entries a checkpoint copies per lock hold.
const CHECKPOINT_STEP: usize = 256;
/// Bytes compaction copies between two batches of changes.
const COMPACT_STEP: u64 = 1 << 20;
/// How long the writer waits before retrying a failed write.
const RETRY: Duration = Duration::from_secs(1);

/// How far the file is written: every change up to `lsn` is synced. While it cannot be
/// written, `failure` says why.
#[derive(Clone, Debug, Default)]
pub(crate) struct Durable {
    pub lsn: u64,
    pub failure: Option<Arc<str>>,
}

/// A state file opened and read back into the core, ready for its writer.
pub(crate) struct Opened {
    file: File,
    end: u64,
    live_start: u64,
    live_len: u64,
    next_checkpoint: u64,
    /// The file was new or empty: fixtures may seed it.
    pub fresh: bool,
}

/// Opens (or creates, mode 0600) `path`, refusing anything that is not a state file, and
/// replays it into `core`: from the last complete checkpoint, every change in order.
pub(crate) fn open(path: &Path, core: &Core, providers: &[&'static str], frozen: bool) -> Result<Opened, String> {
    let shown = path.display();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot open the state file {shown} for writing: {e}{}", hint(path, &e)))?;
    file.try_lock().map_err(|_| format!("the state file {shown} is in use by another callerid-mock"))?;
    let len = file.metadata().map_err(|e| format!("cannot read the state file {shown}: {e}"))?.len();
    if len == 0 {
        file.write_all_at(&format::header(), 0)
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write the state file {shown}: {e}"))?;
        return Ok(Opened {
            file,
            end: HEADER_LEN,
            live_start: HEADER_LEN,
            live_len: 0,
            next_checkpoint: 1,
            fresh: true,
        });
    }
    let mut head = vec![0; len.min(HEADER_LEN) as usize];
    file.read_exact_at(&mut head, 0).map_err(|e| format!("cannot read the state file {shown}: {e}"))?;
    format::check_header(&head)
        .map_err(|why| format!("{shown} is not a callerid-mock state file ({why}); refusing to overwrite it"))?;

    let scan = scan(&mut file).map_err(|e| format!("cannot read the state file {shown}: {e}"))?;
    if let Some(bad) = scan.bad_after(scan.base) {
        return Err(format!("the state file {shown} is damaged at byte {bad}: a line there is not a change"));
    }
    let mut max_rng = 0u128;
    let mut max_seq = 0u64;
    let mut clock: Option<Timestamp> = None;
    file.seek(SeekFrom::Start(scan.base)).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, (&file).take(scan.good_end - scan.base));
    let mut line = Vec::new();
    let mut at = scan.base;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        let (change, rng, seq) = format::parse(&line, providers)
            .map_err(|why| format!("the state file {shown} is damaged at byte {at}: {why}"))?;
        at += n as u64;
        max_rng = max_rng.max(rng);
        max_seq = max_seq.max(seq);
        match &change {
            Change::Clock { now, .. } | Change::CheckpointBegin { now, .. } => clock = Some(*now),
            _ => {}
        }
        core.replay(change);
    }
    core.restore_positions(max_rng, max_seq);
    if let Some(saved) = clock {
        // A frozen clock reads what it read; a running one never reads less than it did.
        if frozen || saved > core.clock().now() {
            core.clock().reset_to(saved);
        }
    }
    if scan.good_end < len {
        tracing::info!(bytes = len - scan.good_end, "dropped the unfinished last line of the state file");
        file.set_len(scan.good_end)
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write the state file {shown}: {e}"))?;
    }
    Ok(Opened {
        file,
        end: scan.good_end,
        live_start: scan.base,
        live_len: scan.base_len,
        next_checkpoint: scan.max_id + 1,
        fresh: scan.good_end == HEADER_LEN,
    })
}

/// What to do about the usual reasons a state file cannot be opened.
fn hint(path: &Path, e: &std::io::Error) -> String {
    if path.is_dir() {
        return " (it is a directory: `docker run -v` makes one when the file does not exist on the host; \
            create the file first, for example `touch state.json`)"
            .into();
    }
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:").map(|v| v.split_whitespace().next().unwrap_or("?").to_owned()))
            })
            .unwrap_or_else(|| "?".into());
        return format!(
            " (this process runs as uid {uid}: give it write access, for example `chmod a+rw` the file on the host, \
            or run the container with `--user` matching the file's owner)"
        );
    }
    String::new()
}

/// Where things are in a file.
struct Scan {
    /// Where replay starts: the last complete checkpoint, or just after the header.
    base: u64,
    /// That checkpoint's length up to its end marker.
    base_len: u64,
    /// The end of the last whole line.
    good_end: u64,
    /// Lines that are not changes (before `base`, they are what compaction left mid-copy).
    bad: Vec<u64>,
    max_id: u64,
}

impl Scan {
    fn bad_after(&self, offset: u64) -> Option<u64> {
        self.bad.iter().copied().find(|&b| b >= offset)
    }
}

fn scan(file: &mut File) -> std::io::Result<Scan> {
    file.seek(SeekFrom::Start(HEADER_LEN))?;
    let mut reader = BufReader::with_capacity(1 << 20, &*file);
    let mut begins: Vec<(u64, u64)> = Vec::new();
    let mut ends: HashMap<u64, u64> = HashMap::new();
    let mut bad = Vec::new();
    let (mut offset, mut good_end, mut max_id) = (HEADER_LEN, HEADER_LEN, 0);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)? as u64;
        if n == 0 || !line.ends_with(b"\n") {
            break;
        }
        match format::kind(&line) {
            Some(k) => {
                let id = k.id.as_ref().and_then(serde_json::Value::as_u64);
                match (k.t.as_str(), id) {
                    ("begin", Some(id)) => begins.push((offset, id)),
                    ("end", Some(id)) => {
                        ends.insert(id, offset + n);
                    }
                    _ => {}
                }
                max_id = max_id.max(id.unwrap_or(0));
            }
            None => bad.push(offset),
        }
        offset += n;
        good_end = offset;
    }
    // The last checkpoint whose end follows its start.
    let (base, base_len) = begins
        .iter()
        .rev()
        .find_map(|&(at, id)| ends.get(&id).filter(|&&end| end > at).map(|&end| (at, end - at)))
        .unwrap_or((HEADER_LEN, 0));
    Ok(Scan { base, base_len, good_end, bad, max_id })
}

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
            retry: None,
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
    retry: Option<Batch>,
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
            let batch = match self.retry.take() {
                Some(batch) => batch,
                None => batch(self.core.take_changes()),
            };
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

    /// Appends and syncs a batch; on failure keeps it for the retry and says so once.
    fn append(&mut self, batch: Batch) -> bool {
        let at = self.end;
        let result = self.file.write_all_at(&batch.bytes, at).and_then(|()| self.file.sync_data());
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
                self.durable.send_replace(Durable { lsn: batch.last_lsn, failure: None });
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
                let lsn = self.durable.borrow().lsn;
                self.durable.send_replace(Durable { lsn, failure: Some(cause) });
                self.checkpoint = None;
                self.compaction = None;
                self.retry = Some(batch);
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

fn batch(changes: Vec<Logged>) -> Batch {
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
    Batch { bytes, last_lsn, markers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::Clock;
    use crate::core::ids::Ids;
    use crate::core::store::{AccountKey, Attributes, CallerId};
    use crate::core::{CallerLookup, EndedSink, Options, ProviderFacts};

    struct Facts;

    impl ProviderFacts for Facts {
        fn names(&self) -> Vec<&'static str> {
            vec!["plivo"]
        }

        fn caller_id_id(&self, _: &'static str, ids: &Ids) -> String {
            ids.uuid_v4()
        }
    }

    struct Nowhere;

    impl EndedSink for Nowhere {
        fn ended(&self, _: &Core, _: crate::core::Ended) {}
    }

    fn core() -> Arc<Core> {
        let clock = Arc::new(Clock::new(Some(Timestamp::from_nanos(0)), true));
        Core::new(clock, Ids::new(Some(1)), Arc::new(Facts), Arc::new(Nowhere), Options::default())
    }

    fn caller(seq: u64, number: &str) -> Change {
        let c = CallerId {
            seq,
            id: format!("c{seq}"),
            phone_number: number.into(),
            country: "US".into(),
            label: String::new(),
            attributes: Attributes::default(),
            created_at: Timestamp::from_nanos(0),
            updated_at: Timestamp::from_nanos(0),
        };
        Change::CallerId { key: AccountKey::new("plivo", "MA1"), caller: c }
    }

    fn lines(changes: &[Change]) -> Vec<u8> {
        changes.iter().flat_map(|c| format::line(c, 0, 9)).collect()
    }

    fn numbers(core: &Core) -> Vec<String> {
        let key = AccountKey::new("plivo", "MA1");
        ["+12025550001", "+12025550002", "+12025550003"]
            .into_iter()
            .filter(|n| core.caller_id(&key, CallerLookup::Number(n)).is_some())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn replay_starts_at_the_last_complete_checkpoint_whatever_lies_before_it() {
        let now = Timestamp::from_nanos(0);
        let mut file = format::header();
        // An older checkpoint that still has the first number...
        file.extend(lines(&[Change::CheckpointBegin { id: 1, now, frozen: true }, caller(1, "+12025550001")]));
        file.extend(lines(&[Change::CheckpointEnd { id: 1 }]));
        // ...what a compaction cut short leaves: half a line run into older bytes...
        file.extend_from_slice(b"{\"t\":\"caller\",\"provider\":\"pli");
        file.extend(lines(&[caller(1, "+12025550001")]));
        // ...then the last complete checkpoint (the first number was deleted before it), a change
        // after it, a checkpoint that never completed, and a last line a crash cut short.
        file.extend(lines(&[
            Change::CheckpointBegin { id: 2, now, frozen: true },
            caller(2, "+12025550002"),
            Change::CheckpointEnd { id: 2 },
            caller(3, "+12025550003"),
            Change::CheckpointBegin { id: 3, now, frozen: true },
        ]));
        let whole = file.len() as u64;
        file.extend_from_slice(b"{\"t\":\"caller-\",\"prov");

        let dir = std::env::temp_dir().join(format!("callerid-mock-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        std::fs::write(&path, &file).unwrap();
        let core = core();
        let opened = open(&path, &core, &["plivo"], true).unwrap();
        assert_eq!(numbers(&core), ["+12025550002", "+12025550003"]);
        assert_eq!(opened.next_checkpoint, 4);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole, "the cut-short last line is dropped");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_line_that_is_not_a_change_after_the_base_is_damage() {
        let mut file = format::header();
        file.extend(lines(&[caller(1, "+12025550001")]));
        file.extend_from_slice(b"not a change\n");
        file.extend(lines(&[caller(2, "+12025550002")]));
        let dir = std::env::temp_dir().join(format!("callerid-mock-damage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        std::fs::write(&path, &file).unwrap();
        let err = open(&path, &core(), &["plivo"], true).err().unwrap();
        assert!(err.contains("damaged at byte"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
