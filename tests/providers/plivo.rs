//! Plivo's row: `VerifiedCallerId` under `/v1/Account/{auth_id}/`, HTTP Basic.

use serde_json::{Value, json};

use crate::common::{AUTH_ID, BASIC, Resp};
use crate::kit::{self, Entry, Req};

pub struct Row;

fn req(method: &'static str, rest: &str) -> Req {
    Req::new(method, format!("/v1/Account/{AUTH_ID}/{rest}")).header("Authorization", BASIC)
}

impl kit::Row for Row {
    fn name(&self) -> &'static str {
        "plivo"
    }
    fn account(&self) -> &'static str {
        AUTH_ID
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["api.plivo.com"]
    }
    fn create(&self, number: &str) -> Req {
        req("POST", "VerifiedCallerId/").json(json!({ "phone_number": number }))
    }
    fn enter(&self, _: &str, created: &Value, code: &str) -> Entry {
        let uuid = created["verification_uuid"].as_str().unwrap();
        Entry::Api(req("POST", &format!("VerifiedCallerId/Verification/{uuid}/")).json(json!({ "otp": code })))
    }
    fn get(&self, number: &str, _: &str) -> Option<Req> {
        Some(req("GET", &format!("VerifiedCallerId/{number}/")))
    }
    fn list(&self, size: usize, cursor: Option<&str>) -> Option<Req> {
        Some(req("GET", &format!("VerifiedCallerId/?limit={size}&offset={}", cursor.unwrap_or("0"))))
    }
    fn page(&self, body: &Value) -> (Vec<String>, Option<String>) {
        let numbers =
            body["objects"].as_array().unwrap().iter().map(|c| c["phone_number"].as_str().unwrap().to_owned());
        let next = body["meta"]["next"]
            .as_str()
            .map(|next| next.rsplit("offset=").next().unwrap().split('&').next().unwrap().to_owned());
        (numbers.collect(), next)
    }
    fn rename(&self, number: &str, _: &str, label: &str) -> Option<Req> {
        Some(req("POST", &format!("VerifiedCallerId/{number}/")).json(json!({ "alias": label })))
    }
    fn delete(&self, number: &str, _: &str) -> Option<Req> {
        Some(req("DELETE", &format!("VerifiedCallerId/{number}/")))
    }
    /// `{"api_id", "error"}`; a 401 has no `api_id`, as Plivo's gateway answers it.
    fn is_refusal(&self, res: &Resp) -> bool {
        res.status >= 400
            && serde_json::from_str::<Value>(&res.body)
                .is_ok_and(|b| b["error"].is_string() && (b["api_id"].is_string() || res.status == 401))
    }
    fn no_route(&self) -> Req {
        req("GET", "Nothing/")
    }
    fn wrong_method(&self) -> Req {
        req("PATCH", "VerifiedCallerId/")
    }
    fn operations(&self) -> Vec<(&'static str, Req)> {
        let uuid = "11111111-1111-4111-8111-111111111111";
        vec![
            ("initiate", self.create("+12025550141")),
            ("verify", req("POST", &format!("VerifiedCallerId/Verification/{uuid}/")).json(json!({ "otp": "1" }))),
            ("get", self.get("+12025550141", "").unwrap()),
            ("list", self.list(2, None).unwrap()),
            ("update", self.rename("+12025550141", "", "x").unwrap()),
            ("delete", self.delete("+12025550141", "").unwrap()),
            ("create_call", req("POST", "Call/").json(json!({}))),
            ("list_calls", req("GET", "Call/")),
            ("get_call", req("GET", &format!("Call/{uuid}/"))),
            ("transfer_call", req("POST", &format!("Call/{uuid}/")).json(json!({}))),
            ("hangup_call", req("DELETE", &format!("Call/{uuid}/"))),
            ("cancel_call", req("DELETE", &format!("Request/{uuid}/"))),
        ]
    }
}
