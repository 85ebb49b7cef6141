//! seven's answers, keys in the order of seven's own documentation page.

use serde::Serialize;

/// The message of the "already saved" answer, as seven's current documentation gives it (the
/// older page said "The caller ID has already been saved.").
pub(crate) const ALREADY_SAVED: &str = "The sender ID is already saved.";
/// The message of the "invalid number" answer, as seven's current documentation gives it (the
/// older page said "Number is invalid").
pub(crate) const INVALID_NUMBER: &str = "Reception number invalid";

/// A code was issued and the validation call placed.
#[derive(Serialize)]
pub(crate) struct CodeIssued {
    pub success: bool,
    pub code: String,
    pub error: Option<String>,
}

/// The shape of a caller ID record: for an invalid number (`success` false, `id` and
/// `formatted_output` null) and for one already saved (`success` true, `voice` true).
#[derive(Serialize)]
pub(crate) struct SenderRecord {
    pub id: Option<u64>,
    pub sender: String,
    pub formatted_output: Option<String>,
    pub success: bool,
    pub error: Option<String>,
    pub voice: bool,
}
