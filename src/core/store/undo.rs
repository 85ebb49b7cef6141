//! Taking back what the state file could not keep. With a state file, every change to an entry
//! first notes how to put the entry back as it was; once the change is synced the note is
//! dropped, and if the sync fails the notes are played backwards, so that a write answered with
//! a 503 leaves nothing behind (`crate::persist`).

use super::Store;
use crate::core::model::{AccountKey, Call, CallerId, Verification};

/// How to put one entry back as it was before a change.
#[derive(Debug)]
pub enum Undo {
    Verification(Verification),
    NoVerification(u64),
    Call(Call),
    NoCall(u64),
    Caller(AccountKey, CallerId),
    NoCaller(AccountKey, String),
    Owned(AccountKey, String, bool),
    Account(AccountKey, bool, Option<String>),
    /// The clock moved forward by this many nanoseconds (or back, when negative).
    Clock(i128),
}

impl Store {
    /// Notes how to undo every change from now on (a state file is kept).
    pub fn keep_undo(&mut self) {
        self.undo.get_or_insert_with(Vec::new);
    }

    /// The notes made since the last call, oldest first.
    pub fn take_undo(&mut self) -> Vec<Undo> {
        self.undo.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Notes how to undo a change, when notes are kept; `undo` is only built then.
    pub(super) fn note(&mut self, undo: impl FnOnce() -> Undo) {
        if let Some(notes) = self.undo.as_mut() {
            notes.push(undo());
        }
    }

    /// Notes a move of the clock (which lives outside the store).
    pub fn note_clock(&mut self, nanos: i128) {
        self.note(|| Undo::Clock(nanos));
    }

    /// Plays `undo` backwards (newest first), noting nothing; returns how far the clock moved
    /// meanwhile, for the caller to move it back.
    pub fn undo(&mut self, undo: Vec<Undo>) -> i128 {
        let kept = self.undo.take();
        let mut clock = 0;
        for u in undo.into_iter().rev() {
            match u {
                Undo::Verification(v) => {
                    self.remove_verification(v.seq);
                    self.insert_verification(v);
                }
                Undo::NoVerification(seq) => {
                    self.remove_verification(seq);
                }
                Undo::Call(c) => {
                    self.remove_call(c.seq);
                    self.insert_call(c);
                }
                Undo::NoCall(seq) => {
                    self.remove_call(seq);
                }
                Undo::Caller(key, c) => self.put_caller_id(&key, c),
                Undo::NoCaller(key, number) => {
                    self.remove_caller_id(&key, &number);
                }
                Undo::Owned(key, number, owned) => {
                    self.set_owned(&key, &number, owned);
                }
                Undo::Account(key, declared, auth_token) => self.set_account(&key, declared, auth_token),
                Undo::Clock(nanos) => clock += nanos,
            }
        }
        self.undo = kept;
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::VerificationState;
    use crate::core::time::Timestamp;

    fn key(account: &str) -> AccountKey {
        AccountKey::new("plivo", account)
    }

    /// Everything a store shows, to compare two of them.
    fn shape(store: &Store) -> String {
        let ns: Vec<String> = store
            .namespaces_from(None)
            .map(|(k, ns)| {
                let callers: Vec<String> =
                    ns.callers_after(None).map(|c| format!("{}:{:?}", c.phone_number, c.label)).collect();
                format!("{k:?} {} {:?} {callers:?} {:?}", ns.declared, ns.auth_token, ns.owned_numbers())
            })
            .collect();
        let vs: Vec<String> = store.verifications_before(None).map(|v| format!("{v:?}")).collect();
        let calls: Vec<String> = store.calls_before(None).map(|c| format!("{c:?}")).collect();
        format!(
            "{ns:?} {vs:?} {calls:?} bytes={} pending={} timers={} finished={:?}",
            store.bytes(),
            store.pending(),
            store.timers().len(),
            store.oldest_finished()
        )
    }

    #[test]
    fn undoing_every_kind_of_change_gives_back_the_store_as_it_was() {
        let mut store = Store::default();
        store.put_caller_id(&key("A"), CallerId::example(1, "+1", 10));
        store.insert_verification(Verification::example(2, key("A"), "+2"));
        store.insert_call(Call::example(3, key("A")));
        store.set_account(&key("A"), true, Some("t".into()));
        let before = shape(&store);

        store.keep_undo();
        store.put_caller_id(&key("A"), CallerId { label: "renamed".into(), ..CallerId::example(1, "+1", 10) });
        store.put_caller_id(&key("B"), CallerId::example(4, "+4", 20));
        store.update_caller_id(&key("A"), "+1", |c| c.label = "again".into());
        store.update_verification(2, |v| {
            v.state = VerificationState::Expired;
            v.finished_at = Some(Timestamp::from_nanos(5));
        });
        store.insert_verification(Verification::example(5, key("B"), "+5"));
        store.update_call(3, |c| c.answers_at = Some(Timestamp::from_nanos(9)));
        store.set_owned(&key("A"), "+6", true);
        store.set_account(&key("A"), true, Some("u".into()));
        store.set_account(&key("C"), true, None);
        store.note_clock(7);
        store.reset(None);
        store.remove_caller_id(&key("A"), "+1");
        assert_ne!(shape(&store), before);

        let undo = store.take_undo();
        assert_eq!(store.undo(undo), 7, "the clock's move is handed back");
        assert_eq!(shape(&store), before);
        assert!(store.take_undo().is_empty(), "undoing notes nothing");
    }
}
