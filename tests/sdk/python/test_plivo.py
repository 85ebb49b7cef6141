"""The official Plivo Python SDK (plivo on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
"""

import urllib.parse
import urllib.request

import plivo
import plivo.rest.client as plivo_client
import pytest
from plivo import exceptions
from plivo.utils import validate_signature, validate_v3_signature

from emulator import BASE, Receiver, control

AUTH_ID = "MAPYTHONXXXXXXXXXXXX"

# The SDK has no base-URL option: it reads these module constants at request time.
for name in ("PLIVO_API_BASE_URI", "API_VOICE_BASE_URI",
             "API_VOICE_BASE_URI_FALLBACK_1", "API_VOICE_BASE_URI_FALLBACK_2"):
    setattr(plivo_client, name, BASE + "/v1/Account")


def latest_code(number):
    codes = control(f"/_mock/codes?account={AUTH_ID}&number={number.replace('+', '%2B')}")["codes"]
    return codes[0]


@pytest.fixture
def client():
    control(f"/_mock/reset?account={AUTH_ID}", {})
    return plivo.RestClient(AUTH_ID, "token123")


def verify(client, number, **kwargs):
    uuid = client.verify_callerids.initiate_verify(phone_number=number, **kwargs).verification_uuid
    return client.verify_callerids.verify_caller_id(uuid, otp=latest_code(number)["code"])


def test_every_operation_end_to_end(client):
    api = client.verify_callerids
    started = api.initiate_verify(phone_number="+12025551234", alias="Main Office", channel="call")
    assert started.message == \
        "Verification code is sent to number +12025551234 which is valid for 15 minutes"
    sent = latest_code("+12025551234")
    assert sent["id"] == started.verification_uuid
    assert sent["channel"] == "call" and sent["state"] == "pending" and len(sent["code"]) == 6

    wrong = "000000" if sent["code"] != "000000" else "111111"
    with pytest.raises(exceptions.ValidationError) as err:
        api.verify_caller_id(started.verification_uuid, otp=wrong)
    assert str(err.value) == "invalid OTP; 4 attempts remaining"

    verified = api.verify_caller_id(started.verification_uuid, otp=sent["code"])
    assert verified.phone_number == "+12025551234"
    assert verified.country == "US" and verified.channel == "call" and verified.alias == "Main Office"
    assert latest_code("+12025551234")["state"] == "verified"

    got = api.get_verified_caller_id("+12025551234")
    assert got.verification_uuid == started.verification_uuid
    assert got.subaccount == "" and got.modified_at == got.created_at

    verify(client, "+919768368717", alias="Bangalore", subaccount="SAMTU0Y2FKNGETYZDKNI")
    listed = api.list_verified_caller_id(country="IN", limit=20, offset=0)
    assert listed.meta["total_count"] == 1
    assert listed.objects[0].phone_number == "+919768368717"
    assert listed.objects[0].resource_uri == f"/v1/Account/{AUTH_ID}/VerifiedCallerId/919768368717"
    assert api.list_verified_caller_id(alias="Main Office").meta["total_count"] == 1
    assert api.list_verified_caller_id(subaccount="SAMTU0Y2FKNGETYZDKNI").meta["total_count"] == 1
    page = api.list_verified_caller_id(limit=1, offset=0)
    assert page.meta["next"] == f"/v1/Account/{AUTH_ID}/VerifiedCallerId/?limit=1&offset=1"

    updated = api.update_verified_caller_id("+12025551234", alias="New", subaccount="SAXXXXXXXXXXXXXXXXXX")
    assert updated.alias == "New" and updated.subaccount == "SAXXXXXXXXXXXXXXXXXX"

    assert api.delete_verified_caller_id("+12025551234") is None
    with pytest.raises(exceptions.ResourceNotFoundError) as err:
        api.get_verified_caller_id("+12025551234")
    assert str(err.value) == "not found"


def test_an_expired_otp_raises_validation_error(client):
    api = client.verify_callerids
    uuid = api.initiate_verify(phone_number="+14155552671").verification_uuid
    code = latest_code("+14155552671")["code"]
    control("/_mock/clock", {"advance": "16m"})
    with pytest.raises(exceptions.ValidationError) as err:
        api.verify_caller_id(uuid, otp=code)
    assert "expired" in str(err.value)
    assert latest_code("+14155552671")["state"] == "expired"


