"""callerid-mock for Python: start the bundled emulator and drive its control plane.

    from callerid_mock import Server

    with Server(seed=1, frozen_clock=True) as mock:
        ...                                   # point an SDK at mock.url
        code = mock.latest_code("+12025551234", wait=5)

With pytest, the ``callerid_mock`` fixture (this package's plugin) gives one server for the whole
run, reset before each test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Server", "Control", "ControlError", "ServerError", "binary_path", "__version__"]

__version__ = "0.0.0"  # replaced with the crate's version when the wheel is built

#: How long ``start()`` waits for the server to say where it listens.
START_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """The emulator could not be found or started, or did not say where it listens in time."""


class ControlError(RuntimeError):
    """The control plane answered with an error: ``status`` and the JSON ``body``."""

    def __init__(self, status: int, body: Any, path: str) -> None:
        message = body.get("error") if isinstance(body, dict) else body
        super().__init__(f"{path}: {status} {message}")
        self.status = status
        self.body = body
        self.path = path


def binary_path() -> str:
    """The ``callerid-mock`` executable: ``$CALLERID_MOCK_BIN``, the one this package
    installed beside the interpreter's scripts, or the one on ``PATH``."""
    explicit = os.environ.get("CALLERID_MOCK_BIN")
    if explicit:
        return explicit
    for scripts in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scripts, "callerid-mock")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("callerid-mock")
    if found:
        return found
    raise ServerError(
        "the callerid-mock executable is not installed beside this Python (pip install callerid-mock), "
        "not on PATH, and CALLERID_MOCK_BIN is not set"
    )


def _args(flags: Mapping[str, Any]) -> List[str]:
    """``seed=1, frozen_clock=True, allow_host=["a", "b"]`` -> ``--seed 1 --frozen-clock --allow-host a ...``."""
    args: List[str] = []
    for name, value in flags.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args


#: Where each provider's API is, below the server's URL (what the start banner prints).
_PROVIDER_PATHS = {"plivo": "", "twilio": "", "seven": "/api", "telnyx": "/v2", "signalwire": "/api/relay/rest"}


