//! Fault injection: rules that make matching API requests or webhooks fail, slow down, or lose
//! their connection, for the next N matches or with a probability drawn from the server's
//! seeded RNG (same seed, same requests: same faults).

use parking_lot::Mutex;

use crate::core::ids::Ids;

/// What a request or webhook is, for matching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Target {
    pub provider: &'static str,
    /// The provider's operation name (`initiate`, `create`, …), or `callback` for a webhook.
    pub operation: &'static str,
    pub account: Option<String>,
    /// E.164, when the request names a number.
    pub number: Option<String>,
}

/// What happens to a matching request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Action {
    /// Answer with this error, in the provider's own shape.
    Error { status: u16, code: Option<u64>, message: String },
    /// Wait this many milliseconds (drawn uniformly from the range), then carry on.
    Latency { min_ms: u64, max_ms: u64 },
    /// Close the connection at once with a TCP reset, answering nothing.
    Reset,
    /// Hold the connection without answering for this long, then close it.
    Drop { hold_ms: u64 },
}

/// A rule as given to `POST /_mock/faults`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rule {
    pub id: u64,
    /// `None` matches anything; `Some` must equal.
    pub provider: Option<String>,
    pub operation: Option<String>,
    pub account: Option<String>,
    pub number: Option<String>,
    pub action: Action,
    /// Applies to this many more matches; `None` for every match.
    pub remaining: Option<u64>,
    /// Applies to a match with this probability (0..=1); `None` for always.
    pub probability: Option<f64>,
    /// Matches it applied to so far.
    pub hits: u64,
}

impl Rule {
    fn matches(&self, t: &Target) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
        eq(&self.provider, Some(t.provider))
            && eq(&self.operation, Some(t.operation))
            && eq(&self.account, t.account.as_deref())
            && eq(&self.number, t.number.as_deref())
            && self.remaining != Some(0)
    }
}

#[derive(Default)]
pub(crate) struct Faults {
    rules: Mutex<Rules>,
    /// Whether any rule exists: the usual answer, no, costs no lock.
    any: std::sync::atomic::AtomicBool,
}

/// The rules in the order they were added, and the id the next one gets.
#[derive(Default)]
struct Rules {
    last_id: u64,
    list: Vec<Rule>,
}

impl Faults {
    /// Adds a rule (its `id` and `hits` are assigned here); returns it.
    pub fn add(&self, mut rule: Rule) -> Rule {
        let mut rules = self.rules.lock();
        rules.last_id += 1;
        rule.id = rules.last_id;
        rule.hits = 0;
        rules.list.push(rule.clone());
        self.any.store(true, std::sync::atomic::Ordering::Release);
        rule
    }

    pub fn list(&self) -> Vec<Rule> {
        self.rules.lock().list.clone()
    }

    pub fn clear(&self) -> usize {
        let mut rules = self.rules.lock();
        self.any.store(false, std::sync::atomic::Ordering::Release);
        std::mem::take(&mut rules.list).len()
    }

    /// The action of the first rule that matches `t` and fires, counting the hit.
    pub fn check(&self, t: &Target, ids: &Ids) -> Option<Action> {
        if !self.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules.lock();
        let rule = rules.list.iter_mut().filter(|r| r.matches(t)).find(|r| match r.probability {
            None => true,
            Some(p) => (ids.below(1_000_000) as f64) < p * 1_000_000.0,
        })?;
        rule.hits += 1;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        let action = rule.action.clone();
        drop(rules);
        Some(match action {
            Action::Latency { min_ms, max_ms } if max_ms > min_ms => {
                let ms = min_ms + ids.below(max_ms - min_ms + 1);
                Action::Latency { min_ms: ms, max_ms: ms }
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: Action) -> Rule {
        Rule {
            id: 0,
            provider: None,
            operation: None,
            account: None,
            number: None,
            action,
            remaining: None,
            probability: None,
            hits: 0,
        }
    }

    fn target(provider: &'static str, account: &str) -> Target {
        Target { provider, operation: "initiate", account: Some(account.into()), number: None }
    }

    #[test]
    fn a_counted_rule_fires_n_times_then_stops() {
        let (faults, ids) = (Faults::default(), Ids::new(Some(1)));
        faults.add(Rule { remaining: Some(2), provider: Some("plivo".into()), ..rule(Action::Reset) });
        assert_eq!(faults.check(&target("twilio", "A"), &ids), None);
        assert_eq!(faults.check(&target("plivo", "A"), &ids), Some(Action::Reset));
        assert_eq!(faults.check(&target("plivo", "B"), &ids), Some(Action::Reset));
        assert_eq!(faults.check(&target("plivo", "A"), &ids), None);
        assert_eq!(faults.list()[0].hits, 2);
    }

    #[test]
    fn a_probability_is_drawn_from_the_seeded_rng() {
        let run = || {
            let (faults, ids) = (Faults::default(), Ids::new(Some(9)));
            faults.add(Rule { probability: Some(0.3), ..rule(Action::Reset) });
            (0..200).map(|_| faults.check(&target("plivo", "A"), &ids).is_some()).collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let hits = a.iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "about 30% of 200: {hits}");
    }

    #[test]
    fn latency_ranges_are_drawn_inside_the_range() {
        let (faults, ids) = (Faults::default(), Ids::new(Some(3)));
        faults.add(rule(Action::Latency { min_ms: 10, max_ms: 20 }));
        for _ in 0..50 {
            let Some(Action::Latency { min_ms, max_ms }) = faults.check(&target("plivo", "A"), &ids) else { panic!() };
            assert!(min_ms == max_ms && (10..=20).contains(&min_ms));
        }
    }
}
