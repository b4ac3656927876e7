"""The ``edgee`` command line: ``edgee chat``, ``edgee models`` and ``edgee demo``.

Installed as the ``edgee`` console script and runnable as ``python -m edgee``.
Importing this module is cheap: it builds an ``argparse`` parser and nothing
else; the HTTP clients (``requests``, ``aiohttp``) and the embedded test
gateway are imported only by the command that needs them.

Every failure ends with one line on stderr (what went wrong, the gateway's own
message, what to do) and a distinct exit code, see :data:`EXIT_CODES_HELP`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from edgee._config import DEFAULT_BASE_URL
from edgee._version import __version__
from edgee.cli._errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    describe_error,
)

__all__ = ["EXIT_CODES_HELP", "build_parser", "main"]

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    the gateway answered with an error (HTTP 4xx/5xx, or an error inside the stream)
  2    usage or configuration error (bad arguments, no API key, invalid URL)
  3    connection error or timeout (gateway unreachable, stalled, or cut off mid-answer)
  130  interrupted (Ctrl-C)
  141  stdout was closed early (piped into 'head', say)
"""

ENVIRONMENT_HELP = f"""\
environment:
  EDGEE_API_KEY   API key, used when --api-key is not given
  EDGEE_BASE_URL  gateway URL, used when --base-url is not given (default {DEFAULT_BASE_URL})
  EDGEE_MODEL     model of 'edgee chat' when -m is not given
  EDGEE_LOG       'info' or 'debug' logs each request to stderr (never the key)
"""

_MAIN_DESCRIPTION = """\
Command line of the Edgee AI Gateway Python SDK.

  edgee demo                                   see the SDK work (offline, no API key)
  edgee chat "Hello!" -m openai/gpt-4o         stream an answer
  echo "Summarise this" | edgee chat -m openai/gpt-4o --no-stream
  edgee models                                 list the gateway's models
"""


def _positive_float(text: str) -> float:
    """argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _connection_options() -> argparse.ArgumentParser:
    """The options shared by the commands that talk to a real gateway."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument(
        "--base-url",
        metavar="URL",
        help=f"gateway URL (default: $EDGEE_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key (default: $EDGEE_API_KEY; prefer the variable: command lines are "
        "visible to other users of the machine)",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="connect timeout, and the longest silence tolerated while reading "
        "(default: 5 s to connect, 600 s of silence)",
    )
    group.add_argument(
        "--max-retries",
        type=_non_negative_int,
        metavar="N",
        help="retries of connection errors, 408, 409, 429 and 5xx (default: 2)",
    )
    return parent


# The handlers import their module on first use. They must not be named like
# those modules: importing `edgee.cli._chat` sets the attribute `_chat` here.
def _command_chat(args: argparse.Namespace) -> int:
    from edgee.cli._chat import run_chat

    return run_chat(args)


def _command_models(args: argparse.Namespace) -> int:
    from edgee.cli._chat import run_models

    return run_models(args)


def _command_demo(args: argparse.Namespace) -> int:
    from edgee.cli._demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``edgee`` argument parser (one sub-parser per command)."""
    formatter = argparse.RawDescriptionHelpFormatter
    epilog = f"{EXIT_CODES_HELP}\n{ENVIRONMENT_HELP}"
    parser = argparse.ArgumentParser(
        prog="edgee",
        description=_MAIN_DESCRIPTION,
        epilog=epilog,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"edgee-python {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    connection = _connection_options()

    chat = commands.add_parser(
        "chat",
        parents=[connection],
        help="send a prompt and stream the answer to stdout",
        description="Send a prompt to a model and print the answer as it arrives.",
        epilog=epilog,
        formatter_class=formatter,
    )
    chat.add_argument(
        "prompt",
        nargs="*",
        help="the prompt (several words are joined by spaces); read from stdin when omitted or '-'",
    )
    chat.add_argument(
        "-m", "--model", help="model to ask, e.g. openai/gpt-4o (default: $EDGEE_MODEL)"
    )
    chat.add_argument("-s", "--system", metavar="TEXT", help="a system message sent first")
    chat.add_argument(
        "--no-stream",
        action="store_true",
        help="wait for the whole answer instead of streaming it",
    )
    chat.add_argument(
        "--json",
        action="store_true",
        help="print JSON instead of text: one chat.completion.chunk object per line "
        "(or the whole chat.completion with --no-stream)",
    )
    chat.add_argument(
        "--include-usage",
        action="store_true",
        help="print token usage and Edgee compression savings to stderr at the end",
    )
    chat.add_argument(
        "--json-schema",
        metavar="FILE",
        help="ask for JSON that fits the JSON Schema in FILE (a bare schema or a whole "
        "response_format); the answer streams to stderr, the parsed JSON goes to stdout",
    )
    chat.add_argument("-t", "--temperature", type=float, help="sampling temperature")
    chat.add_argument(
        "--max-tokens", type=_non_negative_int, metavar="N", help="longest answer, in tokens"
    )
    chat.set_defaults(handler=_command_chat, command_parser=chat)

    models = commands.add_parser(
        "models",
        parents=[connection],
        help="list the models the gateway serves",
        description="List the models the gateway serves (GET /v1/models), sorted by id.",
        epilog=epilog,
        formatter_class=formatter,
    )
    models.add_argument("--provider", help="only the models of this provider, e.g. openai")
    models.add_argument("--json", action="store_true", help="print the raw list as JSON")
    models.set_defaults(handler=_command_models, command_parser=models)

    demo = commands.add_parser(
        "demo",
        help="run the SDK against a built-in local gateway (offline, no API key)",
        description="Start an embedded fake gateway on 127.0.0.1 and run the sync and async "
        "clients against it: streaming, tool calling and a plain send. Needs no network "
        "and no API key.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    demo.add_argument(
        "-m",
        "--model",
        default="openai/gpt-4o",
        help="model name shown in the demo (default: openai/gpt-4o)",
    )
    demo.add_argument(
        "--trace",
        action="store_true",
        help="print the OpenTelemetry spans of the run (needs opentelemetry-sdk)",
    )
    demo.set_defaults(handler=_command_demo, command_parser=demo)
    return parser


def _make_streams_forgiving() -> None:
    # A console that cannot encode a character (a cp1252 Windows console, say)
    # should show a '?' rather than abort the answer with UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # detached or odd streams
                reconfigure(errors="replace")


def _silence_stdout() -> None:
    # The reader went away (``edgee chat ... | head -1``). Point stdout at
    # devnull so the interpreter's final flush does not complain a second time.
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no real descriptor
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _make_streams_forgiving()
    try:
        return handler(args)
    except KeyboardInterrupt:
        # The command's `with` blocks have already closed its connections.
        print("edgee: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except UsageError as exc:
        args.command_parser.print_usage(sys.stderr)
        print(f"edgee {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        described = describe_error(exc, base_url=getattr(args, "resolved_base_url", None))
        if described is None:
            raise  # a bug, not a user-facing condition: keep the traceback
        code, line = described
        print(f"edgee: error: {line}", file=sys.stderr)
        return code
