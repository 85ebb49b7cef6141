//! Telnyx's row: Verified Numbers under `/v2`, `Authorization: Bearer`; the code goes by SMS and
//! the application submits it. Telnyx has no update for a verified number.

use serde_json::{Value, json};

use crate::common::{Resp, TELNYX_KEY};
use crate::kit::{self, Entry, Req};

pub struct Row;

fn req(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/v2/{rest}")).header("Authorization", format!("Bearer {TELNYX_KEY}"))
}

impl kit::Row for Row {
    fn name(&self) -> &'static str {
        "telnyx"
    }
    fn account(&self) -> &'static str {
        TELNYX_KEY
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["api.telnyx.com"]
    }
    fn create(&self, number: &str) -> Req {
        req("POST", "verified_numbers").json(json!({ "phone_number": number, "verification_method": "sms" }))
    }
    fn enter(&self, number: &str, _: &Value, code: &str) -> Entry {
        let path = format!("verified_numbers/{number}/actions/verify");
        Entry::Api(req("POST", &path).json(json!({ "verification_code": code })))
    }
    fn get(&self, number: &str, _: &str) -> Option<Req> {
        Some(req("GET", &format!("verified_numbers/{number}")))
    }
    fn list(&self, size: usize, cursor: Option<&str>) -> Option<Req> {
        Some(req("GET", &format!("verified_numbers?page[size]={size}&page[number]={}", cursor.unwrap_or("1"))))
    }
    fn page(&self, body: &Value) -> (Vec<String>, Option<String>) {
        let numbers = body["data"].as_array().unwrap().iter().map(|c| c["phone_number"].as_str().unwrap().to_owned());
        let (page, pages) =
            (body["meta"]["page_number"].as_u64().unwrap(), body["meta"]["total_pages"].as_u64().unwrap());
        (numbers.collect(), (page < pages).then(|| (page + 1).to_string()))
    }
    fn rename(&self, _: &str, _: &str, _: &str) -> Option<Req> {
        None
    }
    fn delete(&self, number: &str, _: &str) -> Option<Req> {
        Some(req("DELETE", &format!("verified_numbers/{number}")))
    }
    fn is_refusal(&self, res: &Resp) -> bool {
        res.status >= 400
            && serde_json::from_str::<Value>(&res.body)
                .is_ok_and(|b| b["errors"][0]["code"].is_string() && b["errors"][0]["title"].is_string())
    }
    fn no_route(&self) -> Req {
        req("GET", "nothing")
    }
    fn wrong_method(&self) -> Req {
        req("PUT", "verified_numbers")
    }
    fn operations(&self) -> Vec<(&'static str, Req)> {
        let id = "v3:0000";
        vec![
            ("create", self.create("+12025550141")),
            (
                "verify",
                req("POST", "verified_numbers/+12025550141/actions/verify").json(json!({ "verification_code": "1" })),
            ),
            ("get", self.get("+12025550141", "").unwrap()),
            ("list", self.list(2, None).unwrap()),
            ("delete", self.delete("+12025550141", "").unwrap()),
            ("dial", req("POST", "calls").json(json!({}))),
            ("call_status", req("GET", &format!("calls/{id}"))),
            ("hangup", req("POST", &format!("calls/{id}/actions/hangup")).json(json!({}))),
        ]
    }
}
