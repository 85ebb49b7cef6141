//! Caller IDs: record one awaiting verification, read one, list a page, change or delete one.
//!
//! A page costs O(log n + page) from the start or from a cursor (a caller ID's id), and
//! O(offset + page) from an offset; a filter that no index serves (a label, an attribute)
//! visits every caller ID of the account, and so does counting what it matches.

use super::magic::{self, Magic};
use super::model::{AccountKey, Attributes, CallerId, VerificationState};
use super::phone::Number;
use super::store::Namespace;
use super::{Change, Core, CoreError, NewVerification};

/// How a request names a caller ID.
#[derive(Clone, Copy, Debug)]
pub enum CallerLookup<'a> {
    Number(&'a str),
    Id(&'a str),
}

/// Where a page starts, in listing order (newest first).
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// Just after the caller ID with this id.
    AfterId(&'a str),
    /// The page that ends just before the caller ID with this id.
    BeforeId(&'a str),
    /// After skipping this many matches.
    Offset(usize),
}

/// A page request.
pub struct CallerQuery<'a> {
    pub start: Start<'a>,
    pub limit: usize,
    /// Only this number (served by the number index).
    pub number: Option<&'a str>,
    /// Any other filter; `None` keeps everything (and the total is then free).
    pub keep: Option<&'a dyn Fn(&CallerId) -> bool>,
    /// Count every match (`total`); costs a full pass when `keep` is given.
    pub count: bool,
}

/// A page of caller IDs.
#[derive(Debug, Default)]
pub struct CallerPage {
    pub items: Vec<CallerId>,
    /// Every match, when counted.
    pub total: usize,
    /// More matches follow the page.
    pub more: bool,
}

impl Core {
    pub fn caller_id(&self, key: &AccountKey, lookup: CallerLookup) -> Option<CallerId> {
        self.transact(|tx| find(tx.store().namespace(key)?, lookup).cloned())
    }

    /// A page of `key`'s caller IDs; `None` when the cursor names no caller ID.
    pub fn caller_ids(&self, key: &AccountKey, q: &CallerQuery) -> Option<CallerPage> {
        let (page, visited) = self.transact(|tx| match tx.store().namespace(key) {
            Some(ns) => page(ns, q),
            None => match q.start {
                Start::AfterId(_) | Start::BeforeId(_) => (None, 0),
                _ => (Some(CallerPage::default()), 0),
            },
        });
        self.visited(visited);
        page
    }

    /// Records a caller ID that awaits its verification (SignalWire keeps the record from the
    /// moment it is asked for) and sends its first code, both or neither: listed and found like
    /// any other, it is never presented on a call until a code checked by [`Core::check_code`]
    /// verifies it. A number that already has a record in the account is
    /// [`CoreError::AlreadyVerified`].
    pub fn register_caller_id(
        &self,
        key: &AccountKey,
        id: String,
        number: &Number,
        label: &str,
        attributes: &Attributes,
        first_code: NewVerification,
    ) -> Result<CallerId, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            if tx.caller_of(key, &number.e164).is_some() {
                return Err(CoreError::AlreadyVerified);
            }
            let magic = magic::lookup(&number.e164) == Some(Magic::AlreadyVerified);
            let caller = CallerId::new(id, &number.e164, &number.country, label, attributes, tx.now);
            tx.make_room(caller.bytes())?;
            let verified_at = magic.then_some(tx.now);
            let caller = CallerId { seq: tx.state.store.next_seq(), verified_at, ..caller };
            if magic {
                // Verified in every account on first use, as the other providers do it.
                tx.put_caller(key, caller);
                return Err(CoreError::AlreadyVerified);
            }
            tx.put_caller(key, caller.clone());
            if let Err(e) = tx.start_verification(first_code) {
                // No code could be sent (a cap): the record goes too, so nothing is half made.
                tx.state.store.remove_caller_id(key, &number.e164);
                tx.log_caller(key, &number.e164);
                return Err(e);
            }
            Ok(caller)
        })
    }

    /// Changes a caller ID's label and attributes (`None` leaves one as it is); `updated_at` moves.
    pub fn update_caller_id(
        &self,
        key: &AccountKey,
        lookup: CallerLookup,
        label: Option<String>,
        attributes: &[(&str, Option<String>)],
    ) -> Result<CallerId, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            let number = find(tx.store().namespace(key).ok_or(CoreError::NotFound)?, lookup)
                .ok_or(CoreError::NotFound)?
                .phone_number
                .clone();
            let now = tx.now;
            let updated = tx
                .state
                .store
                .update_caller_id(key, &number, |c| {
                    if let Some(label) = label {
                        c.label = label;
                    }
                    for (name, value) in attributes {
                        if let Some(value) = value {
                            c.attributes.set(name, value);
                        }
                    }
                    c.updated_at = now;
                    c.clone()
                })
                .ok_or(CoreError::NotFound)?;
            tx.log_caller(key, &number);
            Ok(updated)
        })
    }

    pub fn delete_caller_id(&self, key: &AccountKey, lookup: CallerLookup) -> Result<CallerId, CoreError> {
        let removed = self.transact(|tx| {
            tx.writable()?;
            let ns = tx.store().namespace(key).ok_or(CoreError::NotFound)?;
            let number = find(ns, lookup).ok_or(CoreError::NotFound)?.phone_number.clone();
            let removed = tx.state.store.remove_caller_id(key, &number).ok_or(CoreError::NotFound)?;
            // A caller ID that awaited its code takes its pending verification with it.
            if removed.verified_at.is_none() {
                let latest = tx.store().namespace(key).and_then(|ns| ns.latest_for(&number));
                let pending = latest
                    .filter(|&seq| tx.store().verification(seq).is_some_and(|v| v.state == VerificationState::Pending));
                if let Some(seq) = pending {
                    tx.finish(seq, VerificationState::Failed);
                }
            }
            tx.log(|| Change::CallerIdRemoved { key: key.clone(), number });
            Ok(removed)
        })?;
        tracing::info!(provider = key.provider, number = %removed.phone_number, "caller ID deleted");
        Ok(removed)
    }
}

