"""The request rules of the shared core, seen on the wire, on both clients.

Every test runs against ``Edgee`` and ``AsyncEdgee`` (the ``make_client``
adapter of ``tests/conftest.py``) over loopback HTTP and checks what the
``FakeGateway`` received, or that it received nothing when a rule refuses a
request before any I/O. The warning tests that need the user's own frame
drive ``AsyncEdgee`` with ``asyncio.run`` directly, as user code would.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from edgee import (
    AsyncEdgee,
    ConfigurationError,
    Edgee,
    EdgeeConfig,
    EdgeeWarning,
    InputObject,
    Message,
    Timeout,
    Tool,
)
from edgee.testing import FakeGateway

SECRET = "sk-edgee-rules-0123456789abcdef"


# --- count_tokens and compress ------------------------------------------------------------


def test_count_tokens_sends_system_and_tokenizer_and_no_tools(
    client: Any, gateway: FakeGateway
) -> None:
    input = {
        "messages": [{"role": "user", "content": "three little words"}],
        "tools": [Tool.function("f")],
        "tool_choice": "auto",
    }
    result = client.count_tokens("gpt-4o", input, system="be brief", tokenizer="cl100k_base")
    assert result.input_tokens > 0
    req = gateway.requests[-1]
    assert (req.method, req.path) == ("POST", "/v1/count_tokens")
    assert req.json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "three little words"}],
        "system": "be brief",
        "tokenizer": "cl100k_base",
    }


def test_count_tokens_refuses_an_unknown_tokenizer_before_any_request(
    client: Any, gateway: FakeGateway
) -> None:
    with pytest.raises(ValueError, match="tokenizer must be one of cl100k_base, o200k_base"):
        client.count_tokens("gpt-4o", "x", tokenizer="gpt2")
    with pytest.raises(TypeError, match="unknown option: tools"):
        client.count_tokens("gpt-4o", "x", tools=[Tool.function("f")])
    assert gateway.requests == []


def test_compress_sends_a_chat_payload_with_debug_and_session_headers(
    client: Any, gateway: FakeGateway
) -> None:
    client.compress(
        "gpt-4o",
        InputObject(messages=[Message.user("please just say the answer")], tags=["t"]),
        tool_choice={"type": "none"},
        session_id="agent-7",
        debug=True,
    )
    req = gateway.requests[-1]
    assert req.path == "/v1/compress"
    assert req.json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "please just say the answer"}],
        "tool_choice": {"type": "none"},
        "tags": ["t"],
    }
    assert req.headers["x-edgee-session-id"] == "agent-7"
    assert req.headers["x-edgee-debug"] == "true"


# --- send / stream options -------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True])
def test_session_id_header_and_debug_body_field_on_chat(
    client: Any, gateway: FakeGateway, streamed: bool
) -> None:
    if streamed:
        client.stream("gpt-4o", "hi", session_id="s-1", debug=True).final_response()
    else:
        client.send("gpt-4o", "hi", session_id="s-1", debug=True)
    req = gateway.requests[-1]
    assert req.headers["x-edgee-session-id"] == "s-1"
    assert "x-edgee-debug" not in req.headers
    assert req.json["enable_debug"] is True


@pytest.mark.parametrize("choice", [{"type": "auto"}, {"type": "none"}], ids=repr)
def test_tool_choice_mode_objects_reach_the_gateway(
    client: Any, gateway: FakeGateway, choice: dict[str, str]
) -> None:
    client.send("gpt-4o", "hi", tools=[Tool.function("f")], tool_choice=choice)
    assert gateway.requests[-1].json["tool_choice"] == choice


def test_generation_options_inside_an_input_dict_are_sent(
    client: Any, gateway: FakeGateway
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.send(
            "gpt-4o",
            {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.2, "max_tokens": 9},
        )
    body = gateway.requests[-1].json
    assert (body["temperature"], body["max_tokens"]) == (0.2, 9)


def test_unknown_input_key_warns_and_is_not_sent(client: Any, gateway: FakeGateway) -> None:
    with pytest.warns(EdgeeWarning, match="'temprature'"):
        client.send("gpt-4o", {"messages": [{"role": "user", "content": "hi"}], "temprature": 1})
    assert "temprature" not in gateway.requests[-1].json


# --- the agent loop: what the SDK returned goes back as it came -----------------------------


@pytest.mark.parametrize("streamed", [False, True])
def test_agent_loop_sends_the_response_message_back(
    client: Any, gateway: FakeGateway, streamed: bool
) -> None:
    gateway.reply_tool_calls(
        [{"name": "get_weather", "arguments": '{"city":"Paris"}', "id": "call_w"}]
    )
    history: list[Any] = [Message.user("weather in Paris?")]
    tools = [Tool.function("get_weather", "Weather", {"type": "object"})]
    if streamed:
        response = client.stream("gpt-4o", history, tools=tools).final_response()
    else:
        response = client.send("gpt-4o", history, tools=tools)
    history.append(response.message)
    history.append({"role": "tool", "tool_call_id": response.tool_calls[0].id, "content": "22C"})
    # A ToolCall the SDK returned, inside a dict message the user wrote.
    history.append({"role": "assistant", "tool_calls": [response.tool_calls[0]]})
    history.append(Message.tool("call_w", "still 22C"))
    client.send("gpt-4o", {"messages": history, "tools": tools})
    sent = gateway.requests[-1].json["messages"]
    wire_call = {
        "id": "call_w",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"] == [wire_call]
    assert sent[2] == {"role": "tool", "tool_call_id": "call_w", "content": "22C"}
    assert sent[3] == {"role": "assistant", "tool_calls": [wire_call]}
    assert len(sent) == 5


def test_a_choice_in_the_history_stands_for_its_message(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("Paris is sunny")
    response = client.send("gpt-4o", "weather?")
    client.send("gpt-4o", [Message.user("weather?"), response.choices[0], Message.user("thanks")])
    assert gateway.requests[-1].json["messages"][1] == {
        "role": "assistant",
        "content": "Paris is sunny",
    }


# --- headers: refused before any I/O -------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "3"},
        {"Transfer-Encoding": "chunked"},
        {"host": "evil.test"},
        {"Connection": "close"},
        {"X-A:B": "1"},
        {"": "1"},
        {"X A": "1"},
        {"X-Note": "caf\u00e9"},
        {"X-Note": "a\r\nX-Injected: 1"},
    ],
    ids=repr,
)
def test_bad_extra_headers_raise_value_error_before_any_request(
    client: Any, gateway: FakeGateway, headers: dict[str, str]
) -> None:
    for call in (
        lambda: client.send("gpt-4o", "x", extra_headers=headers),
        lambda: client.stream("gpt-4o", "x", extra_headers=headers),
        lambda: client.models(extra_headers=headers),
        lambda: client.count_tokens("gpt-4o", "x", extra_headers=headers),
    ):
        with pytest.raises(ValueError, match="extra_headers"):
            call()
    assert gateway.requests == []


def test_bad_default_headers_raise_configuration_error(
    make_client: Any, gateway: FakeGateway
) -> None:
    for headers in ({"Content-Length": "1"}, {"X:A": "1"}, {"X-A": f"{SECRET}\u200b"}):
        with pytest.raises(ConfigurationError, match="default_headers") as info:
            make_client(default_headers=headers)
        assert SECRET not in str(info.value)
    client = make_client()
    with pytest.raises(ConfigurationError, match="default_headers"):
        client.with_options(default_headers={"Host": "evil.test"})
    assert gateway.requests == []


@pytest.mark.parametrize(
    "key", [SECRET[:8] + "\u200b" + SECRET[8:], SECRET + "\u00e9", SECRET[:8] + " " + SECRET[8:]]
)
def test_a_key_outside_visible_ascii_is_refused_without_showing_it(
    make_client: Any, gateway: FakeGateway, key: str
) -> None:
    with pytest.raises(ConfigurationError, match="visible ASCII") as info:
        make_client(api_key=key)
    for text in (str(info.value), repr(info.value)):
        assert SECRET[:8] not in text and SECRET[8:] not in text and "\u200b" not in text
    assert gateway.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://user:hunter2@127.0.0.1:1", "http://127.0.0.1\t:1", "http://127.0.0.1:1/\n"],
    ids=repr,
)
def test_a_bad_base_url_is_refused_without_showing_credentials(make_client: Any, url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url") as info:
        make_client(base_url=url)
    assert "hunter2" not in str(info.value)


# --- api_key and base_url are settable ------------------------------------------------------


def real(client: Any) -> Any:
    """The client itself: the async adapter forwards reads, not attribute writes."""
    return getattr(client, "_client", client)


def test_api_key_is_settable_checked_and_never_shown(
    make_client: Any, gateway: FakeGateway
) -> None:
    adapted = make_client(api_key="sk-old-key")
    client = real(adapted)
    client.api_key = gateway.api_key
    assert client.api_key == gateway.api_key
    adapted.send("gpt-4o", "hi")
    assert gateway.requests[-1].headers["authorization"] == f"Bearer {gateway.api_key}"
    assert gateway.api_key not in repr(client)
    assert gateway.api_key not in str(client)
    with pytest.raises(ConfigurationError) as info:
        client.api_key = SECRET + "\u200b"
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigurationError, match="api_key"):
        client.api_key = ""
    # A refused value leaves the client as it was.
    assert client.api_key == gateway.api_key
    adapted.send("gpt-4o", "again")
    assert gateway.requests[-1].headers["authorization"] == f"Bearer {gateway.api_key}"


def test_base_url_is_settable_and_checked(make_client: Any, gateway: FakeGateway) -> None:
    with FakeGateway(api_key=gateway.api_key) as other:
        adapted = make_client()
        client = real(adapted)
        client.base_url = other.url + "/"
        assert client.base_url == other.url
        adapted.send("gpt-4o", "hi")
        assert len(other.requests) == 1 and gateway.requests == []
        for bad in ("ftp://x.test", "http://u:hunter2@127.0.0.1:1", "http://x .test"):
            with pytest.raises(ConfigurationError, match="base_url") as info:
                client.base_url = bad
            assert "hunter2" not in str(info.value)
        assert client.base_url == other.url
        assert other.url in repr(client)


# --- config dicts, connection_limit, Timeout fields ------------------------------------------


def test_unknown_config_key_warns_and_the_client_works(
    make_client: Any, gateway: FakeGateway
) -> None:
    config = {"api_key": gateway.api_key, "base_url": gateway.url, "retries": 3}
    with pytest.warns(EdgeeWarning, match="'retries'"):
        client = make_client(config)
    client.send("gpt-4o", "hi")
    assert len(gateway.requests) == 1


def test_connection_limit_and_timeout_fields_reach_the_client_options(
    make_client: Any, gateway: FakeGateway
) -> None:
    timeout = Timeout(connect=2, read=30, total=90, pool=3)
    client = make_client(
        EdgeeConfig(
            api_key=gateway.api_key, base_url=gateway.url, connection_limit=4, timeout=timeout
        )
    )
    assert client._options.connection_limit == 4
    assert (client.timeout.total, client.timeout.pool) == (90.0, 3.0)
    client.send("gpt-4o", "hi")
    with pytest.raises(ConfigurationError, match="connection_limit must be an integer >= 1"):
        make_client({"api_key": gateway.api_key, "connection_limit": 0})


def test_max_retries_is_one_error_type_at_construction_and_per_request(
    make_client: Any, client: Any, gateway: FakeGateway
) -> None:
    for bad in (-1, "2", True, 1.5):
        with pytest.raises(ConfigurationError, match="max_retries must be an integer >= 0"):
            make_client(max_retries=bad)
        with pytest.raises(ValueError, match="max_retries must be an integer >= 0"):
            client.send("gpt-4o", "x", max_retries=bad)
    assert gateway.requests == []


# --- the deprecation warning names the user's line, whatever the path --------------------------

DEPRECATED = {"messages": [{"role": "user", "content": "hi"}], "compression_model": "claude"}


def _one_warning_here(record: list[warnings.WarningMessage]) -> None:
    deprecations = [w for w in record if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1
    assert "tool_result_trimming" in str(deprecations[0].message)
    assert deprecations[0].filename == __file__


def test_deprecation_warning_points_at_the_sync_callers_line(gateway: FakeGateway) -> None:
    with Edgee(api_key=gateway.api_key, base_url=gateway.url, max_retries=0) as client:
        with pytest.warns(DeprecationWarning) as record:
            client.send("gpt-4o", DEPRECATED)
        _one_warning_here(record.list)
        with pytest.warns(DeprecationWarning) as record:
            stream = client.send("gpt-4o", DEPRECATED, stream=True)
        _one_warning_here(record.list)
        stream.final_response()
        with pytest.warns(DeprecationWarning) as record:
            client.stream("gpt-4o", DEPRECATED).final_response()
        _one_warning_here(record.list)
        with pytest.warns(DeprecationWarning) as record:
            client.compress("gpt-4o", DEPRECATED)
        _one_warning_here(record.list)
    assert [r.json["compression_model"] for r in gateway.requests] == ["claude"] * 4


def test_deprecation_warning_points_at_the_async_callers_line(gateway: FakeGateway) -> None:
    async def main() -> list[list[warnings.WarningMessage]]:
        records = []
        async with AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url) as client:
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                await client.send("gpt-4o", DEPRECATED)
            records.append(record)
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                stream = await client.send("gpt-4o", DEPRECATED, stream=True)
            records.append(record)
            await stream.final_response()
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                stream = await client.stream("gpt-4o", DEPRECATED)
            records.append(record)
            await stream.final_response()
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                await client.count_tokens("gpt-4o", "x")
                await client.compress("gpt-4o", DEPRECATED)
            records.append(record)
        return records

    for record in asyncio.run(main()):
        _one_warning_here(record)
    assert len(gateway.requests) == 5


def test_unknown_key_warnings_point_at_the_callers_line(gateway: FakeGateway) -> None:
    bad_input = {"messages": [{"role": "user", "content": "hi"}], "nope": 1}
    with pytest.warns(EdgeeWarning) as record:
        client = Edgee({"api_key": gateway.api_key, "base_url": gateway.url, "nope": 1})
    assert record[0].filename == __file__
    with client, pytest.warns(EdgeeWarning) as record:
        client.send("gpt-4o", bad_input, stream=True).final_response()
    assert record[0].filename == __file__

    async def main() -> list[warnings.WarningMessage]:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            async with AsyncEdgee(
                {"api_key": gateway.api_key, "base_url": gateway.url, "x": 1}
            ) as c:
                await c.send("gpt-4o", bad_input)
        return record

    record = asyncio.run(main())
    assert [w.filename for w in record if issubclass(w.category, EdgeeWarning)] == [__file__] * 2
