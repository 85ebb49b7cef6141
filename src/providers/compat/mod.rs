//! The 2010-04-01 REST dialect: Twilio's API, which SignalWire's Compatibility API speaks too.
//! Its error envelope, its Call resource with the calls' operations and status callbacks, its
//! answer documents (TwiML, cXML/LaML), its webhook signature, and the OutgoingCallerId wire
//! types. What differs between the providers that speak it is a [`Dialect`], given by each
//! provider's folder; nothing here names a provider.

pub(crate) mod callback;
pub(crate) mod calls;
pub(crate) mod error;
pub(crate) mod signature;
pub(crate) mod twiml;
pub(crate) mod wire;

/// What a provider speaking the dialect says its own way.
#[derive(Debug)]
pub(crate) struct Dialect {
    /// The API's root, before `/Accounts/{Sid}` (the URIs of its resources start with it).
    pub root: &'static str,
    /// Where an error code is explained: `{errors_url}{code}` is an error's `more_info`.
    pub errors_url: &'static str,
    /// The realm of the `WWW-Authenticate` challenge on a 401.
    pub realm: &'static str,
    /// The root element of the legacy XML answer is `{brand}Response`.
    pub brand: &'static str,
    /// Who makes the webhook requests (`User-Agent`).
    pub user_agent: &'static str,
    /// The headers carrying a webhook's idempotency token, and its signature.
    pub idempotency_header: &'static str,
    pub signature_headers: &'static [&'static str],
    /// Who sells the numbers an account owns (in the unverified-`From` message).
    pub seller: &'static str,
}

/// The attribute a call keeps the secret its webhooks are signed with in.
pub(crate) const SIGNING_KEY: &str = "signing_key";

/// A list page's `PageSize` (1 to 1000, default 50) and `Page` (default 0), as the dialect reads
/// them.
pub(crate) fn page(p: &crate::http::Pairs) -> Result<(usize, usize), error::RestError> {
    const DEFAULT_PAGE_SIZE: usize = 50;
    const MAX_PAGE_SIZE: usize = 1000;
    let page_size =
        match p.get("PageSize") {
            None => DEFAULT_PAGE_SIZE,
            Some(s) => s.trim().parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
                error::RestError::bad_request(20007, "PageSize must be an integer between 1 and 1000")
            })?,
        };
    let page = match p.get("Page") {
        None => 0,
        Some(s) => s.trim().parse::<usize>().map_err(|_| invalid_token())?,
    };
    Ok((page_size, page))
}

/// A page token: `PA<id>` continues after that record, `PB<id>` ends before it.
pub(crate) enum PageToken {
    After(String),
    Before(String),
}

impl PageToken {
    pub fn parse(raw: &str) -> Option<PageToken> {
        match raw.split_at_checked(2)? {
            ("PA", id) => Some(PageToken::After(id.to_owned())),
            ("PB", id) => Some(PageToken::Before(id.to_owned())),
            _ => None,
        }
    }

    /// Where the page starts in the core's listing order.
    pub fn start(&self) -> crate::core::Start<'_> {
        match self {
            PageToken::After(id) => crate::core::Start::AfterId(id),
            PageToken::Before(id) => crate::core::Start::BeforeId(id),
        }
    }
}

/// 400 code 21481: a `PageToken` (or `Page`) the dialect cannot read.
pub(crate) fn invalid_token() -> error::RestError {
    error::RestError::bad_request(21481, "The PageToken in the requested URL was not valid")
}
