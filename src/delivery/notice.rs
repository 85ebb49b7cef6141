//! What the core's notices become: each is handed to its provider for the webhooks it makes,
//! and each webhook is journaled, checked against fault rules, magic numbers and
//! `--callback-allow`, and delivered on a task of its own. An answered call's document is read
//! (fetched, or given inline) and handed back to the provider to run.

use std::sync::Arc;
use std::time::Duration;

use super::{Deliveries, Delivery, DeliveryState, Document, InFlight, Subject, Webhook};
use crate::allow;
use crate::core::magic::{self, Magic};
use crate::core::model::Call;
use crate::core::{Core, Notice, Sink};
use crate::faults::{Action, Target};

impl Sink for Deliveries {
    fn notice(&self, core: &Core, notice: Notice) {
        let render = &self.inner.render;
        match notice {
            Notice::ValidationEnded(v) => {
                if let Some(webhook) = render.call_ended(&v, core.ids()) {
                    self.send(core, webhook, None);
                }
            }
            Notice::CallMoved(call) => {
                for webhook in render.call_moved(&call, core.ids()) {
                    self.send(core, webhook, None);
                }
            }
            Notice::CallDocument(call) => match render.document(&call, core.ids()) {
                None => {}
                Some(Document::Inline(document)) => {
                    if let Some(error) = render.run_document(core, &call, Ok(document.as_bytes())) {
                        core.fail_call_document(&call.id, error);
                    }
                }
                Some(Document::Fetch(webhook)) => self.send(core, *webhook, Some(call)),
            },
        }
    }
}

impl Deliveries {
    /// Journals `webhook` and starts delivering it; for a document (`read_for`: its call), the
    /// answer is then run.
    fn send(&self, core: &Core, webhook: Webhook, read_for: Option<Call>) {
        let inner = &self.inner;
        let account = webhook.account.clone();
        let target = Target {
            provider: webhook.provider,
            operation: "callback",
            account: Some(account.clone()),
            number: Some(webhook.number.clone()),
        };
        let fault = match magic::lookup(&webhook.number) {
            Some(Magic::CallbackFails) => {
                Some(Action::Error { status: 500, code: None, message: "magic number".into() })
            }
            _ => inner.faults.check(&target, core.ids()),
        };
        let id = {
            let mut journal = inner.journal.lock();
            let delivery = Delivery {
                id: 0,
                queued_at: core.clock().now(),
                webhook: webhook.clone(),
                state: DeliveryState::Pending,
                attempts: Vec::new(),
                call_error: None,
            };
            let id = journal.push(&account, delivery);
            journal.update(id, |d| d.id = id);
            id
        };
        let ctx = InFlight { inner: inner.clone(), clock: core.clock().clone(), watchers: core.watchers() };
        ctx.changed();
        let document = read_for.map(|call| Reading { core: core.handle(), call });
        if let Some(why) = &webhook.withheld {
            ctx.finish(id, None, &format!("not sent: {why}"), DeliveryState::NotSent);
            return run(&ctx, id, document, Err(why.clone()));
        }
        tracing::info!(provider = webhook.provider, url = ?webhook.url, method = webhook.method, "callback queued");
        if let Err(why) = allow::permitted(&inner.allowed, &webhook.url) {
            tracing::warn!(url = ?webhook.url, "a callback was refused by --callback-allow");
            ctx.fail(id, None, &why);
            return run(&ctx, id, document, Err(why));
        }
        let Ok(permit) = inner.in_flight.clone().try_acquire_owned() else {
            let why = "dropped: too many callbacks in flight";
            ctx.fail(id, None, why);
            return run(&ctx, id, document, Err(why.to_owned()));
        };
        inner.runtime.spawn(async move {
            let read_body = document.is_some();
            let outcome = match fault {
                Some(Action::Error { status, .. }) => Err(fail(&ctx, id, Some(status), "injected fault: error status")),
                Some(Action::Reset) => Err(fail(&ctx, id, None, "injected fault: connection reset")),
                Some(Action::Drop { .. }) => Err(fail(&ctx, id, None, "injected fault: connection dropped")),
                Some(Action::Latency { min_ms, .. }) => {
                    tokio::time::sleep(Duration::from_millis(min_ms)).await;
                    ctx.deliver(id, &webhook, read_body).await
                }
                None => ctx.deliver(id, &webhook, read_body).await,
            };
            run(&ctx, id, document, outcome.map(|body| String::from_utf8_lossy(&body).into_owned()));
            drop(permit);
        });
    }
}

/// A document being read: the call it is for, and the core to tell if it cannot be run.
struct Reading {
    core: Arc<Core>,
    call: Call,
}

/// Fails delivery `id` without contacting the receiver; the reason.
fn fail(ctx: &InFlight, id: u64, status: Option<u16>, why: &str) -> String {
    ctx.fail(id, status, why);
    why.to_owned()
}

/// Runs what was read for a document (nothing to do for other webhooks): a document that
/// cannot be run ends its call with the provider's error, journaled on the delivery too.
fn run(ctx: &InFlight, id: u64, document: Option<Reading>, read: Result<String, String>) {
    let Some(Reading { core, call }) = document else { return };
    let outcome = match &read {
        Ok(text) => ctx.inner.render.run_document(&core, &call, Ok(text.as_bytes())),
        Err(why) => ctx.inner.render.run_document(&core, &call, Err(why)),
    };
    if let Some(error) = outcome {
        ctx.update(id, |d| d.call_error = Some(error.clone()));
        core.fail_call_document(&call.id, error);
    }
}

impl Subject {
    /// Whether it is the verification or call `id`.
    pub fn is(&self, id: &str) -> bool {
        self.id() == id
    }
}
