//! Twilio's row: the 2010 `OutgoingCallerIds` under `/2010-04-01/Accounts/{Sid}/`, HTTP Basic;
//! the person keys the code in during the validation call.

use serde_json::Value;

use crate::common::{ACCOUNT_SID, Resp, TWILIO_BASIC, encode};
use crate::kit::{self, Entry, Req};

pub struct Row;

fn req(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/2010-04-01/Accounts/{ACCOUNT_SID}/{rest}")).header("Authorization", TWILIO_BASIC)
}

impl kit::Row for Row {
    fn name(&self) -> &'static str {
        "twilio"
    }
    fn account(&self) -> &'static str {
        ACCOUNT_SID
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["api.twilio.com", "api.au1.twilio.com", "api.sydney.au1.twilio.com"]
    }
    fn create(&self, number: &str) -> Req {
        req("POST", "OutgoingCallerIds.json").form(&format!("PhoneNumber={}", encode(number)))
    }
    fn enter(&self, _: &str, _: &Value, _: &str) -> Entry {
        Entry::Keypad
    }
    fn get(&self, _: &str, id: &str) -> Option<Req> {
        Some(req("GET", &format!("OutgoingCallerIds/{id}.json")))
    }
    fn list(&self, size: usize, cursor: Option<&str>) -> Option<Req> {
        Some(match cursor {
            Some(uri) => Req::new("GET", uri).header("Authorization", TWILIO_BASIC),
            None => req("GET", &format!("OutgoingCallerIds.json?PageSize={size}")),
        })
    }
    fn page(&self, body: &Value) -> (Vec<String>, Option<String>) {
        let numbers = body["outgoing_caller_ids"].as_array().unwrap().iter();
        let numbers = numbers.map(|c| c["phone_number"].as_str().unwrap().to_owned()).collect();
        (numbers, body["next_page_uri"].as_str().map(str::to_owned))
    }
    fn rename(&self, _: &str, id: &str, label: &str) -> Option<Req> {
        Some(req("POST", &format!("OutgoingCallerIds/{id}.json")).form(&format!("FriendlyName={}", encode(label))))
    }
    fn delete(&self, _: &str, id: &str) -> Option<Req> {
        Some(req("DELETE", &format!("OutgoingCallerIds/{id}.json")))
    }
    fn is_refusal(&self, res: &Resp) -> bool {
        res.status >= 400
            && serde_json::from_str::<Value>(&res.body).is_ok_and(|b| {
                b["code"].is_number()
                    && b["message"].is_string()
                    && b["more_info"].is_string()
                    && b["status"] == res.status
            })
    }
    fn no_route(&self) -> Req {
        req("GET", "Nothing.json")
    }
    fn wrong_method(&self) -> Req {
        req("PATCH", "OutgoingCallerIds.json")
    }
    fn operations(&self) -> Vec<(&'static str, Req)> {
        let sid = "PN00000000000000000000000000000000";
        let call = "CA00000000000000000000000000000000";
        vec![
            ("create", self.create("+12025550141")),
            ("list", self.list(2, None).unwrap()),
            ("fetch", self.get("", sid).unwrap()),
            ("update", self.rename("", sid, "x").unwrap()),
            ("delete", self.delete("", sid).unwrap()),
            ("create_call", req("POST", "Calls.json").form("")),
            ("list_calls", req("GET", "Calls.json")),
            ("fetch_call", req("GET", &format!("Calls/{call}.json"))),
            ("update_call", req("POST", &format!("Calls/{call}.json")).form("")),
            ("delete_call", req("DELETE", &format!("Calls/{call}.json"))),
        ]
    }
}
