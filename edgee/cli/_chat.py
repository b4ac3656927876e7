"""``edgee chat`` and ``edgee models``: the sync client, driven from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from edgee.cli._errors import EXIT_API_ERROR, EXIT_OK, UsageError
from edgee.errors import ConfigurationError
from edgee.models import Message, SendResponse

if TYPE_CHECKING:
    from edgee._structured import StructuredFormat
    from edgee._sync import Edgee

__all__ = ["format_usage", "make_client", "run_chat", "run_models"]


class _Output:
    """A text stream written piece by piece, flushed at once, that knows if a line is open."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.line_open = False

    def write(self, text: str) -> None:
        if not text:
            return
        self.stream.write(text)
        # Flush per piece: the point of streaming is to show words as they come,
        # even when stdout is a pipe (block-buffered by default).
        self.stream.flush()
        self.line_open = not text.endswith("\n")

    def end_line(self) -> None:
        """Finish a partly written line, so the shell prompt starts on its own line."""
        if self.line_open:
            self.write("\n")


def _json_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def make_client(args: argparse.Namespace) -> Edgee:
    """An ``Edgee`` client from the connection options (and the environment)."""
    from edgee._sync import Edgee

    try:
        client = Edgee(
            api_key=args.api_key,
            base_url=args.base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
        )
    except ConfigurationError as exc:
        # A bad URL is a usage error of the command line; a key problem is not.
        if str(exc).startswith(("base_url", "EDGEE_BASE_URL")):
            raise UsageError(str(exc)) from exc
        raise
    except (TypeError, ValueError) as exc:  # e.g. a base URL without http(s)://
        raise UsageError(str(exc)) from exc
    # Connection errors name the gateway actually used (flag, variable or default).
    args.resolved_base_url = client.base_url
    return client


def _model(args: argparse.Namespace) -> str:
    model: str = args.model or os.environ.get("EDGEE_MODEL", "").strip()
    if not model:
        raise UsageError(
            "no model: pass -m MODEL (e.g. -m openai/gpt-4o) or set EDGEE_MODEL; "
            "'edgee models' lists them"
        )
    return model


def _prompt(args: argparse.Namespace) -> str:
    words: list[str] = args.prompt
    if words and words != ["-"]:
        prompt = " ".join(words)
    else:
        if sys.stdin is None:
            raise UsageError("no prompt: pass it as an argument")
        if sys.stdin.isatty():
            print("Type your prompt, then Ctrl-D (Ctrl-Z Enter on Windows):", file=sys.stderr)
        # Only the trailing newline(s) of `echo` or a file; leading indentation may matter.
        prompt = sys.stdin.read().rstrip()
    if not prompt.strip():
        raise UsageError("empty prompt: pass it as an argument or on stdin")
    return prompt


def _tokens(value: int | None) -> str:
    return "?" if value is None else str(value)


def format_usage(response: SendResponse) -> list[str]:
    """Lines describing token usage, provider and compression of `response`."""
    lines = []
    usage = response.usage
    if usage is None:
        line = "usage: not reported by the gateway"
    else:
        line = (
            f"usage: {_tokens(usage.prompt_tokens)} prompt + "
            f"{_tokens(usage.completion_tokens)} completion = "
            f"{_tokens(usage.total_tokens)} tokens"
        )
    if response.provider:
        line += f" (provider: {response.provider})"
    lines.append(line)
    compression = response.compression
    if compression is None:
        lines.append("compression: none reported")
    else:
        parts = []
        if compression.saved_tokens is not None:
            parts.append(f"{compression.saved_tokens} tokens saved")
        if compression.reduction is not None:
            parts.append(f"{compression.reduction:.1f}% smaller")
        if compression.cost_savings is not None:
            # The gateway counts savings in micro-dollars.
            parts.append(f"${compression.cost_savings / 1_000_000:.6f} saved")
        if compression.time_ms is not None:
            parts.append(f"in {compression.time_ms} ms")
        lines.append("compression: " + (", ".join(parts) or "reported, without figures"))
    return lines


