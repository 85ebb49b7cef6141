//! What the providers' voice markup (Twilio's TwiML, Plivo's XML, SignalWire's LaML) says about
//! caller IDs, read the same way for each: the document must be well-formed XML with one
//! `<Response>` root, and every `<Dial callerId="…">` must present the call's own `From` or
//! `To`, a verified caller ID of the account, or a number it owns. No verb is executed; each
//! provider turns a refusal into its own error.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::core::Core;
use crate::core::model::Call;
use crate::core::phone;

/// Why a document cannot be run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not XML, or not one `<Response>` root (why).
    Malformed(String),
    /// A `<Dial callerId>` the call may not present (as written).
    CallerId(String),
}

/// Reads `document` for `call`: `Ok` when nothing in it is refused.
pub(crate) fn check(core: &Core, call: &Call, document: &[u8]) -> Result<(), Refused> {
    check_with(document, |number| number == call.from || number == call.to || core.may_present(&call.key, number))
}

/// [`check`] with the caller-ID rule given: `may_present` judges each `<Dial callerId>` (E.164).
fn check_with(document: &[u8], may_present: impl Fn(&str) -> bool) -> Result<(), Refused> {
    let malformed = |why: &str| Refused::Malformed(why.to_owned());
    let mut reader = Reader::from_reader(document);
    let mut buf = Vec::new();
    let (mut depth, mut root) = (0usize, false);
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| Refused::Malformed(e.to_string()))?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(tag) | Event::Empty(tag) => {
                if depth == 0 {
                    if root || tag.name().as_ref() != b"Response" {
                        return Err(malformed("the document's root is not one <Response>"));
                    }
                    root = true;
                }
                if tag.name().as_ref() == b"Dial"
                    && let Some(refused) = refused_caller_id(&tag, &may_present)
                {
                    return Err(Refused::CallerId(refused));
                }
                if opens {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof if depth == 0 && root => return Ok(()),
            Event::Eof => return Err(malformed("the document ends inside an element, or has none")),
            _ => {}
        }
        buf.clear();
    }
}

/// The `callerId` of a `<Dial>` that may not be presented, if it has one.
fn refused_caller_id(dial: &BytesStart, may_present: &impl Fn(&str) -> bool) -> Option<String> {
    let attribute = dial.try_get_attribute("callerId").ok().flatten()?;
    let value = attribute
        .decoded_and_normalized_value(XmlVersion::Implicit1_0, dial.decoder())
        .map(|v| v.into_owned())
        .unwrap_or_default();
    let number = phone::parse_international(&value).map(|n| n.e164);
    (!number.as_deref().is_some_and(may_present)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &str) -> Result<(), Refused> {
        check_with(doc.as_bytes(), |n| n == "+14158675309")
    }

    #[test]
    fn reads_the_root_and_every_dial() {
        assert_eq!(check("<Response/>"), Ok(()));
        assert_eq!(
            check(r#"<?xml version="1.0"?><Response><Dial callerId="+14158675309">1</Dial></Response>"#),
            Ok(())
        );
        assert_eq!(check(r#"<Response><Dial callerId="14158675309"><Number>1</Number></Dial></Response>"#), Ok(()));
        assert_eq!(check("<Response><Dial>1</Dial></Response>"), Ok(()), "no callerId: the call's own");
        assert_eq!(
            check(r#"<Response><Say/><Dial callerId="+14155550177"/></Response>"#),
            Err(Refused::CallerId("+14155550177".into()))
        );
        assert_eq!(
            check(r#"<Response><Dial callerId="anonymous"/></Response>"#),
            Err(Refused::CallerId("anonymous".into()))
        );
        for bad in ["", "<Dial/>", "<Response>", "<Response/><Response/>", "not xml", "<Response></Dial>"] {
            assert!(matches!(check(bad), Err(Refused::Malformed(_))), "{bad:?}");
        }
    }
}
