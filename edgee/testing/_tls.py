"""HTTPS for the test gateway: a throwaway certificate authority made with ``trustme``.

``trustme`` is a test-only dependency (the ``dev`` extra), imported only when a gateway is
created with ``tls=True``. The CA signs one server certificate valid for ``127.0.0.1``,
``::1`` and ``localhost``; its PEM bundle is written to a temporary file so clients that
take a path (``verify="/path/ca.pem"``, ``SSL_CERT_FILE``) can use it, and removed with
the gateway.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile

__all__ = ["ThrowawayCA"]


class ThrowawayCA:
    """A CA, its server certificate, and the CA bundle written to a temporary file."""

    def __init__(self) -> None:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "FakeGateway(tls=True) needs the 'trustme' package (pip install trustme)"
            ) from exc
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "::1", "localhost")
        fd, path = tempfile.mkstemp(prefix="edgee-fake-gateway-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as handle:
            handle.write(self._ca.cert_pem.bytes())
        self.ca_path = path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA (hostname checking on)."""
        context = ssl.create_default_context(cafile=self.ca_path)
        return context

    def remove(self) -> None:
        """Delete the CA bundle file (idempotent)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ca_path)
