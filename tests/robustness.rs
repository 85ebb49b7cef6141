//! Bad input never gets a 5xx, and the server keeps serving.

mod common;

use common::{BASIC, TestServer};

#[test]
fn garbage_never_gets_a_5xx_and_the_server_keeps_serving() {
    let s = TestServer::start();
    let paths = [
        "/",
        "/v1",
        "/v1/Account",
        "/v1/Account//VerifiedCallerId/",
        "/v1/Account/MA/VerifiedCallerId/%ZZ/",
        "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/Verification/",
        "/_mock/codes?number=%FF",
        "/_mock/clock",
        "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/?limit=abc&offset=%%",
        "/%00",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds.json",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds/..json",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds.json?PageSize=%FF&PageToken=PA",
        "/2010-04-01/Accounts",
        "/api/validate_for_voice?p=K&number=%00",
        "/api/validate_for_voice?p=K&callback=ftp://x&number=491632429751",
        "/_mock/calls/x/answer",
        "/_mock/faults",
        "/_mock/state",
        "/_mock/codes/latest?wait=%FF",
    ];
    let bodies = [
        "",
        "{",
        "[1,2]",
        "\"\"",
        "null",
        "{\"phone_number\":{\"a\":1}}",
        "{\"otp\":123456}",
        "\u{0}\u{1}",
        "PhoneNumber=%2B1&CallDelay=-1&StatusCallback=x",
        "{\"accounts\":[{}]}",
        "{\"action\":\"error\",\"status\":700}",
    ];
    for path in paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            for body in bodies {
                let res = s.request(method, path, &[("Authorization", BASIC)], body);
                assert!(res.status < 500, "{method} {path} {body:?} -> {}", res.status);
            }
        }
    }
    let big = "x".repeat(100 * 1024);
    assert_eq!(
        s.request("POST", "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/", &[("Authorization", BASIC)], &big)
            .status,
        413
    );
    assert_eq!(s.get("/_mock/health").status, 200);
}
