//! SignalWire's row: a Space's Verified Caller IDs under `/api/relay/rest`, HTTP Basic with the
//! project id; the call reads the code and the application submits it.

use serde_json::{Value, json};

use crate::common::{Resp, SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN, basic};
use crate::kit::{self, Entry, Req};

pub struct Row;

fn req(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/api/relay/rest/{rest}"))
        .header("Authorization", basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN))
}

/// The Compatibility API (Twilio's dialect), for its calls.
fn laml(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/api/laml/2010-04-01/Accounts/{SIGNALWIRE_PROJECT}/{rest}"))
        .header("Authorization", basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN))
}

impl kit::Row for Row {
    fn name(&self) -> &'static str {
        "signalwire"
    }
    fn account(&self) -> &'static str {
        SIGNALWIRE_PROJECT
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["example.signalwire.com", "another-space.signalwire.com"]
    }
    fn create(&self, number: &str) -> Req {
        req("POST", "verified_caller_ids").json(json!({ "number": number }))
    }
    fn enter(&self, _: &str, created: &Value, code: &str) -> Entry {
        let id = created["id"].as_str().unwrap();
        Entry::Api(
            req("PUT", &format!("verified_caller_ids/{id}/verification")).json(json!({ "verification_code": code })),
        )
    }
    fn get(&self, _: &str, id: &str) -> Option<Req> {
        Some(req("GET", &format!("verified_caller_ids/{id}")))
    }
    fn list(&self, size: usize, cursor: Option<&str>) -> Option<Req> {
        Some(match cursor {
            Some(next) => Req::new("GET", next).header("Authorization", basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN)),
            None => req("GET", &format!("verified_caller_ids?page_size={size}")),
        })
    }
    fn page(&self, body: &Value) -> (Vec<String>, Option<String>) {
        let numbers = body["data"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap().to_owned());
        (numbers.collect(), body["links"]["next"].as_str().map(str::to_owned))
    }
    fn rename(&self, _: &str, id: &str, label: &str) -> Option<Req> {
        Some(req("PUT", &format!("verified_caller_ids/{id}")).json(json!({ "name": label })))
    }
    fn delete(&self, _: &str, id: &str) -> Option<Req> {
        Some(req("DELETE", &format!("verified_caller_ids/{id}")))
    }
    /// The Space API: `{"error": "<reason>"}` for a status alone, `{"errors": [{code, title,
    /// detail, status}]}`; the Compatibility API: Twilio's `{code, message, more_info, status}`.
    fn is_refusal(&self, res: &Resp) -> bool {
        res.status >= 400
            && serde_json::from_str::<Value>(&res.body).is_ok_and(|b| {
                b["error"].is_string()
                    || (b["errors"][0]["code"].is_string() && b["errors"][0]["detail"].is_string())
                    || (b["code"].is_number() && b["more_info"].is_string() && b["status"] == res.status)
            })
    }
    fn no_route(&self) -> Req {
        req("GET", "nothing")
    }
    fn wrong_method(&self) -> Req {
        req("PATCH", "verified_caller_ids")
    }
    fn operations(&self) -> Vec<(&'static str, Req)> {
        let id = "00000000-0000-4000-8000-000000000000";
        let call = "CA00000000000000000000000000000000";
        vec![
            ("create", self.create("+12025550141")),
            ("list", self.list(2, None).unwrap()),
            ("fetch", self.get("", id).unwrap()),
            ("update", self.rename("", id, "x").unwrap()),
            ("delete", self.delete("", id).unwrap()),
            (
                "verify",
                req("PUT", &format!("verified_caller_ids/{id}/verification")).json(json!({ "verification_code": "1" })),
            ),
            ("redial", req("POST", &format!("verified_caller_ids/{id}/verification"))),
            ("create_call", laml("POST", "Calls.json").form("")),
            ("list_calls", laml("GET", "Calls.json")),
            ("fetch_call", laml("GET", &format!("Calls/{call}.json"))),
            ("update_call", laml("POST", &format!("Calls/{call}.json")).form("")),
            ("delete_call", laml("DELETE", &format!("Calls/{call}.json"))),
        ]
    }
}
