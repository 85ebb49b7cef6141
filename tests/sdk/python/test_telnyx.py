"""The official Telnyx Python SDK (telnyx on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL. The SDK takes
the base URL as `base_url=` (or TELNYX_BASE_URL); the API key is the emulator's account.
"""

import re
import urllib.request

import pytest
import telnyx

from emulator import BASE, Receiver, control

API_KEY = "KEYPYTHON0123456789"


def latest_code(number):
    return control(f"/_mock/codes?account={API_KEY}&number={number.replace('+', '%2B')}")["codes"][0]


@pytest.fixture
def client():
    control(f"/_mock/reset?account={API_KEY}", {})
    return telnyx.Telnyx(api_key=API_KEY, base_url=BASE + "/v2")


def verify(client, number, method="sms"):
    client.verified_numbers.create(phone_number=number, verification_method=method)
    code = latest_code(number)["code"]
    return client.verified_numbers.actions.submit_verification_code(number, verification_code=code)


def test_the_whole_lifecycle(client):
    started = client.verified_numbers.create(phone_number="+12025551234", verification_method="sms")
    assert started.phone_number == "+12025551234" and started.verification_method == "sms"
    sent = latest_code("+12025551234")
    assert sent["channel"] == "sms" and sent["state"] == "pending" and len(sent["code"]) == 6

    wrong = "000000" if sent["code"] != "000000" else "111111"
    with pytest.raises(telnyx.BadRequestError) as err:
        client.verified_numbers.actions.submit_verification_code("+12025551234", verification_code=wrong)
    assert err.value.status_code == 400
    assert err.value.body["errors"][0]["code"] == "10015"

    done = client.verified_numbers.actions.submit_verification_code("+12025551234", verification_code=sent["code"])
    assert done.data.phone_number == "+12025551234" and done.data.record_type == "verified_number"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", done.data.verified_at)

    got = client.verified_numbers.retrieve("+12025551234")
    assert got.data.phone_number == "+12025551234"

    # By call (with an IVR extension), then more than one page of 2.
    verify(client, "+12025551235", "call")
    verify(client, "+12025551236")
    page = client.verified_numbers.list(page_size=2)
    assert [n.phone_number for n in page.data] == ["+12025551236", "+12025551235"]
    assert page.meta.page_number == 1 and page.meta.total_pages == 2
    assert page.has_next_page()
    numbers = [n.phone_number for n in client.verified_numbers.list(page_size=2)]
    assert numbers == ["+12025551236", "+12025551235", "+12025551234"], "auto-paging reads both pages"

    removed = client.verified_numbers.delete("+12025551234")
    assert removed.data.phone_number == "+12025551234"
    with pytest.raises(telnyx.NotFoundError) as err:
        client.verified_numbers.retrieve("+12025551234")
    assert err.value.body["errors"][0]["title"] == "Resource not found"


def test_a_call_with_an_extension_and_the_sdks_validation_errors(client):
    started = client.verified_numbers.create(phone_number="+12025551237", verification_method="call",
                                             extension="ww243w1")
    assert started.verification_method == "call"
    assert latest_code("+12025551237")["call_status"] == "completed"

    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.verified_numbers.create(phone_number="12025551237", verification_method="sms")
    assert err.value.body["errors"][0]["code"] == "10016"

    with pytest.raises(telnyx.NotFoundError):
        client.verified_numbers.actions.submit_verification_code("+12025559999", verification_code="123456")


def test_a_dial_is_refused_until_the_number_is_verified_and_its_events_verify(client):
    key = next(k["key"] for k in control("/_mock/keys")["keys"] if k["provider"] == "telnyx")
    signed = telnyx.Telnyx(api_key=API_KEY, base_url=BASE + "/v2", public_key=key)
    hooks = Receiver("/telnyx")
    try:
        def dial():
            return client.calls.dial(connection_id="1494404757140276705", from_="+12025551234", to="+14155550100",
                                     webhook_url=hooks.url, client_state="aGk=")

        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            dial()
        assert err.value.status_code == 422 and err.value.body["errors"][0]["code"] == "10015"

        verify(client, "+12025551234")
        call = dial().data
        assert call.call_control_id.startswith("v3:") and call.record_type == "call" and call.is_alive is False
        assert client.calls.retrieve_status(call.call_control_id).data.is_alive is True

        control(f"/_mock/calls/{call.call_control_id}/answer", {})
        control("/_mock/clock", {"advance": "20s"})
        assert client.calls.actions.hangup(call.call_control_id).data.result == "ok"
        status = client.calls.retrieve_status(call.call_control_id).data
        assert (status.is_alive, status.call_duration) == (False, 20)

        events = [signed.webhooks.unwrap(r["body"], headers=r["headers"]) for r in hooks.wait_for(3)]
        assert sorted(e.data.event_type for e in events) == ["call.answered", "call.hangup", "call.initiated"]
        hangup = next(e for e in events if e.data.event_type == "call.hangup")
        assert (hangup.data.payload.hangup_cause, hangup.data.payload.hangup_source) == ("normal_clearing", "caller")
        with pytest.raises(ValueError):
            signed.webhooks.unwrap(hooks.requests[0]["body"].replace("call.", "call_"), headers=hooks.requests[0]["headers"])

        client.verified_numbers.delete("+12025551234")
        with pytest.raises(telnyx.UnprocessableEntityError):
            dial()
        control("/_mock/numbers", {"provider": "telnyx", "account": API_KEY, "number": "+12025551234"})
        owned_call = dial().data
        assert owned_call.call_control_id.startswith("v3:"), "a number the account owns dials too"
        # Hang it up while the receiver listens: a call left ringing would send its events to a
        # later test's receiver on the same port when the clock moves on.
        client.calls.actions.hangup(owned_call.call_control_id)
        owned = f"{BASE}/_mock/numbers?provider=telnyx&account={API_KEY}&number=%2B12025551234"
        urllib.request.urlopen(urllib.request.Request(owned, method="DELETE")).close()
    finally:
        hooks.close()
