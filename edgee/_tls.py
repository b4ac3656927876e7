"""TLS settings: the ``verify=`` option, the CA environment rule, certificate errors.

One rule, applied the same way by both clients (:func:`resolve_tls`):

1. ``verify=`` given to the client wins: ``True`` (the system's trust store),
   ``False`` (no verification; a warning is the caller's business), a path to
   a CA bundle file or a directory of hashed certificates, or an
   :class:`ssl.SSLContext` used as is.
2. Else, if the client was given its own session (``requests.Session`` or
   ``aiohttp.ClientSession``), that session's settings are used untouched and
   no environment variable is consulted by this module.
3. Else the environment: the first non-empty of ``SSL_CERT_FILE``,
   ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` names a CA bundle file, and
   ``SSL_CERT_DIR`` a directory; a set variable naming nothing is a
   :class:`edgee.ConfigurationError` when the client is built.
4. Else the system's default trust store (:func:`ssl.create_default_context`).

The result is one :class:`TLSSettings`; each transport asks it for what it
takes: :meth:`TLSSettings.context` (an SSLContext, for aiohttp's ``ssl=`` and
for ``_urllib3_internals.EdgeeAdapter`` on requests). Sans-IO: no HTTP library here.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Mapping
from typing import Union

import attrs

from edgee._causes import causes
from edgee.errors import CertificateVerifyError, ConfigurationError

__all__ = [
    "CA_DIR_VARIABLE",
    "CA_FILE_VARIABLES",
    "CertificateVerifyError",
    "TLSSettings",
    "VerifyOption",
    "certificate_error",
    "find_certificate_error",
    "resolve_tls",
]

#: A ``verify=`` value: a bool, a CA bundle path (file or directory), or a context.
VerifyOption = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]

#: Checked in this order; the first one set and non-empty names the CA bundle file.
CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
#: Names a directory of CA certificates (OpenSSL's ``c_rehash`` layout).
CA_DIR_VARIABLE = "SSL_CERT_DIR"


@attrs.frozen
class TLSSettings:
    """The resolved TLS choice of one client (see the module docstring for the rule)."""

    verify: bool = True
    ca_file: str | None = None
    ca_dir: str | None = None
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, eq=False)
    #: Where the choice came from: "verify=", "session", "SSL_CERT_FILE", ..., "system".
    source: str = "system"

    @property
    def from_session(self) -> bool:
        """The user's own session decides; the transport must not override it."""
        return self.source == "session"

    def describe(self) -> str:
        """The trust store in words, for error messages."""
        if not self.verify:
            return "certificate verification is off"
        if self.ssl_context is not None:
            return f"the ssl.SSLContext given as {self.source}"
        where = self.ca_file or self.ca_dir
        if where:
            return f"the CA bundle {where!r} (from {self.source})"
        if self.from_session:
            return "the session's own settings"
        return "the system's trust store"

    def context(self) -> ssl.SSLContext:
        """An :class:`ssl.SSLContext` implementing these settings.

        A context given as ``verify=`` is returned as is. Otherwise one context
        per distinct setting is built once per process and shared by every
        client (building one loads the trust store: about 15 ms, which a client
        made per request, or one talking plain HTTP, should not pay). A CA file
        that changed on disk since (size or mtime) gets a new context. Not for
        ``from_session`` settings.
        """
        if self.ssl_context is not None:
            return self.ssl_context
        key = self._cache_key()
        ctx = _SHARED_CONTEXTS.get(key)
        if ctx is None:
            with _SHARED_LOCK:  # two threads making clients at once build it once
                ctx = _SHARED_CONTEXTS.get(key)
                if ctx is None:
                    ctx = _SHARED_CONTEXTS[key] = self._build_context()
        return ctx

    def _cache_key(self) -> tuple[object, ...]:
        stamp: tuple[int, int] | None = None
        if self.ca_file:
            try:
                st = os.stat(self.ca_file)
                stamp = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = None  # gone since resolve_tls: building the context reports it
        return (self.verify, self.ca_file, self.ca_dir, stamp)

    def _build_context(self) -> ssl.SSLContext:
        if not self.verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        if self.ca_file or self.ca_dir:
            return ssl.create_default_context(cafile=self.ca_file, capath=self.ca_dir)
        return ssl.create_default_context()


