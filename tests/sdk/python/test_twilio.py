"""The official Twilio Python SDK (twilio on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
"""

import os
import urllib.parse
import urllib.request

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from emulator import BASE, Receiver, control

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "pythontoken"  # twilio-go insists on alphanumeric tokens; keep the habit

# TWILIO_REGION / TWILIO_EDGE make the SDK rewrite the host; never let them leak in.
os.environ.pop("TWILIO_REGION", None)
os.environ.pop("TWILIO_EDGE", None)


def answer(call_sid, **body):
    return control(f"/_mock/calls/{call_sid}/answer", body)


@pytest.fixture
def client():
    control(f"/_mock/reset?account={ACCOUNT_SID}", {})
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.api.base_url = BASE
    return c


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def verify(client, number, **kwargs):
    vr = client.validation_requests.create(phone_number=number, **kwargs)
    return answer(vr.call_sid, digits=vr.validation_code)["caller_id"]


def test_the_whole_validation_flow_with_a_signed_callback(client, receiver):
    vr = client.validation_requests.create(phone_number="+14158675309", friendly_name="My Home Phone",
                                           status_callback=receiver.url)
    assert vr.account_sid == ACCOUNT_SID
    assert vr.call_sid.startswith("CA") and len(vr.call_sid) == 34
    assert vr.friendly_name == "My Home Phone" and vr.phone_number == "+14158675309"
    assert len(vr.validation_code) == 6

    ended = answer(vr.call_sid, digits=vr.validation_code)
    assert ended["state"] == "verified"

    callback = receiver.wait_for(1)[0]
    assert callback["method"] == "POST"
    params = dict(urllib.parse.parse_qsl(callback["body"]))
    assert params["VerificationStatus"] == "success"
    assert params["OutgoingCallerIdSid"] == ended["caller_id"]
    assert params["CallSid"] == vr.call_sid and params["To"] == "+14158675309"
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(receiver.url, params, callback["headers"]["X-Twilio-Signature"])
    assert not RequestValidator("wrong").validate(receiver.url, params, callback["headers"]["X-Twilio-Signature"])

    pn = ended["caller_id"]
    fetched = client.outgoing_caller_ids(pn).fetch()
    assert fetched.sid == pn and fetched.friendly_name == "My Home Phone"
    assert fetched.date_created is not None and fetched.date_created.year == 2026

    # More numbers, so that listing has to follow next_page_uri across pages.
    for n in ("+14158675301", "+14158675302", "+14158675303", "+14158675304"):
        verify(client, n)
    everything = client.outgoing_caller_ids.list(page_size=2)
    assert len(everything) == 5
    assert len({c.sid for c in everything}) == 5
    assert [c.phone_number for c in client.outgoing_caller_ids.list(phone_number="+14158675309")] == ["+14158675309"]
    assert [c.sid for c in client.outgoing_caller_ids.list(friendly_name="My Home Phone")] == [pn]
    assert len(client.outgoing_caller_ids.list(limit=3, page_size=2)) == 3

    control("/_mock/clock", {"advance": "1h"})
    updated = client.outgoing_caller_ids(pn).update(friendly_name="Renamed")
    assert updated.friendly_name == "Renamed"
    assert updated.date_updated > updated.date_created

    assert client.outgoing_caller_ids(pn).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.outgoing_caller_ids(pn).fetch()
    assert err.value.status == 404 and err.value.code == 20404


def test_wrong_digits_and_a_busy_line_fail_without_a_caller_id(client, receiver):
    vr = client.validation_requests.create(phone_number="+14158675309", status_callback=receiver.url)
    wrong = "000000" if vr.validation_code != "000000" else "111111"
    assert answer(vr.call_sid, digits=wrong)["state"] == "failed"
    busy = client.validation_requests.create(phone_number="+12025551234", status_callback=receiver.url,
                                             status_callback_method="GET")
    assert answer(busy.call_sid, outcome="busy")["call_status"] == "busy"

    # Each callback is delivered on its own: they may arrive in either order.
    first, second = sorted(receiver.wait_for(2), key=lambda r: r["method"] == "GET")
    failed = dict(urllib.parse.parse_qsl(first["body"]))
    assert failed["VerificationStatus"] == "failed" and "OutgoingCallerIdSid" not in failed
    assert second["method"] == "GET"
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(second["path"]).query))
    assert query["CallStatus"] == "busy" and query["VerificationStatus"] == "failed"
    full_url = receiver.origin + second["path"]
    assert RequestValidator(AUTH_TOKEN).validate(full_url, {}, second["headers"]["X-Twilio-Signature"])
    assert client.outgoing_caller_ids.list() == []


