//! Magic numbers: numbers that produce an outcome with no control-plane call, in the spirit of
//! the test-credential numbers some providers publish. They are valid NANP numbers, so nothing
//! real is reached. Each provider answers the outcome in its own words.

/// What a magic number does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    /// Refused as an invalid number by every provider.
    Invalid,
    /// Already a verified caller ID in every account (created on first use).
    AlreadyVerified,
    /// The validation call is busy when it rings.
    Busy,
    /// The validation call rings out unanswered (`no-answer`) when it rings.
    NoAnswer,
    /// The validation call fails (`failed`) when it rings.
    CallFails,
    /// The validation call is answered with the right code when it rings.
    AutoAnswer,
    /// The webhook reporting the call fails (HTTP 500), without reaching the receiver.
    CallbackFails,
    /// The code expires as soon as it is issued.
    ExpiresAtOnce,
}

/// The magic numbers (`docs/control-plane.md` describes each).
const TABLE: &[(&str, Magic)] = &[
    ("+15005550001", Magic::Invalid),
    ("+15005550002", Magic::AlreadyVerified),
    ("+15005550003", Magic::Busy),
    ("+15005550004", Magic::NoAnswer),
    ("+15005550005", Magic::CallFails),
    ("+15005550006", Magic::AutoAnswer),
    ("+15005550007", Magic::CallbackFails),
    ("+15005550008", Magic::ExpiresAtOnce),
];

/// The magic of an E.164 number, if it has any.
pub fn lookup(e164: &str) -> Option<Magic> {
    TABLE.iter().find(|(n, _)| *n == e164).map(|(_, m)| *m)
}