def test_invalid_numbers_and_unknown_uuids_raise(client):
    api = client.verify_callerids
    with pytest.raises(exceptions.ValidationError) as err:
        api.initiate_verify(phone_number="+1234")
    assert str(err.value) == "The number +1234 is not a valid number"
    with pytest.raises(exceptions.ResourceNotFoundError):
        api.verify_caller_id("2e68eb73-4d54-4391-bc98-71cd380911a4", otp="123456")


def test_a_call_is_refused_until_the_caller_id_is_verified_and_again_after_it_is_deleted(client):
    hooks = Receiver("/hangup")
    app = Receiver("/answer", body="<Response><Dial callerId=\"+12025551234\"><Number>14155550123</Number></Dial></Response>")
    try:
        def call():
            return client.calls.create(from_="+12025551234", to_="14155550100", answer_url=app.url,
                                       hangup_url=hooks.url, caller_name="Support")

        with pytest.raises(exceptions.ValidationError) as err:
            call()
        assert "from is neither" in str(err.value)

        verify(client, "+12025551234")
        fired = call()
        assert fired.message == "call fired" and len(fired.request_uuid) == 36
        live = client.live_calls.get(fired.request_uuid)
        assert (live.call_status, live.to, live.caller_name) == ("ringing", "14155550100", "Support")
        assert client.live_calls.list_ids().calls == [fired.request_uuid]

        control(f"/_mock/calls/{fired.request_uuid}/answer", {})
        asked = app.wait_for(1)[0]
        params = dict(urllib.parse.parse_qsl(asked["body"]))
        assert params["Event"] == "StartApp" and params["CallUUID"] == fired.request_uuid
        headers = asked["headers"]
        assert validate_v3_signature("POST", app.url, headers["X-Plivo-Signature-V3-Nonce"], "token123",
                                     headers["X-Plivo-Signature-V3"], params)
        assert not validate_v3_signature("POST", app.url, headers["X-Plivo-Signature-V3-Nonce"], "wrong",
                                         headers["X-Plivo-Signature-V3"], params)
        assert validate_signature(app.url, headers["X-Plivo-Signature-V2-Nonce"], headers["X-Plivo-Signature-V2"],
                                  "token123")

        control("/_mock/clock", {"advance": "30s"})
        client.calls.delete(fired.request_uuid)
        ended = hooks.wait_for(1)[0]
        params = dict(urllib.parse.parse_qsl(ended["body"]))
        assert (params["HangupCauseCode"], params["HangupSource"], params["Duration"]) == ("4000", "API Request", "30")
        assert validate_v3_signature("POST", hooks.url, ended["headers"]["X-Plivo-Signature-V3-Nonce"], "token123",
                                     ended["headers"]["X-Plivo-Signature-V3"], params)
        record = client.calls.get(fired.request_uuid)
        assert (record.call_duration, record.hangup_cause_name, record.to_number) == (30, "Normal Hangup", "14155550100")
        assert [c.call_uuid for c in client.calls.list(limit=5)] == [fired.request_uuid]
        with pytest.raises(exceptions.ResourceNotFoundError):
            client.calls.delete(fired.request_uuid)

        client.verify_callerids.delete_verified_caller_id("+12025551234")
        with pytest.raises(exceptions.ValidationError):
            call()
        control("/_mock/numbers", {"provider": "plivo", "account": AUTH_ID, "number": "+12025551234"})
        owned_call = call()
        assert owned_call.message == "call fired", "an owned number calls"
        # Hang it up while its hangup_url still listens: a call left ringing would call back a
        # later test's receiver on the same port when the clock moves on.
        client.calls.delete(owned_call.request_uuid)
        hooks.wait_for(2)
        owned = urllib.request.Request(f"{BASE}/_mock/numbers?provider=plivo&account={AUTH_ID}&number=%2B12025551234",
                                       method="DELETE")
        urllib.request.urlopen(owned).close()
    finally:
        hooks.close()
        app.close()