def _schema_format(args: argparse.Namespace) -> StructuredFormat[Any] | None:
    """The compiled ``--json-schema FILE`` (a usage error when it cannot be read)."""
    path = args.json_schema
    if path is None:
        return None
    if args.json:
        raise UsageError("--json-schema prints JSON already; leave out --json")
    from edgee._structured import structured_format

    try:
        with open(path, encoding="utf-8") as file:
            schema = json.load(file)
    except OSError as exc:
        raise UsageError(f"--json-schema: cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"--json-schema: {path} is not JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise UsageError(f"--json-schema: {path} must hold a JSON object (a schema)")
    try:
        return structured_format(schema)
    except TypeError as exc:
        raise UsageError(f"--json-schema: {exc}") from exc


def _run_structured(
    client: Edgee,
    model: str,
    messages: list[Message],
    options: dict[str, Any],
    args: argparse.Namespace,
) -> tuple[int, SendResponse]:
    """``chat --json-schema``: the JSON streams to stderr, the parsed value goes to stdout."""
    from edgee._events import Done, TextDelta

    progress = _Output(sys.stderr)
    options["response_format"] = args.schema_format
    response: SendResponse | None = None
    try:
        if args.no_stream:
            response = client.parse(model, messages, **options)
        else:
            if args.include_usage:
                options["include_usage"] = True
            with client.stream(model, messages, **options) as stream:
                for event in stream.events():
                    if type(event) is TextDelta:
                        progress.write(event.delta)
                    elif type(event) is Done:
                        response = event.response
    finally:
        progress.end_line()
    assert response is not None  # events() ends with Done, or raises
    refusal = getattr(response, "refusal", None)
    if refusal is not None:
        print(f"edgee: the model refused: {refusal}", file=sys.stderr)
        return EXIT_API_ERROR, response
    parsed = getattr(response, "parsed", None)
    sys.stdout.write(json.dumps(parsed, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
    return EXIT_OK, response


def run_chat(args: argparse.Namespace) -> int:
    """``edgee chat``: one prompt, the answer streamed (or not) to stdout."""
    model = _model(args)
    args.schema_format = _schema_format(args)
    options: dict[str, Any] = {}
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    out = _Output(sys.stdout)
    # The client first: a missing key should fail before the user types a prompt.
    with make_client(args) as client:
        prompt = _prompt(args)
        messages = [Message.user(prompt)]
        if args.system:
            messages.insert(0, Message.system(args.system))
        if args.schema_format is not None:
            code, response = _run_structured(client, model, messages, options, args)
            if args.include_usage:
                for line in format_usage(response):
                    print(line, file=sys.stderr)
            return code
        try:
            if args.no_stream:
                response = client.send(model, messages, **options)
                out.write(_json_line(response.to_dict()) if args.json else response.text or "")
            else:
                if args.include_usage:
                    options["include_usage"] = True
                # `with`: Ctrl-C or an error mid-stream still closes the connection.
                with client.stream(model, messages, **options) as stream:
                    for chunk in stream:
                        out.write(_json_line(chunk.to_dict()) if args.json else chunk.text or "")
                    response = stream.final_response()
        finally:
            out.end_line()
    if args.include_usage:
        for line in format_usage(response):
            print(line, file=sys.stderr)
    return EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    """``edgee models``: the gateway's models, one per line (id, then owner)."""
    with make_client(args) as client:
        listing = client.models(args.provider)
    if args.json:
        sys.stdout.write(_json_line(listing.to_dict()))
        return EXIT_OK
    rows = sorted(listing.data, key=lambda model: model.id)
    if not rows:
        print("the gateway lists no models", file=sys.stderr)
        return EXIT_OK
    width = max(len(model.id) for model in rows)
    for model in rows:
        sys.stdout.write(f"{model.id:<{width}}  {model.owned_by or ''}".rstrip() + "\n")
    return EXIT_OK
