"""The seven.io Python client (sms77api on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
"""

import urllib.parse
import urllib.request

import pytest
from sms77api.Sms77api import Sms77api
from sms77api.classes.Journal import JournalType

from emulator import BASE, Receiver, control

API_KEY = "PYTHONSEVENKEY"


@pytest.fixture
def client():
    control(f"/_mock/reset?account={API_KEY}", {})
    c = Sms77api(API_KEY)
    c.baseUrl = BASE + "/api"
    return c


def test_invalid_then_code_then_dtmf_then_callback_then_already_saved(client):
    invalid = client.validate_for_voice("ThisAintGonnaWork!")
    assert invalid == {"id": None, "sender": "ThisAintGonnaWork!", "formatted_output": None,
                       "success": False, "error": "Reception number invalid", "voice": False}

    receiver = Receiver("/validate?source=test")
    try:
        issued = client.validate_for_voice("491632429751", receiver.url)
        assert issued["success"] is True and issued["error"] is None
        assert len(issued["code"]) == 6 and not issued["code"].startswith("0")

        pending = control(f"/_mock/codes?provider=seven&account={API_KEY}")["codes"][0]
        assert pending["code"] == issued["code"] and pending["state"] == "pending"
        done = control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})
        assert done["state"] == "verified"

        path = receiver.wait_for(1)[0]["path"]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query, keep_blank_values=True))
        assert query == {"source": "test", "id": done["caller_id"], "sender": "491632429751",
                         "formatted_output": "+49 163 2429751", "success": "1", "error": "", "voice": "1"}
    finally:
        receiver.close()

    again = client.validate_for_voice("+491632429751")
    assert again == {"id": int(done["caller_id"]), "sender": "491632429751", "formatted_output": "+49 163 2429751",
                     "success": True, "error": "The sender ID is already saved.", "voice": True}


def test_a_bad_api_key_answers_900():
    bad = Sms77api("bad key!")
    bad.baseUrl = BASE + "/api"
    assert bad.validate_for_voice("491632429751") == 900


def test_a_voice_call_from_a_sender_is_refused_until_it_is_validated(client):
    def call():
        return client.voice("4915112345678", "Hallo Welt", {"from": "491632429751", "json": 1})

    assert call() == 306, "the gateway's InvalidSender"
    issued = client.validate_for_voice("491632429751")
    pending = control(f"/_mock/codes/latest?provider=seven&account={API_KEY}")
    control(f"/_mock/calls/{pending['id']}/answer", {"digits": issued["code"]})

    sent = call()
    assert sent["success"] == "100"
    message = sent["messages"][0]
    assert (message["success"], message["sender"], message["recipient"]) == (True, "491632429751", "4915112345678")
    journal = client.journal(JournalType.VOICE, {"id": message["id"]})
    assert journal[0]["status"] == "ringing"
    control(f"/_mock/calls/{message['id']}/answer", {})
    control("/_mock/clock", {"advance": "2m"})
    assert client.journal(JournalType.VOICE, {"id": message["id"]})[0]["status"] == "completed"

    control(f"/_mock/reset?account={API_KEY}", {})
    assert call() == 306, "refused again once the account's senders are gone"
    control("/_mock/numbers", {"provider": "seven", "account": API_KEY, "number": "+491632429751"})
    assert call()["success"] == "100", "a number the account owns is a sender too"
    owned = f"{BASE}/_mock/numbers?provider=seven&account={API_KEY}&number=%2B491632429751"
    urllib.request.urlopen(urllib.request.Request(owned, method="DELETE")).close()
