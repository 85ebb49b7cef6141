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
//! cut short by a crash (or a tail of zeros after a power loss) was never acknowledged: at the
//! next start it is ended and marked as skipped (`{"t":"skip"}`), not cut off, and goes with the
//! next compaction.
//!
//! When a batch cannot be written, its changes and every one made since are undone (the store
//! noted how: [`crate::core::store::Undo`]) before any of them is answered, and what they would
//! have told the world (webhooks, woken long polls) was held for the sync and is dropped: a
//! write refused leaves no trace. Then writes are refused (each provider's 503-like error),
//! timer events wait, `/_mock/health` answers 503 naming the cause, the log says so once, and
//! the file is tried every second until it can be written; if it still cannot be at shutdown,
//! the process exits non-zero.

mod format;
mod open;
mod writer;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use open::open;
pub(crate) use writer::Persister;

/// A checkpoint starts once the log since the last one is this much larger than it.
const CHECKPOINT_SLACK: u64 = 1 << 20;
/// Entries a checkpoint copies per lock hold.
const CHECKPOINT_STEP: usize = 256;
/// Bytes compaction copies between two batches of changes.
const COMPACT_STEP: u64 = 1 << 20;
/// How long the writer waits before retrying a failed write.
const RETRY: Duration = Duration::from_secs(1);

/// Undone ranges [`Durable`] remembers; a change older than them is taken as undone.
const LOST_RANGES: usize = 64;

/// How far the file is written: every change up to `lsn` is synced, except those in `lost`
/// (undone when their batch could not be written). While it cannot be written, `failure` says
/// why.
#[derive(Clone, Debug, Default)]
pub(crate) struct Durable {
    pub lsn: u64,
    pub failure: Option<Arc<str>>,
    /// The most recent ranges of changes undone, `(after, through)`, oldest first.
    lost: std::collections::VecDeque<(u64, u64)>,
    /// Every change through this one that is older than `lost` counts as undone.
    forgotten: u64,
}

impl Durable {
    /// Every change after `lsn` through `head` was undone.
    pub(super) fn lose(&mut self, head: u64) {
        // One failure after another, with nothing written between: one range.
        if let Some(last) = self.lost.back_mut().filter(|(after, _)| *after == self.lsn) {
            last.1 = head;
            return;
        }
        if self.lost.len() == LOST_RANGES {
            let (_, through) = self.lost.pop_front().expect("full");
            self.forgotten = through;
        }
        self.lost.push_back((self.lsn, head));
    }

    /// Whether the change `lsn` is in the file (false while it is not yet known).
    pub fn kept(&self, lsn: u64) -> bool {
        lsn <= self.lsn && !self.undone(lsn)
    }

    /// Whether the change `lsn` was undone (or may have been: it is older than the ranges kept);
    /// 0, no change at all, never was.
    pub fn undone(&self, lsn: u64) -> bool {
        lsn > 0 && (lsn <= self.forgotten || self.lost.iter().any(|&(after, through)| after < lsn && lsn <= through))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::Clock;
    use crate::core::ids::Ids;
    use crate::core::model::{AccountKey, CallerId};
    use crate::core::time::Timestamp;
    use crate::core::{CallerLookup, Notice, Options, ProviderFacts, Sink};
    use crate::core::{Change, Core};

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

    impl Sink for Nowhere {
        fn notice(&self, _: &Core, _: Notice) {}
    }

    fn core() -> Arc<Core> {
        let clock = Arc::new(Clock::new(Some(Timestamp::from_nanos(0)), true));
        Core::new(clock, Ids::new(Some(1)), Arc::new(Facts), Arc::new(Nowhere), Options::default())
    }

    fn caller(seq: u64, number: &str) -> Change {
        Change::CallerId { key: AccountKey::new("plivo", "MA1"), caller: CallerId::example(seq, number, 0) }
    }

    fn lines(changes: &[Change]) -> Vec<u8> {
        changes.iter().flat_map(|c| format::line(c, 0, 9)).collect()
    }

    /// Opens `path` again: another test's child process may hold the lock of a file descriptor
    /// it inherited for the moment between its fork and its exec.
    fn reopen(path: &std::path::Path, core: &Core) -> open::Opened {
        for _ in 0..100 {
            match open(path, core, &["plivo"], true) {
                Err(e) if e.contains("in use") => std::thread::sleep(Duration::from_millis(10)),
                other => return other.unwrap(),
            }
        }
        panic!("{} stays locked", path.display());
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
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(&file), "the cut-short last line is skipped, not cut off");
        assert_eq!(opened.end, after.len() as u64);
        drop(opened);
        // Opened again, the marked line is passed over and nothing more is added.
        let core = self::core();
        let opened = reopen(&path, &core);
        assert_eq!(numbers(&core), ["+12025550002", "+12025550003"]);
        assert_eq!((opened.end, std::fs::read(&path).unwrap()), (after.len() as u64, after));
        assert!(whole < opened.end);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_end_cut_before_its_newline_completes_nothing() {
        let now = Timestamp::from_nanos(0);
        let mut file = format::header();
        file.extend(lines(&[
            Change::CheckpointBegin { id: 1, now, frozen: true },
            caller(1, "+12025550001"),
            Change::CheckpointEnd { id: 1 },
            Change::CheckpointBegin { id: 2, now, frozen: true },
            caller(2, "+12025550002"),
        ]));
        let end = lines(&[Change::CheckpointEnd { id: 2 }]);
        file.extend_from_slice(&end[..end.len() - 1]);
        let dir = std::env::temp_dir().join(format!("callerid-mock-cut-end-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        std::fs::write(&path, &file).unwrap();
        for _ in 0..2 {
            let core = core();
            reopen(&path, &core);
            assert_eq!(numbers(&core), ["+12025550001", "+12025550002"], "replayed from checkpoint 1");
        }
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
