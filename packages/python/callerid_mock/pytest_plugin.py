"""The pytest plugin of callerid-mock (registered through the ``pytest11`` entry point).

- ``callerid_mock``: one emulator for the whole run, reset before each test (mark a test
  ``@pytest.mark.callerid_mock_keep_state`` to keep what earlier tests left).
- ``callerid_mock_env``: the environment that routes unmodified SDKs to it through its proxy
  (``HTTPS_PROXY``, the CA), set for the test and undone after it.

Flags for the server: the ``callerid_mock_args`` ini option (``--seed 1 --frozen-clock``).
"""

from __future__ import annotations

import importlib.util
import shlex
from typing import Iterator

import pytest

from . import Server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("callerid_mock_args", "flags for the callerid-mock server of the test run", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "callerid_mock_keep_state: do not reset the emulator before this test")


@pytest.fixture(scope="session")
def callerid_mock_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """The emulator of the whole test run."""
    server = Server(args=shlex.split(str(pytestconfig.getini("callerid_mock_args"))))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def callerid_mock(callerid_mock_server: Server, request: pytest.FixtureRequest) -> Server:
    """The emulator, reset before the test unless it is marked ``callerid_mock_keep_state``."""
    if request.node.get_closest_marker("callerid_mock_keep_state") is None:
        callerid_mock_server.reset()
    return callerid_mock_server


@pytest.fixture
def callerid_mock_env(
    callerid_mock: Server, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Routes unmodified SDKs to the emulator for this test: its proxy and CA in the
    environment, and requests' ``Session.send`` made to honour them (the Plivo SDK calls it)."""
    directory = tmp_path_factory.mktemp("callerid-mock-env")
    for name, value in callerid_mock.env(str(directory)).items():
        monkeypatch.setenv(name, value)
    try:
        import requests.sessions
    except ImportError:
        pass
    else:  # the same patch of Session.send that `callerid-mock env` installs through PYTHONPATH
        spec = importlib.util.spec_from_file_location("_callerid_mock_shim", directory / "python" / "sitecustomize.py")
        assert spec is not None and spec.loader is not None
        shim = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(shim)
        original = requests.sessions.Session.send
        shim._patch(requests.sessions)
        patched, requests.sessions.Session.send = requests.sessions.Session.send, original
        monkeypatch.setattr(requests.sessions.Session, "send", patched)
    yield callerid_mock
