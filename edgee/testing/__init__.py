"""Test helpers for code that uses the Edgee AI Gateway.

`FakeGateway` is a real HTTP server on 127.0.0.1 that speaks the gateway protocol: scripted
replies (text, tool calls, HTTP errors, errors inside a stream, malformed chunks, resets,
stalls, raw bytes) and, with nothing scripted, an echo model. It records every request as a
`RecordedRequest`. The pytest plugin in `edgee.testing.pytest_plugin` (registered
automatically when ``edgee`` is installed) provides it as the ``edgee_gateway`` fixture::

    def test_hello(edgee_gateway):
        edgee_gateway.reply_text("Hello!")
        client = Edgee(api_key=edgee_gateway.api_key, base_url=edgee_gateway.url)
        assert client.send("gpt-4o", "hi").text == "Hello!"

This package uses only the standard library and does not import the rest of ``edgee``.
"""

from edgee.testing._exchange import RecordedRequest
from edgee.testing._gateway import FakeGateway
from edgee.testing._headers import Headers
from edgee.testing._text import split_words

__all__ = ["FakeGateway", "Headers", "RecordedRequest", "split_words"]
