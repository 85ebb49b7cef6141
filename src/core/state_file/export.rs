//! The export, streamed: the state file format written piece by piece as a scan visits the
//! state, so that an export of any size needs a bounded buffer.

use super::{AccountHead, ClockState, caller_state, verification_record};
use crate::core::scan::Item;
use crate::core::time::Timestamp;

/// Writes the state file format piece by piece, as [`Core::scan`] visits the state, so that an
/// export of any size streams with a bounded buffer.
#[derive(Default)]
pub struct ExportWriter {
    /// 0: nothing written; 1: in an account's caller IDs; 2: in its verifications.
    stage: u8,
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
                if self.stage != 0 {
                    self.close_account(out);
                    out.push(b',');
                }
                let head = AccountHead { provider: key.provider, account: &key.account, auth_token: &ns.auth_token };
                let mut head = serde_json::to_vec(&head).expect("an account serializes");
                head.pop();
                out.extend_from_slice(&head);
                out.extend_from_slice(b",\"caller_ids\":[");
                (self.stage, self.first) = (1, true);
            }
            Item::CallerId(_, c) => {
                self.comma(out);
                serde_json::to_writer(&mut *out, &caller_state(c)).expect("a caller ID serializes");
            }
            Item::Verification(v) => {
                if self.stage == 1 {
                    out.extend_from_slice(b"],\"verifications\":[");
                    (self.stage, self.first) = (2, true);
                }
                self.comma(out);
                serde_json::to_writer(&mut *out, &verification_record(v)).expect("a verification serializes");
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.stage != 0 {
            self.close_account(out);
        }
        out.extend_from_slice(b"]}");
    }

    fn comma(&mut self, out: &mut Vec<u8>) {
        if !std::mem::take(&mut self.first) {
            out.push(b',');
        }
    }

    fn close_account(&mut self, out: &mut Vec<u8>) {
        if self.stage == 1 {
            out.extend_from_slice(b"],\"verifications\":[");
        }
        out.extend_from_slice(b"]}");
    }
}
