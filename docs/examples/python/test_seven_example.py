"""seven.io with pytest: read the code from the answer, key it in, and expect the GET callback."""

import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sms77api.Sms77api import Sms77api

BASE = os.environ.get("CALLERID_MOCK_URL", "http://127.0.0.1:8484")
KEY = "EXAMPLE-SEVEN-PYTEST"


def control(path, body=None):
    """GET a control-plane route, or POST a JSON body to it."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def receiver():
    """A webhook receiver on a free port: the queries it got, and its URL."""
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            got.append(parse_qs(urlsplit(self.path).query, keep_blank_values=True))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return got, f"http://127.0.0.1:{server.server_address[1]}/validated", server


def test_a_validated_caller_id_calls_back():
    control(f"/_mock/reset?account={KEY}", {})
    got, url, server = receiver()
    client = Sms77api(KEY)
    client.baseUrl = BASE + "/api"
    issued = client.validate_for_voice("491632429751", url)
    pending = control("/_mock/codes/latest?provider=seven&number=%2B491632429751")
    control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})
    for _ in range(100):   # the callback is on its way, not part of the answer
        if got:
            break
        time.sleep(0.05)
    assert got[0]["success"] == ["1"] and got[0]["formatted_output"] == ["+49 163 2429751"]
    assert client.validate_for_voice("491632429751")["error"] == "The sender ID is already saved."
    server.shutdown()
