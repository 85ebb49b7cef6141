//! Opening a state file: refusing what is not one, and replaying it into the core from its last
//! complete checkpoint.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use super::format::{self, HEADER_LEN};
use crate::core::time::Timestamp;
use crate::core::{Change, Core};

/// A state file opened and read back into the core, ready for its writer.
pub(crate) struct Opened {
    pub(super) file: File,
    /// Where the next line goes.
    pub(super) end: u64,
    /// Where the live part (the last complete checkpoint, and every change since) starts.
    pub(super) live_start: u64,
    pub(super) live_len: u64,
    pub(super) next_checkpoint: u64,
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
    let mut replayed = 0usize;
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
        if scan.skipped.contains(&at) {
            at += n as u64;
            continue;
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
        replayed += 1;
    }
    core.restore_positions(max_rng, max_seq);
    if let Some(saved) = clock {
        // A frozen clock reads what it read; a running one never reads less than it did.
        if frozen || saved > core.clock().now() {
            core.clock().reset_to(saved);
        }
    }
    let mut end = scan.good_end;
    if end < len {
        // An unfinished last line (cut mid-line, or a tail of zeros) was never answered. It is
        // not cut off: it is ended and marked as skipped, and goes at the next compaction.
        let mut marker = b"\n".to_vec();
        marker.extend(format::skip_line(len - end + 1));
        file.write_all_at(&marker, len)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write the state file {shown}: {e}"))?;
        tracing::warn!(
            at = end,
            bytes = len - end,
            "the state file ends with an unfinished line (a write cut short by a crash or a power loss, never \
            answered): it is skipped, and kept in the file until the next compaction"
        );
        end = len + marker.len() as u64;
    }
    Ok(Opened {
        file,
        end,
        live_start: scan.base,
        live_len: scan.base_len,
        next_checkpoint: scan.max_id + 1,
        fresh: replayed == 0,
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
    /// Lines a skip marker names, and the markers: replay passes over them.
    skipped: HashSet<u64>,
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
    let mut skipped = HashSet::new();
    let mut previous = None;
    let (mut offset, mut good_end, mut max_id) = (HEADER_LEN, HEADER_LEN, 0);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)? as u64;
        if n == 0 || !line.ends_with(b"\n") {
            break;
        }
        match format::kind(&line) {
            // A skip marker stands for the line just before it, whatever that line is.
            Some(k) if k.t == "skip" => match (k.bytes, previous) {
                (Some(bytes), Some(at)) if offset - at == bytes => {
                    // Not even a checkpoint marker counts there: it was never synced whole.
                    bad.retain(|&b| b != at);
                    begins.retain(|&(begin, _)| begin != at);
                    ends.retain(|_, end| *end != offset);
                    skipped.extend([at, offset]);
                }
                _ => bad.push(offset),
            },
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
        previous = Some(offset);
        offset += n;
        good_end = offset;
    }
    // The last checkpoint whose end follows its start.
    let (base, base_len) = begins
        .iter()
        .rev()
        .find_map(|&(at, id)| ends.get(&id).filter(|&&end| end > at).map(|&end| (at, end - at)))
        .unwrap_or((HEADER_LEN, 0));
    Ok(Scan { base, base_len, good_end, bad, skipped, max_id })
}
