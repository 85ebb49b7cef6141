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

/// The table, for the README and the lookup.
pub const TABLE: &[(&str, Magic, &str)] = &[
    ("+15005550001", Magic::Invalid, "invalid number (every provider's invalid-number error)"),
    ("+15005550002", Magic::AlreadyVerified, "already verified: a caller ID is created on first use"),
    ("+15005550003", Magic::Busy, "the validation call is busy"),
    ("+15005550004", Magic::NoAnswer, "the validation call is not answered"),
    ("+15005550005", Magic::CallFails, "the validation call fails"),
    ("+15005550006", Magic::AutoAnswer, "the validation call is answered with the right code"),
    ("+15005550007", Magic::CallbackFails, "the callback fails with HTTP 500, the receiver is not contacted"),
    ("+15005550008", Magic::ExpiresAtOnce, "the code expires as soon as it is sent"),
];

/// The magic of an E.164 number, if it has any.
pub fn lookup(e164: &str) -> Option<Magic> {
    TABLE.iter().find(|(n, _, _)| *n == e164).map(|(_, m, _)| *m)
}