fn find<'a>(ns: &'a Namespace, lookup: CallerLookup) -> Option<&'a CallerId> {
    match lookup {
        CallerLookup::Number(n) => ns.caller_by_number(n),
        CallerLookup::Id(id) => ns.caller_by_id(id),
    }
}

/// The page, and how many index entries it visited.
fn page(ns: &Namespace, q: &CallerQuery) -> (Option<CallerPage>, usize) {
    let keep = |c: &CallerId| q.keep.is_none_or(|f| f(c));
    if let Some(number) = q.number {
        let hit: Vec<CallerId> = ns.caller_by_number(number).filter(|c| keep(c)).cloned().into_iter().collect();
        let total = hit.len();
        let skip = match q.start {
            Start::Offset(n) => n,
            Start::AfterId(id) | Start::BeforeId(id) if ns.caller_by_id(id).is_none() => return (None, 1),
            Start::AfterId(_) => total,
            Start::BeforeId(_) => 0,
        };
        let items: Vec<CallerId> = hit.into_iter().skip(skip).take(q.limit).collect();
        return (Some(CallerPage { items, total, more: false }), 1);
    }
    let mut visited = 0;
    let mut items = Vec::with_capacity(q.limit.min(64));
    let mut more = false;
    match q.start {
        Start::BeforeId(id) => {
            let Some(anchor) = ns.caller_by_id(id) else { return (None, 0) };
            for c in ns.callers_before(anchor.order()) {
                visited += 1;
                if keep(c) {
                    if items.len() == q.limit {
                        break;
                    }
                    items.push(c.clone());
                }
            }
            items.reverse();
            // The page ends before the anchor, so the anchor itself follows it.
            more = true;
        }
        start => {
            let (after, mut skip) = match start {
                Start::AfterId(id) => match ns.caller_by_id(id) {
                    Some(anchor) => (Some(anchor.order()), 0),
                    None => return (None, 0),
                },
                Start::Offset(n) => (None, n),
                Start::BeforeId(_) => unreachable!("handled above"),
            };
            for c in ns.callers_after(after) {
                visited += 1;
                if !keep(c) {
                    continue;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                if items.len() == q.limit {
                    more = true;
                    break;
                }
                items.push(c.clone());
            }
        }
    }
    let total = match (q.count, q.keep) {
        (false, _) => 0,
        (true, None) => ns.caller_count(),
        (true, Some(f)) => {
            visited += ns.caller_count();
            ns.callers_after(None).filter(|c| f(c)).count()
        }
    };
    (Some(CallerPage { items, total, more }), visited)
}

/// Where a listing across accounts is: an account and a caller ID's place in it.
pub type AcrossCursor = (AccountKey, super::model::Order);

impl Core {
    /// Caller IDs of every account (or those of `provider` and/or `account`), accounts in key
    /// order and each newest first, after `after`; with the cursor to continue from when more
    /// follow.
    pub fn caller_ids_across(
        &self,
        provider: Option<&str>,
        account: Option<&str>,
        after: Option<AcrossCursor>,
        limit: usize,
    ) -> (Vec<(AccountKey, CallerId)>, Option<AcrossCursor>) {
        let (out, next, visited) = self.transact(|tx| {
            let store = tx.store();
            let mut out = Vec::new();
            let mut visited = 0;
            let wanted = |key: &AccountKey| {
                provider.is_none_or(|p| p == key.provider) && account.is_none_or(|a| a == &*key.account)
            };
            for (key, ns) in store.namespaces_from(after.as_ref().map(|(k, _)| k)) {
                if !wanted(key) {
                    visited += 1;
                    continue;
                }
                let from = after.as_ref().filter(|(k, _)| k == key).map(|(_, order)| *order);
                for c in ns.callers_after(from) {
                    visited += 1;
                    if out.len() == limit {
                        let next = out.last().map(|(k, c): &(AccountKey, CallerId)| (k.clone(), c.order()));
                        return (out, next, visited);
                    }
                    out.push((key.clone(), c.clone()));
                }
            }
            (out, None, visited)
        });
        self.visited(visited);
        (out, next)
    }
}
