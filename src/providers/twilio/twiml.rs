//! Running an answered call's TwiML, as far as the caller ID is concerned: the document must be
//! well-formed XML with a `<Response>` root (else Twilio's 12100), and every `<Dial callerId>`
//! must present the call's own `From` or `To`, a verified caller ID of the account, or a number
//! it owns (else 13214). No other verb is executed. A document that could not be fetched is
//! 11200. Any of these ends the call, as Twilio hangs up on an application error.

use quick_xml::{Reader, XmlVersion};
use quick_xml::events::{BytesStart, Event};

use crate::core::Core;
use crate::core::model::{Call, CallError};
use crate::core::phone;

/// The error that ends `call`, if its document cannot be run.
pub(crate) fn run(core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
    let document = match read {
        Ok(document) => document,
        Err(why) => return Some(error("11200", &format!("HTTP retrieval failure: {why}"))),
    };
    let mut reader = Reader::from_reader(document);
    let mut buf = Vec::new();
    let (mut depth, mut root) = (0usize, false);
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => return Some(parse_failure(&e.to_string())),
        };
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(tag) | Event::Empty(tag) => {
                if depth == 0 {
                    if root || tag.name().as_ref() != b"Response" {
                        return Some(parse_failure("the document's root is not one <Response>"));
                    }
                    root = true;
                }
                if tag.name().as_ref() == b"Dial"
                    && let Some(refused) = refused_caller_id(core, call, &tag)
                {
                    return Some(error(
                        "13214",
                        &format!(
                            "Dial: Invalid callerId value: {refused} is neither the call's From or To, a verified \
                             caller ID of the account nor a number it owns"
                        ),
                    ));
                }
                if opens {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof if depth == 0 && root => return None,
            Event::Eof => return Some(parse_failure("the document ends inside an element, or has none")),
            _ => {}
        }
        buf.clear();
    }
}

/// The `callerId` of a `<Dial>` that the call may not present, if it has one.
fn refused_caller_id(core: &Core, call: &Call, dial: &BytesStart) -> Option<String> {
    let attribute = dial.try_get_attribute("callerId").ok().flatten()?;
    let value = attribute.decoded_and_normalized_value(XmlVersion::Implicit1_0, dial.decoder()).map(|v| v.into_owned()).unwrap_or_default();
    let number = phone::parse_international(&value).map(|n| n.e164);
    let allowed = number.as_deref().is_some_and(|n| n == call.from || n == call.to || core.may_present(&call.key, n));
    (!allowed).then_some(value)
}

fn parse_failure(why: &str) -> CallError {
    error("12100", &format!("Document parse failure: {why}"))
}

fn error(code: &str, message: &str) -> CallError {
    CallError { code: code.to_owned(), message: message.to_owned() }
}
