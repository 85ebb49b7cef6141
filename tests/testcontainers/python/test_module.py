"""callerid_mock.testcontainers against a real Docker engine: the official Twilio SDK's flow with
its base URL at the container, the StatusCallback delivered back to this process, zero-touch with
production settings through the container's proxy, strict auth with fixtures copied in, and an
admin token. Run by tests/testcontainers/run.sh (which builds the image and exports
CALLERID_MOCK_IMAGE, DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from callerid_mock import ControlError
from callerid_mock.testcontainers import CallerIdMockContainer, default_image

SID, TOKEN = "AC" + "7" * 32, "token-testcontainers"


class Receiver:
    """Records the webhooks it gets, on every interface (the container reaches it through the
    host's gateway)."""

    def __init__(self):
        self.got = []
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                got.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("0.0.0.0", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def mock():
    # docs:begin python
    with CallerIdMockContainer(seed=7, frozen_clock=True, start_time="2026-01-01T00:00:00Z") as mock:
        print(f"\ntestcontainers: python: ready in {mock.ready_seconds:.2f} s")
        yield mock
    # docs:end python


def test_the_image_defaults_to_the_packages_version():
    assert os.environ["CALLERID_MOCK_IMAGE"] == default_image()
    image = os.environ.pop("CALLERID_MOCK_IMAGE")
    try:
        assert default_image().startswith("callerid-mock:")
    finally:
        os.environ["CALLERID_MOCK_IMAGE"] = image


def test_a_twilio_flow_and_its_status_callback(mock):
    receiver = Receiver()
    client = Client(SID, TOKEN)
    client.api.base_url = mock.provider_url("twilio")
    callback = mock.host_url(receiver.port, "/status")
    vr = client.validation_requests.create(phone_number="+14158675309", status_callback=callback)
    mock.answer(vr.call_sid, digits=vr.validation_code)
    assert [c.phone_number for c in client.outgoing_caller_ids.list()] == ["+14158675309"]
    for _ in range(100):
        if receiver.got:
            break
        threading.Event().wait(0.05)
    assert receiver.got, f"no StatusCallback came; the journal says {mock.callbacks()}"
    path, headers, body = receiver.got[0]
    params = dict(pair.split("=", 1) for pair in body.split("&"))
    from urllib.parse import unquote_plus
    params = {k: unquote_plus(v) for k, v in params.items()}
    assert params["VerificationStatus"] == "success"
    assert RequestValidator(TOKEN).validate(callback, params, headers["X-Twilio-Signature"])


def test_zero_touch_through_the_containers_proxy(mock, tmp_path, monkeypatch):
    for name, value in mock.zero_touch_env(str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    client = Client("AC" + "8" * 32, "zero")   # production settings: api.twilio.com
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to="+14155550100", from_="+14158675309", twiml="<Response/>")
    assert err.value.code == 21210


def test_the_control_plane_as_methods(mock):
    mock.reset()
    with pytest.raises(ControlError) as err:
        mock.latest_code("+12025550000", wait=0.2)
    assert err.value.status == 404 and "+12025550000" in str(err.value)
    before = mock.advance("1m")
    assert before["now"] == "2026-01-01T00:01:00Z" or before["now"] > "2026-01-01"
    rule = mock.add_fault(provider="twilio", operation="list", action="error", status=503, times=1)
    assert rule["remaining"] == 1
    client = Client(SID, TOKEN)
    client.api.base_url = mock.provider_url("twilio")
    with pytest.raises(TwilioException) as err:   # a list page's error: the SDK's generic exception
        client.outgoing_caller_ids.list()
    assert err.value.args[1].status_code == 503
    assert mock.requests(provider="twilio")[0]["status"] == 503


def test_strict_auth_with_fixtures_and_an_admin_token(tmp_path):
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps({"accounts": [{"provider": "twilio", "account": SID, "auth_token": TOKEN}]}))
    with CallerIdMockContainer(strict_auth=True, fixtures=str(fixtures), admin_token="s3cret") as mock:
        good = Client(SID, TOKEN)
        good.api.base_url = mock.provider_url("twilio")
        assert good.outgoing_caller_ids.list() == []
        bad = Client(SID, "wrong")
        bad.api.base_url = mock.provider_url("twilio")
        with pytest.raises(TwilioException) as err:
            bad.outgoing_caller_ids.list()
        assert err.value.args[1].status_code == 401
        assert mock.codes() == []   # the control methods send the admin token
        import urllib.error
        import urllib.request
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(mock.url + "/_mock/codes")
        assert refused.value.code == 401
