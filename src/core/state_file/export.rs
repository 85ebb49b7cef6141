//! The export, streamed: the state file format written piece by piece as a scan visits the
//! state, so that an export of any size needs a bounded buffer.

use super::calls::call_record;
use super::{AccountHead, ClockState, caller_state, verification_record};
use crate::core::scan::Item;
use crate::core::time::Timestamp;

/// The lists of an account, in the order a scan visits them.
const SECTIONS: [&str; 4] = ["owned_numbers", "caller_ids", "verifications", "calls"];

/// Writes the state file format piece by piece, as [`Core::scan`] visits the state, so that an
/// export of any size streams with a bounded buffer.
#[derive(Default)]
pub struct ExportWriter {
    /// In an account: the index in [`SECTIONS`] of the list being written.
    section: Option<usize>,
    first: bool,
}

impl ExportWriter {
    /// The opening, with the clock's reading.
    pub fn begin(&mut self, out: &mut Vec<u8>, now: Timestamp, frozen: bool) {
        let clock = ClockState { now: now.rfc3339_nanos(), frozen };
        out.extend_from_slice(b"{\"clock\":");
        serde_json::to_writer(&mut *out, &clock).expect("the clock serializes");
        out.extend_from_slice(b",\"accounts\":[");
    }

    pub fn item(&mut self, out: &mut Vec<u8>, item: Item) {
        match item {
            Item::Account(key, ns) => {
                if self.section.is_some() {
                    self.close_account(out);
                    out.push(b',');
                }
                let head = AccountHead { provider: key.provider, account: &key.account, auth_token: &ns.auth_token };
                let mut head = serde_json::to_vec(&head).expect("an account serializes");
                head.pop();
                out.extend_from_slice(&head);
                out.extend_from_slice(b",\"owned_numbers\":[");
                (self.section, self.first) = (Some(0), true);
            }
            Item::Owned(_, number) => {
                self.open(out, 0);
                serde_json::to_writer(&mut *out, number).expect("a number serializes");
            }
            Item::CallerId(_, c) => {
                self.open(out, 1);
                serde_json::to_writer(&mut *out, &caller_state(c)).expect("a caller ID serializes");
            }
            Item::Verification(v) => {
                self.open(out, 2);
                serde_json::to_writer(&mut *out, &verification_record(v)).expect("a verification serializes");
            }
            Item::Call(c) => {
                self.open(out, 3);
                serde_json::to_writer(&mut *out, &call_record(c)).expect("a call serializes");
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.section.is_some() {
            self.close_account(out);
        }
        out.extend_from_slice(b"]}");
    }

    /// Moves on to the list `section` (closing the ones before it), then separates the entry
    /// about to be written from the one before.
    fn open(&mut self, out: &mut Vec<u8>, section: usize) {
        while let Some(at) = self.section.filter(|at| *at < section) {
            out.extend_from_slice(format!("],\"{}\":[", SECTIONS[at + 1]).as_bytes());
            (self.section, self.first) = (Some(at + 1), true);
        }
        if !std::mem::take(&mut self.first) {
            out.push(b',');
        }
    }

    fn close_account(&mut self, out: &mut Vec<u8>) {
        while let Some(at) = self.section.filter(|at| *at + 1 < SECTIONS.len()) {
            out.extend_from_slice(format!("],\"{}\":[", SECTIONS[at + 1]).as_bytes());
            self.section = Some(at + 1);
        }
        out.extend_from_slice(b"]}");
        self.section = None;
    }
}
