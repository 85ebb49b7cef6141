//! Entries for unit tests: the fields a test does not care about at their plainest.

use std::time::Duration;

use super::model::{
    AccountKey, Attributes, Call, CallState, CallerId, Channel, EnteredBy, Verification, VerificationState,
};
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

impl Call {
    /// A call queued in `key`'s account from +1 to +2, ringing at once.
    pub(crate) fn example(seq: u64, key: AccountKey) -> Call {
        let at = Timestamp::from_nanos(0);
        Call {
            seq,
            key,
            id: format!("call{seq}"),
            from: "+1".into(),
            to: "+2".into(),
            state: CallState::Queued,
            created_at: at,
            rings_at: at,
            ring_timeout: Duration::from_secs(60),
            answers_at: None,
            answered_at: None,
            time_limit: None,
            ends_at: None,
            ended_at: None,
            ended_by: None,
            attributes: Attributes::default(),
            error: None,
            timeline: vec![(CallState::Queued, at)],
        }
    }
}
