"""The one ``requests.Session`` of an ``Edgee`` and its copies: TLS, pool size, fork safety.

It owns what belongs to the session's life: the resolved TLS settings
(``_tls.resolve_tls``), the ``connection_limit`` (urllib3's ``pool_maxsize``
with ``pool_block``, so callers beyond it wait, at most ``Timeout.pool``,
instead of opening and dropping extra connections), and the process it was
made in: after ``os.fork()`` the child gets pools of its own, never a
connection the parent opened. Also :func:`read_body`, the driver's loop for
a body read whole (through the core's :class:`~edgee._framing.BodySink`).
"""

from __future__ import annotations

import os

import requests
import urllib3.exceptions

from edgee._attempts import ReadBody
from edgee._streaming import READ_SIZE
from edgee._tls import TLSSettings, VerifyOption, resolve_tls
from edgee._urllib3_internals import EdgeeAdapter, close_pools, drop_pools, set_read_timeout
from edgee.errors import ConfigurationError

__all__ = ["SyncPool", "read_body"]


class SyncPool:
    """The session of a client (shared by its ``with_options`` copies), per process."""

    def __init__(
        self, session: requests.Session | None, limit: int, verify: VerifyOption | None
    ) -> None:
        self.owned = session is None
        self.limit = limit
        self.tls: TLSSettings = resolve_tls(verify, own_session=not self.owned)
        # What a user's session gets per request: only what verify= says (else its own).
        self._verify: bool | str | None = None
        if not self.owned and self.tls.source == "verify=":
            if self.tls.ssl_context is not None:
                raise ConfigurationError(
                    "verify= as an ssl.SSLContext cannot be applied to a requests.Session "
                    "you pass in; mount it on your session, or pass a CA bundle path"
                )
            self._verify = self.tls.ca_file or self.tls.ca_dir or self.tls.verify
        self._pid = os.getpid()
        self.session = session if session is not None else self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # The context is built at the first HTTPS request, once per process and setting.
        adapter = EdgeeAdapter(
            self.tls.context, pool_connections=4, pool_maxsize=self.limit, pool_block=True
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @property
    def verify(self) -> bool | str | None:
        """``verify`` for each request: ``None`` on an owned session (its adapter's
        context decides); on a user's session, what ``verify=`` gave, else the
        session's own value (passed explicitly, or requests would let
        ``REQUESTS_CA_BUNDLE`` override it)."""
        if self.owned:
            return None
        if self._verify is not None:
            return self._verify
        return self.session.verify

    def get(self) -> requests.Session:
        """The session for this process (new pools in a forked child)."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            if self.owned:
                # The parent's session is dropped, never closed from here: its sockets are
                # the parent's, and a child's close of its descriptor copies sends nothing.
                self.session = self._new_session()
            else:
                drop_pools(self.session)
        return self.session

    def close(self) -> None:
        """Release pooled connections (only of a session this client created)."""
        if self.owned and os.getpid() == self._pid:
            close_pools(self.session)
            self.session.close()


def read_body(response: requests.Response, command: ReadBody, timeout: float | None) -> bytes:
    """Read ``response``'s body whole as ``command`` bounds it; close its connection if cut.

    urllib3 hands over the transfer-decoded bytes, still content-coded
    (``decode_content=False``): the core's sink decodes them.
    """
    raw = response.raw
    if command.plain:
        return raw.read(decode_content=False)
    sink = command.sink()
    try:
        while True:
            wait = sink.wait()
            if wait is not None:  # the budget or the deadline ends first: a silent server too
                set_read_timeout(response, max(wait, 0.001), timeout)
            if not sink.feed(raw.read1(READ_SIZE, decode_content=False)):
                break
    except urllib3.exceptions.ReadTimeoutError:
        left = sink.wait()
        if left is None or left > 0:  # the read timeout itself fired: a failure
            raise
        sink.expired()  # past the deadline: raises; past the budget: keep what came
    if not sink.ended:  # cut by the cap or the time budget: the rest goes with the socket
        response.close()
    return sink.body()