class Control:
    """The control plane of a running emulator at :attr:`url`: shared by :class:`Server` and the
    Testcontainers module (``callerid_mock.testcontainers``)."""

    _binary: Optional[str] = None
    _admin_token: Optional[str] = None

    @property
    def url(self) -> str:  # pragma: no cover - each kind of server says where it is
        raise NotImplementedError

    def provider_url(self, provider: str) -> str:
        """The base URL an SDK of ``provider`` is pointed at: ``plivo`` the ``/v1/Account/`` root's
        host, ``twilio`` the server, ``seven`` ``/api``, ``telnyx`` ``/v2``, ``signalwire``
        ``/api/relay/rest``."""
        try:
            return self.url + _PROVIDER_PATHS[provider]
        except KeyError:
            raise ValueError(f"unknown provider {provider!r}; one of {sorted(_PROVIDER_PATHS)}") from None

    def _call(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, Any]] = None) -> Any:
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        token = self._admin_token or os.environ.get("CALLERID_MOCK_ADMIN_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        # The control plane is local: never through a proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=90) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            raise ControlError(e.code, parsed, path) from None
        return json.loads(text) if text else None

    def codes(self, **filters: Any) -> List[Dict[str, Any]]:
        """Every code sent, newest first: ``codes(number="+12025551234", state="pending")``."""
        return self._call("GET", "/_mock/codes", query=filters)["codes"]

    def latest_code(self, number: str, wait: Optional[float] = None, **filters: Any) -> str:
        """The newest code sent to ``number``, as a string; with ``wait`` (seconds), waits for
        one to be sent. Raises :class:`ControlError` (404) if there is none."""
        query = dict(filters, number=number, wait=None if wait is None else f"{int(wait * 1000)}ms")
        return self._call("GET", "/_mock/codes/latest", query=query)["code"]

    def answer(self, call_id: str, digits: Optional[str] = None, outcome: Optional[str] = None) -> Dict[str, Any]:
        """Plays the person on the phone: keys in ``digits``, or ends the call with ``outcome``
        (``"busy"``, ``"no-answer"``, ``"failed"``)."""
        body = {k: v for k, v in {"digits": digits, "outcome": outcome}.items() if v is not None}
        return self._call("POST", f"/_mock/calls/{urllib.parse.quote(call_id)}/answer", body)

    def advance(self, duration: Union[str, int, float]) -> Dict[str, Any]:
        """Moves the server clock: ``advance("16m")`` or ``advance(960)`` (seconds)."""
        return self._call("POST", "/_mock/clock", {"advance": duration})

    def reset(self, account: Optional[str] = None) -> Dict[str, Any]:
        """Wipes all state, or one account's."""
        return self._call("POST", "/_mock/reset", {}, query={"account": account})

    def add_fault(self, **rule: Any) -> Dict[str, Any]:
        """Adds a fault rule: ``add_fault(provider="plivo", operation="initiate", action="error", status=500, times=1)``."""
        return self._call("POST", "/_mock/faults", rule)

    def callbacks(self, **filters: Any) -> List[Dict[str, Any]]:
        """The webhook journal, newest first."""
        return self._call("GET", "/_mock/callbacks", query=filters)["callbacks"]

    def requests(self, **filters: Any) -> List[Dict[str, Any]]:
        """The request journal, newest first."""
        return self._call("GET", "/_mock/requests", query=filters)["requests"]

    def export_state(self) -> Dict[str, Any]:
        """Everything, as a state document."""
        return self._call("GET", "/_mock/state")

    def import_state(self, state: Mapping[str, Any]) -> Dict[str, Any]:
        """Replaces everything with a state document (what :meth:`export_state` returns)."""
        return self._call("PUT", "/_mock/state", dict(state))

    def zero_touch_env(self, directory: str) -> Dict[str, str]:
        """The environment that routes unmodified SDKs to this server through its proxy (what
        ``callerid-mock env`` prints), with the CA kept in ``directory``."""
        out = subprocess.run(
            [self._binary or binary_path(), "env", "--url", self.url, "--dir", directory],
            capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise ServerError(f"callerid-mock env failed: {out.stderr.strip()}")
        variables: Dict[str, str] = {}
        for line in out.stdout.splitlines():
            fallback = re.match(r'^export (\w+)="\$\{\1:-([^}"]*)\}"$', line)  # a default: kept if set
            if fallback:
                variables[fallback[1]] = os.environ.get(fallback[1]) or fallback[2]
                continue
            if not line.startswith("export ") or '"$' in line:
                continue  # comments, and the shims for new interpreters (PYTHONPATH, NODE_OPTIONS)
            name, _, value = line[len("export "):].partition("=")
            variables[name] = value[1:-1].replace("'\\''", "'")
        return variables


class Server(Control):
    """The emulator as a child process on a free port of 127.0.0.1.

    Flags are the command line's, in Python spelling: ``Server(seed=1, frozen_clock=True,
    start_time="2026-01-01T00:00:00Z", plivo_otp_length=4)``; ``args`` adds command-line words
    as they are (``args=["--seed", "1"]``).
    """

    def __init__(self, binary: Optional[str] = None, args: Sequence[str] = (), **flags: Any) -> None:
        self._binary = binary
        self._flags = flags
        self._extra = list(args)
        self._process: Optional[subprocess.Popen] = None
        self._url: Optional[str] = None
        self._stderr: List[str] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Server":
        if self._process is not None:
            return self
        binary = self._binary or binary_path()
        command = [binary, "--bind", "127.0.0.1:0", *_args(self._flags), *self._extra]
        try:
            self._process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
            )
        except OSError as e:
            raise ServerError(f"cannot run {binary}: {e}") from e
        found = threading.Event()

        def read_banner() -> None:
            assert self._process is not None and self._process.stdout is not None
            for line in self._process.stdout:
                if " listening on " in line and self._url is None:
                    self._url = line.rsplit(" ", 1)[-1].strip()
                    found.set()
            found.set()

        def read_log() -> None:
            assert self._process is not None and self._process.stderr is not None
            for line in self._process.stderr:
                self._stderr.append(line)
                del self._stderr[:-200]

        threading.Thread(target=read_banner, daemon=True).start()
        threading.Thread(target=read_log, daemon=True).start()
        if not found.wait(START_TIMEOUT) or self._url is None:
            self.stop()
            log = "".join(self._stderr[-20:]).strip()
            raise ServerError(f"callerid-mock did not start within {START_TIMEOUT:.0f} s: {log or 'no output'}")
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base of every provider's API and of ``/_mock/``."""
        if self._url is None:
            raise ServerError("the server is not started")
        return self._url

    #: :meth:`Control.zero_touch_env`, by its first name.
    env = Control.zero_touch_env

    @property
    def log(self) -> str:
        """The last lines the server logged."""
        return "".join(self._stderr)
