"""How the sync client hands one request to ``requests``: through the adapter, when it can.

``requests.Session.request`` costs about as much as the HTTP exchange itself on
a small call (~200 µs of ~450 on loopback): every call it merges the
session's settings, looks for ``~/.netrc``, walks ``os.environ`` twice for
proxies and once for CA variables, copies cookie jars and dispatches hooks.
On a session the client made itself (``SyncPool.owned``) none of that
changes from one call to the next: its headers are requests' defaults, it has
no auth, hooks or proxies of its own, and its adapter's SSL context decides
verification (``_urllib3_internals.EdgeeAdapter``). So :class:`Sender` builds
the ``requests.PreparedRequest`` itself and calls the adapter's ``send`` (the
public transport-adapter interface) with what ``Session.request`` would have
given it:

* the session's headers with the request's merged over them (names
  case-insensitive, the session's order first, as ``merge_setting`` does) and
  ``Content-Length`` from the body;
* the proxies of ``HTTP(S)_PROXY`` / ``NO_PROXY``, looked up once per origin
  (as ``AsyncEdgee`` does) instead of on every call;
* the session's cookies sent when its jar holds any, and a response's
  ``Set-Cookie`` kept in that jar, as ``Session.send`` does.

``~/.netrc`` is not read: a netrc entry for the gateway's host would replace
the API key's ``Authorization`` (``AsyncEdgee`` does not read it either). A
session the caller passed in goes through ``Session.request`` as before: its
own settings decide.
"""

from __future__ import annotations

import urllib.parse

import requests
import requests.cookies
import requests.hooks
import requests.structures
import requests.utils
import urllib3

from edgee._config import Timeout
from edgee._request import PreparedRequest

__all__ = ["Sender"]

# Distinct URLs remembered per client (endpoints, plus redirect targets); beyond it the
# routes are forgotten and looked up again.
_MAX_ROUTES = 64


class _Route:
    """What one URL needs on one session: the adapter, the prepared URL, the proxies."""

    __slots__ = ("adapter", "proxies", "session", "timeouts", "url")

    def __init__(self, session: requests.Session, url: str, proxies: dict[str, str]) -> None:
        self.session = session
        self.adapter = session.get_adapter(url)
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)  # IDNA, quoting: what Session.request does to it
        self.url: str = prepared.url  # type: ignore[assignment]
        self.proxies = proxies
        # The last Timeout seen and urllib3's for it (a client's requests share one), as
        # one tuple: threads sending with other Timeouts replace it whole.
        self.timeouts: tuple[Timeout | None, urllib3.Timeout] = (None, urllib3.Timeout())

    def timeout_for(self, timeout: Timeout) -> urllib3.Timeout:
        """urllib3's ``Timeout`` for ``timeout`` (the adapter takes it as it is)."""
        known, made = self.timeouts
        if known is not timeout:
            made = urllib3.Timeout(connect=timeout.connect, read=timeout.read)
            self.timeouts = (timeout, made)
        return made


class Sender:
    """Sends a :class:`~edgee._request.PreparedRequest` on a client's session.

    ``direct`` (the client made the session): straight through the session's
    adapter; else through ``Session.request`` with ``verify``. Shared by a
    client's ``with_options`` copies (they share the session).
    """

    __slots__ = ("_origins", "_routes", "direct")

    def __init__(self, direct: bool) -> None:
        self.direct = direct
        self._routes: dict[str, _Route] = {}
        self._origins: dict[str, dict[str, str]] = {}

    def send(
        self,
        session: requests.Session,
        request: PreparedRequest,
        verify: bool | str | None,
    ) -> requests.Response:
        """Send ``request`` (its headers sent, its body not read: ``stream=True``)."""
        timeout = request.timeout
        if not self.direct:
            return session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                stream=True,
                timeout=(timeout.connect, timeout.read),
                allow_redirects=False,
                verify=verify,
            )
        route = self._routes.get(request.url)
        if route is None or route.session is not session:  # a new URL, or forked: new session
            route = self._route(session, request.url)
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = route.url
        headers: requests.structures.CaseInsensitiveDict[str]
        headers = requests.structures.CaseInsensitiveDict()
        for name, value in session.headers.items():
            headers[name] = value  # type: ignore[assignment]  # requests allows bytes too
        for name, value in request.headers.items():
            headers[name] = value
        body = request.body
        if body is not None:
            if body:
                headers["Content-Length"] = str(len(body))
        elif request.method not in ("GET", "HEAD"):
            headers["Content-Length"] = "0"
        prepared.headers = headers
        prepared.body = body
        prepared.hooks = requests.hooks.default_hooks()
        jar = session.cookies
        if jar:
            prepared.prepare_cookies(jar)
        response = route.adapter.send(
            prepared,
            stream=True,
            timeout=route.timeout_for(timeout),  # type: ignore[arg-type]  # taken as is
            verify=True,  # ignored: the adapter's SSL context decides
            cert=None,
            proxies=route.proxies,
        )
        raw_headers = response.raw.headers
        if "set-cookie" in raw_headers or "set-cookie2" in raw_headers:
            requests.cookies.extract_cookies_to_jar(  # type: ignore[no-untyped-call]
                jar, prepared, response.raw
            )
        return response

    def _route(self, session: requests.Session, url: str) -> _Route:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        proxies = self._origins.get(origin)
        if proxies is None:
            proxies = self._origins[origin] = requests.utils.get_environ_proxies(url)
        route = _Route(session, url, proxies)
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()
        self._routes[url] = route
        return route
