//! Running an answered call's TwiML, as far as the caller ID is concerned
//! ([`voice_xml`](crate::providers::voice_xml)): a malformed document is Twilio's 12100, a
//! `<Dial callerId>` the account may not present 13214, a document that could not be fetched
//! 11200. Any of these ends the call, as Twilio hangs up on an application error.

use crate::core::Core;
use crate::core::model::{Call, CallError};
use crate::providers::voice_xml::{self, Refused};

/// The error that ends `call`, if its document cannot be run.
pub(crate) fn run(core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
    let refused = match read {
        Ok(document) => voice_xml::check(core, call, document).err()?,
        Err(why) => return Some(error("11200", &format!("HTTP retrieval failure: {why}"))),
    };
    Some(match refused {
        Refused::Malformed(why) => error("12100", &format!("Document parse failure: {why}")),
        Refused::CallerId(refused) => error(
            "13214",
            &format!(
                "Dial: Invalid callerId value: {refused} is neither the call's From or To, a verified caller ID of \
                 the account nor a number it owns"
            ),
        ),
    })
}

fn error(code: &str, message: &str) -> CallError {
    CallError { code: code.to_owned(), message: message.to_owned() }
}
