"""Plivo with pytest: the code "sent", a wrong code, and expiry by moving the clock."""

import json
import os
import urllib.request

import plivo
import plivo.rest.client as plivo_client
import pytest
from plivo import exceptions

BASE = os.environ.get("CALLERID_MOCK_URL", "http://127.0.0.1:8484")
AUTH_ID = "MAEXAMPLEPLIVOPYTEST"

# The Plivo Python SDK has no base-URL option: it reads these module constants per request.
for name in ("PLIVO_API_BASE_URI", "API_VOICE_BASE_URI",
             "API_VOICE_BASE_URI_FALLBACK_1", "API_VOICE_BASE_URI_FALLBACK_2"):
    setattr(plivo_client, name, BASE + "/v1/Account")


def control(path, body=None):
    """GET a control-plane route, or POST a JSON body to it."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


@pytest.fixture
def client():
    control(f"/_mock/reset?account={AUTH_ID}", {})   # this test's account only
    return plivo.RestClient(AUTH_ID, "token")


def test_verifies_a_caller_id(client):
    uuid = client.verify_callerids.initiate_verify(phone_number="+12025551234").verification_uuid
    code = control("/_mock/codes/latest?number=%2B12025551234&wait=5s")["code"]
    with pytest.raises(exceptions.ValidationError):
        client.verify_callerids.verify_caller_id(uuid, otp="000000" if code != "000000" else "111111")
    assert client.verify_callerids.verify_caller_id(uuid, otp=code).phone_number == "+12025551234"


def test_an_expired_code_is_refused(client):
    uuid = client.verify_callerids.initiate_verify(phone_number="+14155552671").verification_uuid
    code = control("/_mock/codes/latest?number=%2B14155552671")["code"]
    control("/_mock/clock", {"advance": "16m"})
    with pytest.raises(exceptions.ValidationError):
        client.verify_callerids.verify_caller_id(uuid, otp=code)