# The contexts built from settings (not given by the user), one per distinct setting.
# They are never changed after they are built, so sharing them is safe across
# clients and threads, and across fork().
_SHARED_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}
_SHARED_LOCK = threading.Lock()


def _path(value: str, what: str, *, directory: bool | None) -> str:
    path = os.path.expanduser(value)
    ok = os.path.isdir(path) if directory else os.path.exists(path)
    if directory is None:
        ok = os.path.exists(path)
    if not ok:
        kind = "directory" if directory else "file or directory"
        raise ConfigurationError(f"{what} names no such CA {kind}: {value!r}")
    return path


def resolve_tls(
    verify: VerifyOption | None,
    *,
    own_session: bool,
    environ: Mapping[str, str] | None = None,
) -> TLSSettings:
    """Resolve a client's ``verify=`` argument with the CA environment rule.

    ``verify=None`` means "not given". ``own_session`` is true when the user
    handed the client a session of their own. Raises
    :class:`edgee.ConfigurationError` (before any I/O) for a path that does
    not exist and :class:`TypeError` for a value of another type.
    """
    if isinstance(verify, ssl.SSLContext):
        return TLSSettings(ssl_context=verify, source="verify=")
    if isinstance(verify, bool):
        return TLSSettings(verify=verify, source="verify=")
    if isinstance(verify, (str, os.PathLike)):
        text = os.fspath(verify)
        if not text:
            raise ConfigurationError("verify= is an empty path; pass True, False or a CA bundle")
        path = _path(text, "verify=", directory=None)
        if os.path.isdir(path):
            return TLSSettings(ca_dir=path, source="verify=")
        return TLSSettings(ca_file=path, source="verify=")
    if verify is not None:
        raise TypeError(
            "verify must be True, False, a CA bundle path or an ssl.SSLContext, "
            f"not {type(verify).__name__}"
        )
    if own_session:
        return TLSSettings(source="session")
    env = os.environ if environ is None else environ
    ca_file = ca_dir = None
    source = "system"
    for name in CA_FILE_VARIABLES:
        if env.get(name):
            ca_file = _path(env[name], name, directory=False)
            if os.path.isdir(ca_file):  # REQUESTS_CA_BUNDLE may name a directory
                ca_file, ca_dir = None, ca_file
            source = name
            break
    if env.get(CA_DIR_VARIABLE) and ca_dir is None:
        ca_dir = _path(env[CA_DIR_VARIABLE], CA_DIR_VARIABLE, directory=True)
        source = CA_DIR_VARIABLE if ca_file is None else f"{source} and {CA_DIR_VARIABLE}"
    return TLSSettings(ca_file=ca_file, ca_dir=ca_dir, source=source)


def find_certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification failure inside a transport exception, if any.

    Works for requests (``SSLError`` wrapping urllib3's ``MaxRetryError`` /
    ``SSLError`` wrapping :class:`ssl.SSLCertVerificationError`) and aiohttp
    (``ClientConnectorCertificateError``, itself an ``SSLCertVerificationError``
    subclass on some versions, with ``.certificate_error``).
    """
    for cause in causes(exc):
        inner = getattr(cause, "certificate_error", None)  # aiohttp's wrapper: the ssl error
        if isinstance(inner, ssl.SSLCertVerificationError):
            return inner
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
    return None


def certificate_error(
    cause: ssl.SSLCertVerificationError, settings: TLSSettings, host: str | None = None
) -> CertificateVerifyError:
    """The user-facing error for a failed certificate check (not retried)."""
    reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
    target = f" of {host}" if host else ""
    return CertificateVerifyError(
        f"TLS certificate{target} could not be verified ({reason}) using "
        f"{settings.describe()}. If the server uses a private or corporate CA, pass its CA "
        "bundle as verify='/path/to/ca.pem' (or an ssl.SSLContext), or set SSL_CERT_FILE."
    )