def test_errors_surface_as_twilio_rest_exceptions(client):
    verify(client, "+14158675309")
    with pytest.raises(TwilioRestException) as err:
        client.validation_requests.create(phone_number="+14158675309")
    assert (err.value.status, err.value.code) == (400, 21450)
    with pytest.raises(TwilioRestException) as err:
        client.validation_requests.create(phone_number="+12025551234", call_delay=61)
    assert (err.value.status, err.value.code) == (400, 21454)
    with pytest.raises(TwilioRestException) as err:
        client.outgoing_caller_ids("PN" + "0" * 32).update(friendly_name="x" * 65)
    assert (err.value.status, err.value.code) == (400, 20002)


CALLER, CALLEE = "+14158675309", "+14155550100"
TWIML = "<Response><Say>Hello</Say></Response>"


def status_callbacks(receiver, n):
    """The first `n` status callbacks, in the order Twilio numbered them."""
    got = [dict(urllib.parse.parse_qsl(r["body"])) | {"_signature": r["headers"]["X-Twilio-Signature"]}
           for r in receiver.wait_for(n)]
    return sorted(got, key=lambda p: int(p["SequenceNumber"]))


def test_a_call_is_refused_until_the_caller_id_is_verified_and_again_after_it_is_deleted(client, receiver):
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to=CALLEE, from_=CALLER, twiml=TWIML)
    assert (err.value.status, err.value.code) == (400, 21210)
    assert "is not yet verified for your account" in err.value.msg

    pn = verify(client, CALLER)
    app = Receiver("/voice", body='<Response><Dial callerId="+14158675309">+14155550123</Dial></Response>')
    try:
        call = client.calls.create(to=CALLEE, from_=CALLER, url=app.url, status_callback=receiver.url,
                                   status_callback_event=["initiated", "ringing", "answered", "completed"])
        assert call.sid.startswith("CA") and call.status == "queued" and call._from == CALLER
        assert client.calls(call.sid).fetch().status == "ringing"

        assert answer(call.sid)["state"] == "in-progress"
        document = app.wait_for(1)[0]
        params = dict(urllib.parse.parse_qsl(document["body"]))
        assert params["CallSid"] == call.sid and params["CallStatus"] == "in-progress"
        assert RequestValidator(AUTH_TOKEN).validate(app.url, params, document["headers"]["X-Twilio-Signature"])

        control("/_mock/clock", {"advance": "60s"})
        ended = client.calls(call.sid).fetch()
        assert (ended.status, ended.duration) == ("completed", "60")
        events = status_callbacks(receiver, 4)
        assert [e["CallStatus"] for e in events] == ["initiated", "ringing", "in-progress", "completed"]
        for e in events:
            signature = e.pop("_signature")
            assert RequestValidator(AUTH_TOKEN).validate(receiver.url, e, signature)
        assert [c.sid for c in client.calls.list(status="completed", from_=CALLER)] == [call.sid]
    finally:
        app.close()

    client.outgoing_caller_ids(pn).delete()
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to=CALLEE, from_=CALLER, twiml=TWIML)
    assert err.value.code == 21210


def test_an_owned_number_calls_and_a_dial_caller_id_is_held_to_the_same_rule(client):
    owned = {"provider": "twilio", "account": ACCOUNT_SID, "number": "+14155550199"}
    control("/_mock/numbers", owned)
    call = client.calls.create(to=CALLEE, from_="+14155550199",
                               twiml='<Response><Dial callerId="+14155550177">+14155550123</Dial></Response>')
    answer(call.sid)
    assert client.calls(call.sid).fetch().status == "completed"
    seen = control(f"/_mock/calls?provider=twilio&account={ACCOUNT_SID}&limit=1")["calls"][0]
    assert seen["id"] == call.sid and seen["error"]["code"] == "13214"

    ringing = client.calls.create(to=CALLEE, from_="+14155550199", twiml=TWIML)
    assert client.calls(ringing.sid).update(status="canceled").status == "canceled"
    assert client.calls(ringing.sid).delete() is True
    req = urllib.request.Request(f"{BASE}/_mock/numbers?provider=twilio&account={ACCOUNT_SID}&number=%2B14155550199",
                                 method="DELETE")
    urllib.request.urlopen(req).close()
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to=CALLEE, from_="+14155550199", twiml=TWIML)
    assert err.value.code == 21210
