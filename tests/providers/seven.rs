//! seven's row: `validate_for_voice` under `/api`, the key in `X-Api-Key`; the person keys the
//! code in during the validation call. seven has no API to read, list, rename or delete a
//! validated caller ID: those steps are not offered.

use serde_json::{Value, json};

use crate::common::{Resp, SEVEN_KEY, encode};
use crate::kit::{self, Entry, Req};

pub struct Row;

fn req(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/api/{rest}")).header("X-Api-Key", SEVEN_KEY)
}

impl kit::Row for Row {
    fn name(&self) -> &'static str {
        "seven"
    }
    fn account(&self) -> &'static str {
        SEVEN_KEY
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["gateway.seven.io", "gateway.sms77.io"]
    }
    fn create(&self, number: &str) -> Req {
        req("POST", &format!("validate_for_voice?number={}", encode(number)))
    }
    fn enter(&self, _: &str, _: &Value, _: &str) -> Entry {
        Entry::Keypad
    }
    fn get(&self, _: &str, _: &str) -> Option<Req> {
        None
    }
    fn list(&self, _: usize, _: Option<&str>) -> Option<Req> {
        None
    }
    fn page(&self, _: &Value) -> (Vec<String>, Option<String>) {
        unreachable!("seven lists no caller IDs")
    }
    fn rename(&self, _: &str, _: &str, _: &str) -> Option<Req> {
        None
    }
    fn delete(&self, _: &str, _: &str) -> Option<Req> {
        None
    }
    /// The bare `900` for a bad key, else `{"success": false, "error"}`.
    fn is_refusal(&self, res: &Resp) -> bool {
        res.body == "900"
            || serde_json::from_str::<Value>(&res.body).is_ok_and(|b| b["success"] == false && b["error"].is_string())
    }
    fn no_route(&self) -> Req {
        req("GET", "nothing")
    }
    fn wrong_method(&self) -> Req {
        req("DELETE", "validate_for_voice")
    }
    fn operations(&self) -> Vec<(&'static str, Req)> {
        vec![
            ("validate_for_voice", self.create("+12025550141")),
            ("voice", req("POST", "voice").json(json!({ "to": "+12025550141", "text": "hi", "from": "+12025550142" }))),
            ("voice_hangup", req("POST", "voice/123/hangup")),
            ("journal_voice", req("GET", "journal/voice")),
        ]
    }
}
