"""pytest with the callerid-mock package (pip install callerid-mock): the `callerid_mock`
fixture is one emulator for the whole run, reset before each test."""

import plivo
import plivo.rest.client as plivo_client
from twilio.rest import Client


def test_plivo(callerid_mock):
    for name in ("PLIVO_API_BASE_URI", "API_VOICE_BASE_URI",
                 "API_VOICE_BASE_URI_FALLBACK_1", "API_VOICE_BASE_URI_FALLBACK_2"):
        setattr(plivo_client, name, callerid_mock.url + "/v1/Account")
    client = plivo.RestClient("MAXXXXXXXXXXXXXXXXXX", "token")
    uuid = client.verify_callerids.initiate_verify(phone_number="+12025551234").verification_uuid
    code = callerid_mock.latest_code("+12025551234")
    assert client.verify_callerids.verify_caller_id(uuid, otp=code).phone_number == "+12025551234"


def test_twilio(callerid_mock):
    client = Client("AC" + "1" * 32, "token")
    client.api.base_url = callerid_mock.url
    vr = client.validation_requests.create(phone_number="+14158675309")
    callerid_mock.answer(vr.call_sid, digits=callerid_mock.latest_code("+14158675309"))
    assert [c.phone_number for c in client.outgoing_caller_ids.list()] == ["+14158675309"]


def test_twilio_with_production_settings(callerid_mock_env):
    client = Client("AC" + "1" * 32, "token")  # nothing pointed anywhere: the proxy and CA do it
    vr = client.validation_requests.create(phone_number="+14158675309")
    callerid_mock_env.answer(vr.call_sid, outcome="busy")
    assert client.outgoing_caller_ids.list() == []
