"""The seven.io Python client (sms77api on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
"""

import json
import os
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sms77api.Sms77api import Sms77api

BASE = os.environ["CALLERID_MOCK_URL"]
API_KEY = "PYTHONSEVENKEY"


def control(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


class Receiver:
    """A local callback receiver: records every request path and answers 200."""

    def __init__(self):
        self.paths = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/validate?source=test"

    def wait_for(self, n):
        deadline = time.time() + 5
        while len(self.paths) < n and time.time() < deadline:
            time.sleep(0.01)
        return self.paths


@pytest.fixture
def client():
    control(f"/_mock/reset?account={API_KEY}", {})
    c = Sms77api(API_KEY)
    c.baseUrl = BASE + "/api"
    return c


def test_invalid_then_code_then_dtmf_then_callback_then_already_saved(client):
    invalid = client.validate_for_voice("ThisAintGonnaWork!")
    assert invalid == {"id": None, "sender": "ThisAintGonnaWork!", "formatted_output": None,
                       "success": False, "error": "Number is invalid", "voice": False}

    receiver = Receiver()
    try:
        issued = client.validate_for_voice("491632429751", receiver.url)
        assert issued["success"] is True and issued["error"] is None
        assert len(issued["code"]) == 6 and not issued["code"].startswith("0")

        pending = control(f"/_mock/codes?provider=seven&account={API_KEY}")["codes"][0]
        assert pending["code"] == issued["code"] and pending["state"] == "pending"
        done = control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})
        assert done["state"] == "verified"

        path = receiver.wait_for(1)[0]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query, keep_blank_values=True))
        assert query == {"source": "test", "id": done["caller_id"], "sender": "491632429751",
                         "formatted_output": "+49 163 2429751", "success": "1", "error": "", "voice": "1"}
    finally:
        receiver.server.shutdown()

    again = client.validate_for_voice("+491632429751")
    assert again == {"id": int(done["caller_id"]), "sender": "491632429751", "formatted_output": "+49 163 2429751",
                     "success": True, "error": "The caller ID has already been saved.", "voice": True}


def test_a_bad_api_key_answers_900():
    bad = Sms77api("bad key!")
    bad.baseUrl = BASE + "/api"
    assert bad.validate_for_voice("491632429751") == 900
