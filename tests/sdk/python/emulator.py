"""What every SDK test shares: the emulator's URL, its control plane, and a webhook receiver."""

import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["CALLERID_MOCK_URL"]


def control(path, body=None):
    """GET a control-plane route, or POST `body` to it as JSON; returns the parsed answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


class Receiver:
    """A local webhook receiver: records every request and answers 200, with `body` (an answer
    document, as XML) when one is given."""

    def __init__(self, path="/status", body=""):
        answer = body.encode()
        self.requests = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                received.append({"method": self.command, "path": self.path,
                                 "headers": dict(self.headers), "body": body})
                self.send_response(200)
                if answer:
                    self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _record

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.origin + path

    def wait_for(self, n):
        """Waits up to 5 s for `n` requests and returns all received; fails saying what came."""
        deadline = time.time() + 5
        while len(self.requests) < n and time.time() < deadline:
            time.sleep(0.01)
        if len(self.requests) < n:
            raise AssertionError(f"expected {n} callback(s) at {self.url} within 5 s, got {len(self.requests)};"
                                 f" the emulator's journal says: {control('/_mock/callbacks?limit=3')['callbacks']}")
        return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()
