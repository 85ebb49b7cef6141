//! Phone numbers, through the `phonenumber` crate (a port of Google's libphonenumber): E.164
//! normalisation, validity, the ISO country of a number, and national/international formats.
//! The magic "invalid" number is refused here, so every provider refuses it.
//!
//! libphonenumber is slow next to everything else a request does (regular expressions looked
//! up by pattern in a cache behind one process-wide lock), so each runtime thread remembers the
//! last [`CACHE_SIZE`] inputs it read, with their formats: a test that uses the same numbers
//! again pays once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use phonenumber::{Mode, PhoneNumber};

use super::magic::{self, Magic};

/// Inputs each thread remembers (cleared when full).
const CACHE_SIZE: usize = 512;

/// A valid number in its canonical forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// `+` and digits.
    pub e164: String,
    /// ISO 3166 alpha-2 region of the number, `""` when the calling code is shared and the
    /// number names no single region.
    pub country: String,
    formats: Arc<Formats>,
}

/// The human formats, computed with the number.
#[derive(Debug, PartialEq, Eq)]
struct Formats {
    national: String,
    international: String,
}

impl Number {
    /// The national format, e.g. `(415) 867-5309` for a US number.
    pub fn national(&self) -> String {
        self.formats.national.clone()
    }

    /// The international format, e.g. `+49 163 2429751`.
    pub fn international(&self) -> String {
        self.formats.international.clone()
    }
}

/// An input as read in a region, and what it parsed to (`None`: not a number).
type Cache = HashMap<(Option<phonenumber::country::Id>, Box<str>), Option<Number>>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// What libphonenumber makes of `input` read in `region` (cached per thread).
fn cached(region: Option<phonenumber::country::Id>, input: &str) -> Option<Number> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&(region, input.into())).cloned()) {
        return hit;
    }
    let number = phonenumber::parse(region, input).ok().and_then(into_number);
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert((region, input.into()), number.clone());
    });
    number
}

/// Parses an international number, `+` optional (`+12025551234`, `12025551234`,
/// `+1 202-555-1234`); `None` unless libphonenumber calls it valid.
pub fn parse_international(input: &str) -> Option<Number> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.len() > 64 {
        return None;
    }
    let with_plus;
    let candidate = if trimmed.starts_with('+') {
        trimmed
    } else {
        with_plus = format!("+{trimmed}");
        &with_plus
    };
    cached(None, candidate)
}

/// Parses a number as dialled in `region` when it has no `+` (`(415) 555-1212` in the US),
/// as an international number otherwise; `None` unless libphonenumber calls it valid.
pub fn parse_in_region(input: &str, region: phonenumber::country::Id) -> Option<Number> {
    let trimmed = input.trim();
    if trimmed.starts_with('+') {
        return parse_international(trimmed);
    }
    if trimmed.is_empty() || trimmed.len() > 64 {
        return None;
    }
    cached(Some(region), trimmed)
}

fn into_number(parsed: PhoneNumber) -> Option<Number> {
    if !phonenumber::is_valid(&parsed) {
        return None;
    }
    let e164 = parsed.format().mode(Mode::E164).to_string();
    if magic::lookup(&e164) == Some(Magic::Invalid) {
        return None;
    }
    let country = parsed.country().id().map(|id| id.as_ref().to_owned()).unwrap_or_default();
    let formats = Formats {
        national: parsed.format().mode(Mode::National).to_string(),
        international: parsed.format().mode(Mode::International).to_string(),
    };
    Some(Number { e164, country, formats: Arc::new(formats) })
}

/// Normalises a number taken from a URL path (`+1202…`, `1202…`, `%2B1202…` already decoded)
/// to the `+digits` key the store uses, without judging validity: a lookup of an odd string
/// simply finds nothing.
pub fn path_key(segment: &str) -> Option<String> {
    let digits = segment.trim().strip_prefix('+').unwrap_or(segment.trim());
    (!digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("+{digits}"))
}

/// Loads libphonenumber's metadata (tens of milliseconds, once) so no request pays for it,
/// then gives the memory its loading left behind back to the system.
pub fn warm_up() {
    let _ = parse_international("+12025551234");
    CACHE.with(|c| c.borrow_mut().clear());
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_finds_the_country() {
        for (input, e164, country) in [
            ("+12025551234", "+12025551234", "US"),
            ("12025551234", "+12025551234", "US"),
            ("+1 (202) 555-1234", "+12025551234", "US"),
            ("+919768368717", "+919768368717", "IN"),
            ("+491632429751", "+491632429751", "DE"),
            ("+442079460958", "+442079460958", "GB"),
        ] {
            let n = parse_international(input).unwrap_or_else(|| panic!("{input} is valid"));
            assert_eq!((n.e164.as_str(), n.country.as_str()), (e164, country), "{input}");
        }
    }

    #[test]
    fn refuses_invalid_numbers() {
        for input in ["", "+", "abc", "+1234", "+999123456789", "+1202555123456789", "+12021"] {
            assert_eq!(parse_international(input), None, "{input}");
        }
    }

    #[test]
    fn reads_national_forms_in_a_region() {
        use phonenumber::country::Id;
        for input in ["(415) 867-5309", "415-867-5309", "4158675309", "+14158675309", "1 415 867 5309"] {
            let n = parse_in_region(input, Id::US).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(n.e164, "+14158675309", "{input}");
        }
        assert_eq!(parse_in_region("01632429751", Id::DE).unwrap().e164, "+491632429751");
        assert_eq!(parse_in_region("12", Id::US), None);
    }

    #[test]
    fn formats_like_libphonenumber() {
        let n = parse_international("+14158675309").unwrap();
        assert_eq!(n.national(), "(415) 867-5309");
        let n = parse_international("+491632429751").unwrap();
        assert_eq!(n.international(), "+49 163 2429751");
    }

    #[test]
    fn path_keys_accept_plus_or_bare_digits() {
        assert_eq!(path_key("+12025551234").as_deref(), Some("+12025551234"));
        assert_eq!(path_key("12025551234").as_deref(), Some("+12025551234"));
        assert_eq!(path_key("12a"), None);
        assert_eq!(path_key("+"), None);
    }
}
