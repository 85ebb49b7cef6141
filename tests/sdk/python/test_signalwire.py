"""The official SignalWire Python SDK (signalwire-sdk on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL. The SDK takes the
Space's host as `host=` (or SIGNALWIRE_SPACE) and speaks plain HTTP to a loopback host, so the
emulator's `127.0.0.1:port` is the Space; the project id is the emulator's account.
"""

from urllib.parse import urlparse

import pytest
from signalwire.rest import RequestOptions, RestClient, SignalWireRestError

from emulator import BASE, control

PROJECT = "4a5b6c7d-0000-4000-8000-00000000beef"


def latest_code(number):
    return control(f"/_mock/codes?account={PROJECT}&number={number.replace('+', '%2B')}")["codes"][0]["code"]


def advance(by):
    control("/_mock/clock", {"advance": by})


@pytest.fixture
def client():
    control(f"/_mock/reset?account={PROJECT}", {})
    # No retries: a refusal is the answer under test, not a blip to retry.
    return RestClient(project=PROJECT, token="PTsecret", host=urlparse(BASE).netloc,
                      request_options=RequestOptions(retries=0))


def refused(call):
    with pytest.raises(SignalWireRestError) as err:
        call()
    return err.value


def test_the_whole_flow(client):
    callers = client.verified_callers
    created = callers.create(number="+12025551234", name="Front desk")
    assert created["status"] == "Awaiting Verification" and created["verified"] is False
    id = created["id"]
    code = latest_code("+12025551234")

    wrong = refused(lambda: callers.submit_verification(id, verification_code="000000" if code != "000000" else "111111"))
    assert wrong.status_code == 422
    assert wrong.body["errors"][0]["code"] == "invalid_verification_code"

    done = callers.submit_verification(id, verification_code=code)
    assert done["status"] == "Verified" and done["verified"] is True and done["verified_at"]
    assert callers.get(id)["status"] == "Verified"

    renamed = callers.update(id, name="Reception")
    assert renamed["name"] == "Reception"

    callers.delete(id)
    gone = refused(lambda: callers.get(id))
    assert gone.status_code == 404 and gone.body == {"error": "Not Found"}


def test_a_redial_within_and_past_its_limits(client):
    callers = client.verified_callers
    id = callers.create(number="+12025551235")["id"]
    first = latest_code("+12025551235")
    soon = refused(lambda: callers.redial_verification(id))
    assert soon.status_code == 422 and soon.body["errors"][0]["code"] == "redial_too_soon"
    for _ in range(9):
        advance("61s")
        assert callers.redial_verification(id)["status"] == "Awaiting Verification"
    advance("61s")
    limit = refused(lambda: callers.redial_verification(id))
    assert limit.body["errors"][0]["code"] == "redial_limit_reached"
    code = latest_code("+12025551235")
    if code != first:
        assert refused(lambda: callers.submit_verification(id, verification_code=first)).status_code == 422
    assert callers.submit_verification(id, verification_code=code)["verified"] is True


def test_the_list_pages_through_every_record(client):
    callers = client.verified_callers
    for n in range(5):
        callers.create(number=f"+1202555130{n}")
        advance("1s")
    page = callers.list(page_size=2)
    assert [c["number"] for c in page["data"]] == ["+12025551304", "+12025551303"]
    assert page["links"]["next"]
    every = [c["number"] for c in callers.paginate(page_size=2)]
    assert every == [f"+1202555130{n}" for n in reversed(range(5))]


def test_an_unknown_id_is_not_found(client):
    missing = refused(lambda: client.verified_callers.get("00000000-0000-4000-8000-000000000000"))
    assert missing.status_code == 404
