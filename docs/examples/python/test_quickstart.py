"""The quick start: each provider's official Python SDK pointed at callerid-mock, one whole
verification each. Run it with `pytest` while `callerid-mock` runs on its defaults."""

import json
import os
import urllib.request

import plivo
import plivo.rest.client as plivo_client
import telnyx
from sms77api.Sms77api import Sms77api
from twilio.rest import Client as Twilio

BASE = os.environ.get("CALLERID_MOCK_URL", "http://127.0.0.1:8484")


def control(path, body=None):
    """GET a control-plane route, or POST a JSON body to it."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def test_plivo():   # the code goes by SMS; the application submits it
    for name in ("PLIVO_API_BASE_URI", "API_VOICE_BASE_URI",
                 "API_VOICE_BASE_URI_FALLBACK_1", "API_VOICE_BASE_URI_FALLBACK_2"):
        setattr(plivo_client, name, BASE + "/v1/Account")
    client = plivo.RestClient("MAQUICKSTARTXXXXXXXX", "token")
    control("/_mock/reset?account=MAQUICKSTARTXXXXXXXX", {})
    uuid = client.verify_callerids.initiate_verify(phone_number="+12025550101").verification_uuid
    code = control("/_mock/codes/latest?number=%2B12025550101")["code"]
    client.verify_callerids.verify_caller_id(uuid, otp=code)
    assert client.verify_callerids.get_verified_caller_id("+12025550101").phone_number == "+12025550101"


def test_twilio():   # Twilio calls the number; the person on the phone keys the code in
    client = Twilio("ACf0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", "authtoken")
    client.api.base_url = BASE
    control("/_mock/reset?account=ACf0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", {})
    vr = client.validation_requests.create(phone_number="+12025550102", friendly_name="Office")
    control(f"/_mock/calls/{vr.call_sid}/answer", {"digits": vr.validation_code})
    assert [c.phone_number for c in client.outgoing_caller_ids.list()] == ["+12025550102"]


def test_seven():   # seven calls the number too; the code is in the answer
    client = Sms77api("QUICKSTART-SEVEN-KEY")
    client.baseUrl = BASE + "/api"
    control("/_mock/reset?account=QUICKSTART-SEVEN-KEY", {})
    issued = client.validate_for_voice("491632429751")
    pending = control("/_mock/codes/latest?provider=seven&number=%2B491632429751")
    control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})
    assert client.validate_for_voice("491632429751")["voice"] is True   # now a saved caller ID


def test_telnyx():   # the code goes by SMS (or a call); the application submits it
    client = telnyx.Telnyx(api_key="KEYQUICKSTARTTELNYX", base_url=BASE + "/v2")
    control("/_mock/reset?account=KEYQUICKSTARTTELNYX", {})
    client.verified_numbers.create(phone_number="+12025550104", verification_method="sms")
    code = control("/_mock/codes/latest?number=%2B12025550104")["code"]
    client.verified_numbers.actions.submit_verification_code("+12025550104", verification_code=code)
    assert client.verified_numbers.retrieve("+12025550104").data.phone_number == "+12025550104"
