//! Entries for unit tests: the fields a test does not care about at their plainest.

use super::model::{AccountKey, Attributes, CallerId, Channel, EnteredBy, Verification, VerificationState};
use super::time::Timestamp;

impl Verification {
    /// A pending SMS code of `number` in `key`'s account, submitted through the API.
    pub(crate) fn example(seq: u64, key: AccountKey, number: &str) -> Verification {
        Verification {
            seq,
            key,
            id: format!("v{seq}"),
            phone_number: number.into(),
            country: "US".into(),
            label: String::new(),
            attributes: Attributes::default(),
            channel: Channel::Sms,
            entered_by: EnteredBy::Api,
            code: "123456".into(),
            state: VerificationState::Pending,
            issued_at: Timestamp::from_nanos(0),
            expires_at: None,
            attempts: 0,
            rings_at: None,
            call_status: None,
            callback: None,
            caller_id: None,
            finished_at: None,
        }
    }
}

impl CallerId {
    /// A caller ID of `number` created at `created` (nanoseconds).
    pub(crate) fn example(seq: u64, number: &str, created: i64) -> CallerId {
        CallerId {
            seq,
            id: format!("c{seq}"),
            ..CallerId::new(String::new(), number, "US", "", &Attributes::default(), Timestamp::from_nanos(created))
        }
    }
}
