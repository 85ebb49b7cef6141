"""callerid-mock in a container, with Testcontainers (``pip install callerid-mock[testcontainers]``):

    from callerid_mock.testcontainers import CallerIdMockContainer

    with CallerIdMockContainer(seed=1, frozen_clock=True) as mock:
        client = twilio.rest.Client(sid, token)
        client.api.base_url = mock.provider_url("twilio")
        ...
        code = mock.latest_code("+14158675309", wait=5)

The image is ``callerid-mock:VERSION`` (this package's version; ``docker build -t
callerid-mock:VERSION .`` in the repository makes it), or ``$CALLERID_MOCK_IMAGE``, or the
``image`` argument. The container is ready when ``GET /_mock/health`` answers 200. Webhooks reach
the test process at ``host.docker.internal`` (mapped to the host's gateway): bind the receiver to
``0.0.0.0`` and give ``mock.host_url(port, path)`` as the callback URL.
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional

from testcontainers.core.container import DockerContainer

from . import Control, ServerError, __version__

__all__ = ["CallerIdMockContainer", "PORT", "default_image"]

#: The port the server listens on inside the container.
PORT = 8484

#: How long ``start()`` waits for ``/_mock/health``.
READY_TIMEOUT = 60.0


def default_image() -> str:
    """``$CALLERID_MOCK_IMAGE``, else ``callerid-mock:VERSION`` of this package."""
    return os.environ.get("CALLERID_MOCK_IMAGE") or f"callerid-mock:{__version__}"


class CallerIdMockContainer(Control, DockerContainer):
    """The emulator in a container: its flags as keyword arguments (Python spelling of the command
    line's: ``seed=1, frozen_clock=True, auto_answer=True``), ``strict_auth`` with ``fixtures`` (a
    state file on the host, copied in), ``admin_token`` (the control methods send it)."""

    def __init__(
        self,
        image: Optional[str] = None,
        *,
        fixtures: Optional[str] = None,
        admin_token: Optional[str] = None,
        **flags: Any,
    ) -> None:
        super().__init__(image or default_image())
        from . import _args

        args = _args(flags)
        if fixtures is not None:
            with open(fixtures, "rb") as f:
                self.with_copy_into_container(f.read(), "/fixtures.json")
            args += ["--fixtures", "/fixtures.json"]
        if admin_token:
            self.with_env("CALLERID_MOCK_ADMIN_TOKEN", admin_token)
        self._admin_token = admin_token
        self.with_exposed_ports(PORT)
        self.with_command(args)
        # Webhooks to the test process: host.docker.internal is the host (Docker 20.10+).
        self.with_kwargs(extra_hosts={"host.docker.internal": "host-gateway"})
        self.ready_seconds: Optional[float] = None

    def start(self) -> "CallerIdMockContainer":
        started = time.monotonic()
        try:
            super().start()
        except Exception as e:
            raise ServerError(
                f"callerid-mock in {self.image} did not start ({e}); build the image with "
                f"`docker build -t {self.image} .` in the repository, or set CALLERID_MOCK_IMAGE"
            ) from e
        deadline = started + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                self._call("GET", "/_mock/health")
                self.ready_seconds = time.monotonic() - started
                return self
            except Exception as e:  # not listening yet, or not healthy yet
                last = str(e)
                time.sleep(0.05)
        logs = b"".join(self.get_logs()).decode(errors="replace")
        raise ServerError(f"callerid-mock in {self.image} was not ready in {READY_TIMEOUT:.0f} s ({last}); its log:\n{logs}")

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, the mapped port: the base of every provider's API and of ``/_mock/``."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    def host_url(self, port: int, path: str = "/") -> str:
        """A URL of the test process as the container reaches it (for webhooks)."""
        return f"http://host.docker.internal:{port}{path}"
