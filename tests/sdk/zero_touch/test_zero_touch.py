"""Zero-touch: the official Python SDKs built with production settings (no base URL, no patched
constants) reach callerid-mock through its proxy, with only the environment that
`callerid-mock env` prints. Run by tests/sdk/run.sh inside that environment.
"""

import os
import sys
from pathlib import Path

import plivo
import pytest
import telnyx
from signalwire.rest import RequestOptions
from signalwire.rest import RestClient as SignalWire
from sms77api.Sms77api import Sms77api
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as Twilio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
from emulator import Receiver, control  # noqa: E402  (the control plane is on 127.0.0.1: NO_PROXY)
import test_signalwire as signalwire_flows  # noqa: E402  (a module, so pytest collects none of its tests here)


def test_the_environment_is_all_there_is():
    assert os.environ["HTTPS_PROXY"].startswith("http://127.0.0.1:")
    assert os.environ["REQUESTS_CA_BUNDLE"].endswith("bundle.pem")
    assert Twilio("AC" + "0" * 32, "t").api.base_url == "https://api.twilio.com"


def test_twilio():
    sid = "AC7777777777777777777777777777777a"
    control(f"/_mock/reset?account={sid}", {})
    client = Twilio(sid, "zerotouch")
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to="+14155550100", from_="+14158675309", twiml="<Response/>")
    assert err.value.code == 21210
    vr = client.validation_requests.create(phone_number="+14158675309", friendly_name="Zero")
    control(f"/_mock/calls/{vr.call_sid}/answer", {"digits": vr.validation_code})
    assert [c.friendly_name for c in client.outgoing_caller_ids.list()] == ["Zero"]
    call = client.calls.create(to="+14155550100", from_="+14158675309", twiml="<Response/>")
    assert client.calls(call.sid).fetch().status == "ringing"


def test_plivo():
    auth_id = "MAZEROTOUCHXXXXXXXXX"
    control(f"/_mock/reset?account={auth_id}", {})
    client = plivo.RestClient(auth_id, "token")
    uuid = client.verify_callerids.initiate_verify(phone_number="+12025551234").verification_uuid
    code = control("/_mock/codes/latest?number=%2B12025551234&account=" + auth_id)["code"]
    assert client.verify_callerids.verify_caller_id(uuid, otp=code).phone_number == "+12025551234"
    assert client.verify_callerids.get_verified_caller_id("+12025551234").alias == ""
    fired = client.calls.create(from_="+12025551234", to_="14155550100", answer_url="https://app.test/answer")
    assert client.live_calls.get(fired.request_uuid).call_status == "ringing"


def test_seven():
    key = "ZEROTOUCH-SEVEN"
    control(f"/_mock/reset?account={key}", {})
    client = Sms77api(key)
    issued = client.validate_for_voice("491632429751")
    pending = control(f"/_mock/codes/latest?provider=seven&account={key}")
    control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})
    assert client.validate_for_voice("491632429751")["voice"] is True
    sent = client.voice("4915112345678", "Hallo", {"from": "491632429751", "json": 1})
    assert sent["success"] == "100"


def test_telnyx():
    key = "KEYZEROTOUCHTELNYX"
    control(f"/_mock/reset?account={key}", {})
    client = telnyx.Telnyx(api_key=key)
    client.verified_numbers.create(phone_number="+12025551234", verification_method="sms")
    code = control(f"/_mock/codes/latest?provider=telnyx&account={key}")["code"]
    client.verified_numbers.actions.submit_verification_code("+12025551234", verification_code=code)
    assert client.verified_numbers.retrieve("+12025551234").data.phone_number == "+12025551234"
    hooks = Receiver("/telnyx")
    try:
        call = client.calls.dial(connection_id="1", from_="+12025551234", to="+14155550100", webhook_url=hooks.url).data
        initiated = hooks.wait_for(1)[0]
        # TELNYX_PUBLIC_KEY, from `callerid-mock env`, is the key the client verifies with.
        event = client.webhooks.unwrap(initiated["body"], headers=initiated["headers"])
        assert (event.data.event_type, event.data.payload.call_control_id) == ("call.initiated", call.call_control_id)
        client.calls.actions.hangup(call.call_control_id)
        hooks.wait_for(2)
    finally:
        hooks.close()



@pytest.fixture
def signalwire_client():
    control(f"/_mock/reset?account={signalwire_flows.PROJECT}", {})
    # Production settings: no host, so the SDK reads SIGNALWIRE_SPACE (which `callerid-mock env`
    # sets only when the application has not) and speaks HTTPS to that Space, through the proxy.
    return SignalWire(project=signalwire_flows.PROJECT, token="PTzero", request_options=RequestOptions(retries=0))


# The SDK's whole flow of tests/sdk/python/test_signalwire.py, again through the proxy.
@pytest.mark.parametrize("flow", ["test_the_whole_flow", "test_a_redial_within_and_past_its_limits",
                                  "test_the_list_pages_through_every_record", "test_an_unknown_id_is_not_found"])
def test_signalwire(signalwire_client, flow):
    assert os.environ["SIGNALWIRE_SPACE"] == "example.signalwire.com"
    getattr(signalwire_flows, flow)(signalwire_client)
