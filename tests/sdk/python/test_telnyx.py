"""The official Telnyx Python SDK (telnyx on PyPI), unmodified, against callerid-mock.

Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL. The SDK takes
the base URL as `base_url=` (or TELNYX_BASE_URL); the API key is the emulator's account.
"""

import re

import pytest
import telnyx

from emulator import BASE, control

API_KEY = "KEYPYTHON0123456789"


def latest_code(number):
    return control(f"/_mock/codes?account={API_KEY}&number={number.replace('+', '%2B')}")["codes"][0]


@pytest.fixture
def client():
    control(f"/_mock/reset?account={API_KEY}", {})
    return telnyx.Telnyx(api_key=API_KEY, base_url=BASE + "/v2")


def verify(client, number, method="sms"):
    client.verified_numbers.create(phone_number=number, verification_method=method)
    code = latest_code(number)["code"]
    return client.verified_numbers.actions.submit_verification_code(number, verification_code=code)


def test_the_whole_lifecycle(client):
    started = client.verified_numbers.create(phone_number="+12025551234", verification_method="sms")
    assert started.phone_number == "+12025551234" and started.verification_method == "sms"
    sent = latest_code("+12025551234")
    assert sent["channel"] == "sms" and sent["state"] == "pending" and len(sent["code"]) == 6

    wrong = "000000" if sent["code"] != "000000" else "111111"
    with pytest.raises(telnyx.BadRequestError) as err:
        client.verified_numbers.actions.submit_verification_code("+12025551234", verification_code=wrong)
    assert err.value.status_code == 400
    assert err.value.body["errors"][0]["code"] == "10015"

    done = client.verified_numbers.actions.submit_verification_code("+12025551234", verification_code=sent["code"])
    assert done.data.phone_number == "+12025551234" and done.data.record_type == "verified_number"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", done.data.verified_at)

    got = client.verified_numbers.retrieve("+12025551234")
    assert got.data.phone_number == "+12025551234"

    # By call (with an IVR extension), then more than one page of 2.
    verify(client, "+12025551235", "call")
    verify(client, "+12025551236")
    page = client.verified_numbers.list(page_size=2)
    assert [n.phone_number for n in page.data] == ["+12025551236", "+12025551235"]
    assert page.meta.page_number == 1 and page.meta.total_pages == 2
    assert page.has_next_page()
    numbers = [n.phone_number for n in client.verified_numbers.list(page_size=2)]
    assert numbers == ["+12025551236", "+12025551235", "+12025551234"], "auto-paging reads both pages"

    removed = client.verified_numbers.delete("+12025551234")
    assert removed.data.phone_number == "+12025551234"
    with pytest.raises(telnyx.NotFoundError) as err:
        client.verified_numbers.retrieve("+12025551234")
    assert err.value.body["errors"][0]["title"] == "Resource not found"


def test_a_call_with_an_extension_and_the_sdks_validation_errors(client):
    started = client.verified_numbers.create(phone_number="+12025551237", verification_method="call",
                                             extension="ww243w1")
    assert started.verification_method == "call"
    assert latest_code("+12025551237")["call_status"] == "completed"

    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.verified_numbers.create(phone_number="12025551237", verification_method="sms")
    assert err.value.body["errors"][0]["code"] == "10016"

    with pytest.raises(telnyx.NotFoundError):
        client.verified_numbers.actions.submit_verification_code("+12025559999", verification_code="123456")
