"""Verify a caller ID, then call from it: the call is refused before and placed after (Twilio's
Python SDK; `callerid-mock` running on its defaults)."""

import json
import os
import urllib.request

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

BASE = os.environ.get("CALLERID_MOCK_URL", "http://127.0.0.1:8484")
HELLO = "<Response><Say>Hello</Say></Response>"


def control(path, body=None):
    """GET a control-plane route, or POST a JSON body to it."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def test_verify_then_call():
    client = Client("AC" + "5" * 32, "authtoken")
    client.api.base_url = BASE
    control(f"/_mock/reset?account={client.account_sid}", {})
    with pytest.raises(TwilioRestException) as refused:       # not a verified caller ID yet
        client.calls.create(to="+14155550100", from_="+14158675309", twiml=HELLO)
    assert refused.value.code == 21210

    vr = client.validation_requests.create(phone_number="+14158675309")
    control(f"/_mock/calls/{vr.call_sid}/answer", {"digits": vr.validation_code})

    call = client.calls.create(to="+14155550100", from_="+14158675309", twiml=HELLO)
    control(f"/_mock/calls/{call.sid}/answer", {})             # the callee picks up
    control("/_mock/clock", {"advance": "1m"})                  # and hangs up after --call-duration
    assert client.calls(call.sid).fetch().status == "completed"
