"""Whole (non-streaming) responses: body bytes -> :class:`SendResponse`, shared by both clients."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar

from edgee._convert import converter
from edgee.errors import APIResponseValidationError
from edgee.models import SendResponse

__all__ = ["attach_headers", "lower_headers", "parse_completion", "parse_json"]

T = TypeVar("T")


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of the headers with lower-case names (HTTP names are case-insensitive)."""
    return {k.lower(): v for k, v in headers.items()}


def attach_headers(response: SendResponse, headers: Mapping[str, str]) -> SendResponse:
    """Give a response its HTTP headers, outside its wire fields (never in ``to_dict()``)."""
    response._attach_headers(headers)
    return response


def parse_json(status: int, headers: Mapping[str, str], body: bytes, cls: type[T], what: str) -> T:
    """Decode a 2xx JSON body into ``cls``, or raise :class:`APIResponseValidationError`.

    ``headers`` must already have lower-case names; ``what`` names the
    expected object in the error message.
    """
    request_id = headers.get("x-request-id")
    try:
        payload = json.loads(body)
    except ValueError:
        raise APIResponseValidationError(
            f"the gateway's response is not JSON: {body[:200]!r}",
            status_code=status,
            body=body.decode("utf-8", "replace"),
            request_id=request_id,
        ) from None
    try:
        result: T = converter.structure(payload, cls)
    except Exception as exc:  # cattrs raises several types, some grouping others
        raise APIResponseValidationError(
            f"the gateway's response is not {what}: {exc}",
            status_code=status,
            body=payload,
            request_id=request_id,
        ) from exc
    return result


def parse_completion(status: int, headers: Mapping[str, str], body: bytes) -> SendResponse:
    """Decode a 2xx chat-completion body and attach its headers."""
    response = parse_json(status, headers, body, SendResponse, "a chat completion")
    return attach_headers(response, headers)
