"""Issue 16 item 2: 1xx interim responses (103 Early Hints, 100 Continue) are skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rawserver import RawServer, completion_body, head, once, response, stream_events

EARLY_HINTS = head(103, "Link: </style.css>; rel=preload", reason="Early Hints")
CONTINUE = head(100, reason="Continue")
PROCESSING = head(102, reason="Processing")


@pytest.mark.parametrize(
    "interim",
    [EARLY_HINTS, CONTINUE, EARLY_HINTS + PROCESSING + EARLY_HINTS],
    ids=["103", "100", "103-102-103"],
)
def test_send_skips_interim_responses(
    raw: RawServer, edge_client: Callable[..., Any], interim: bytes
) -> None:
    raw.script(once(interim + response(200, completion_body("final"))))
    assert edge_client().send("gpt-4o", "hi").text == "final"


def test_stream_skips_early_hints(raw: RawServer, edge_client: Callable[..., Any]) -> None:
    body = b"".join(stream_events(["a", "b"]))
    raw.script(once(EARLY_HINTS + response(200, body, content_type="text/event-stream")))
    with edge_client().stream("gpt-4o", "hi") as stream:
        assert [c.text for c in stream] == ["a", "b"]


def test_connection_is_reused_after_interim(
    raw: RawServer, edge_client: Callable[..., Any]
) -> None:

    def handler(conn: Any) -> None:
        while (request := conn.read_request()) is not None:
            conn.send(EARLY_HINTS + response(200, completion_body(f"n{len(raw.requests)}")))
            del request

    raw.script(handler)
    client = edge_client()
    assert [client.send("gpt-4o", "hi").text for _ in range(3)] == ["n1", "n2", "n3"]
    assert {r.conn for r in raw.requests} == {0}
