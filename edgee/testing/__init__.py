"""Test helpers for code that uses the Edgee AI Gateway.

`FakeGateway` is a real HTTP server on 127.0.0.1 that speaks the gateway's published
protocol: scripted replies (text, tool calls, structured JSON, refusals, HTTP errors, errors
inside a stream, malformed chunks, resets, stalls, raw bytes), optionally compressed,
preceded by 1xx responses or served over TLS, and, with nothing scripted, an echo model.
It records every request as a `RecordedRequest`. The pytest plugin in
`edgee.testing.pytest_plugin` (registered automatically when ``edgee`` is installed)
provides it as the ``edgee_gateway`` fixture::

    def test_hello(edgee_gateway):
        edgee_gateway.reply_text("Hello!")
        client = Edgee(api_key=edgee_gateway.api_key, base_url=edgee_gateway.url)
        assert client.send("gpt-4o", "hi").text == "Hello!"

This package uses only the standard library (plus ``trustme``, imported only for
``FakeGateway(tls=True)``) and does not import the rest of ``edgee``. Its layers, each a
module: ``_headers``, ``_readers`` / ``_writers`` / ``_connection`` (HTTP/1.1),
``_codings``, ``_tls``, ``_text``, ``_bodies`` / ``_compress`` (endpoint answers),
``_exchange``, ``_completion`` / ``_replies`` (scripted answers), ``_routes`` (the route
table), ``_server`` (loop, thread, records) and ``_gateway`` (the ``FakeGateway`` façade).
"""

from edgee.testing._exchange import RecordedRequest
from edgee.testing._gateway import FakeGateway
from edgee.testing._headers import Headers
from edgee.testing._text import split_words

__all__ = ["FakeGateway", "Headers", "RecordedRequest", "split_words"]
