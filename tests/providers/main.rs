//! The provider contract kit: one suite that every provider runs from a row of its own
//! (`kit::Row`): the whole lifecycle (create → the code → a wrong code → the right one → get →
//! list across pages → update → delete → not found), auth errors, 404 and 405 in the provider's
//! shape, an injected 500 on every operation the server declares for it, a request to each of its
//! hosts through the proxy, the lifecycle again through the proxy (zero-touch), and at a small
//! state cap, every acknowledged create verified (past the room, the provider's refusal). Adding a
//! provider adds a file here with its row, and one line below.

#[path = "../common/mod.rs"]
mod common;
mod kit;

mod plivo;
mod seven;
mod signalwire;
mod telnyx;
mod twilio;

/// Runs the whole contract for one row: `contract!(name, Row)` makes one test per part.
macro_rules! contract {
    ($($module:ident),* $(,)?) => { mod contract {$(
        mod $module {
            use crate::kit;
            #[test]
            fn lifecycle() {
                kit::lifecycle(&crate::$module::Row, kit::Via::Direct);
            }
            #[test]
            fn lifecycle_through_the_proxy() {
                kit::lifecycle(&crate::$module::Row, kit::Via::Proxy);
            }
            #[test]
            fn refusals_in_the_providers_shape() {
                kit::refusals(&crate::$module::Row);
            }
            #[test]
            fn an_injected_500_on_every_operation() {
                kit::sweep(&crate::$module::Row);
            }
            #[test]
            fn every_host_through_the_proxy() {
                kit::hosts(&crate::$module::Row);
            }
            #[test]
            fn every_acknowledged_create_becomes_a_caller_id_at_the_cap() {
                kit::at_the_cap(&crate::$module::Row);
            }
        }
    )*} };
}

contract!(plivo, twilio, seven, telnyx, signalwire);

/// Every provider of the server has a row.
#[test]
fn every_provider_has_a_row() {
    let s = common::TestServer::start();
    let doc = s.get("/_mock/openapi.json").json();
    let mut names: Vec<String> = doc["components"]["schemas"]["Provider"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["plivo", "seven", "signalwire", "telnyx", "twilio"], "a provider without a row in the kit");
}
