"""Tests of :mod:`edgee._request`: from ``send()``/``stream()`` arguments to request bytes.

Bodies are compared byte for byte where the exact encoding matters (compact
JSON, UTF-8 text rather than ``\\u`` escapes, key order); headers as whole
dicts. Every invalid input must raise ``TypeError``/``ValueError`` naming the
offending field. Every test builds its own options with an empty environment.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgee._config import ClientOptions, Timeout, resolve_options
from edgee._request import (
    CHAT_PATH,
    OPTION_NAMES,
    PreparedRequest,
    build_chat_request,
    build_request,
)
from edgee._version import __version__
from edgee.models import (
    ContentPart,
    FunctionCall,
    FunctionDefinition,
    ImageUrl,
    InputObject,
    Message,
    Role,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceFunction,
)

KEY = "sk-edgee-test-0123456789"
URL = "https://gateway.example"
ENDPOINT = URL + "/v1/chat/completions"
HELLO = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}'

WEATHER_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def options(**kwargs: Any) -> ClientOptions:
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("base_url", URL)
    return resolve_options(environ={}, **kwargs)


OPTIONS = options()


def build(
    input: Any = "hello",
    *,
    model: Any = "gpt-4o",
    stream: bool = False,
    opts: ClientOptions = OPTIONS,
    **kwargs: Any,
) -> PreparedRequest:
    return build_chat_request(opts, model, input, stream=stream, **kwargs)


def body_of(req: PreparedRequest) -> Any:
    assert req.body is not None
    return json.loads(req.body)


def messages_of(input: Any, **kwargs: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = body_of(build(input, **kwargs))["messages"]
    return messages


def base_headers(*, stream: bool = False) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {KEY}",
        "User-Agent": f"edgee-python/{__version__}",
        "Accept": "text/event-stream" if stream else "application/json",
        "Content-Type": "application/json",
    }


# --- input forms ----------------------------------------------------------------


def test_string_input_is_one_user_message_byte_exact() -> None:
    req = build("hello")
    assert req.body == HELLO
    assert req.method == "POST"
    assert req.url == ENDPOINT
    assert req.stream is False


def test_text_is_utf8_not_escaped_and_json_escapes_are_minimal() -> None:
    text = 'héllo ☃ 🙂 "quoted" \\ back\nnew\ttab \u2028 end'
    req = build(text)
    expected = (
        '{"model":"gpt-4o","messages":[{"role":"user","content":'
        '"héllo ☃ 🙂 \\"quoted\\" \\\\ back\\nnew\\ttab \u2028 end"}]}'
    ).encode()
    assert req.body == expected
    assert body_of(req)["messages"][0]["content"] == text


def test_empty_string_input_is_an_empty_user_message() -> None:
    assert messages_of("") == [{"role": "user", "content": ""}]


def test_list_of_messages_every_role_byte_exact() -> None:
    call = ToolCall(
        id="call_1", function=FunctionCall(name="weather", arguments='{"city":"Paris"}')
    )
    req = build(
        [
            Message.system("be brief"),
            Message.developer("no emojis"),
            Message.user("weather in Paris?"),
            Message.assistant(tool_calls=[call]),
            Message.tool("call_1", "22C"),
            Message.assistant("It is 22C."),
        ]
    )
    expected = (
        b'{"model":"gpt-4o","messages":['
        b'{"role":"system","content":"be brief"},'
        b'{"role":"developer","content":"no emojis"},'
        b'{"role":"user","content":"weather in Paris?"},'
        b'{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":'
        b'{"name":"weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},'
        b'{"role":"tool","content":"22C","tool_call_id":"call_1"},'
        b'{"role":"assistant","content":"It is 22C."}'
        b"]}"
    )
    assert req.body == expected


def test_list_of_dicts_is_sent_as_given() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi", "name": "ada"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ]
    req = build(messages)
    expected = (
        b'{"model":"gpt-4o","messages":['
        b'{"role":"system","content":"be brief"},'
        b'{"role":"user","content":"hi","name":"ada"},'
        b'{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function"}]},'
        b'{"role":"tool","tool_call_id":"c","content":"ok"}'
        b"]}"
    )
    assert req.body == expected


def test_dict_and_message_forms_give_the_same_messages() -> None:
    as_models = [Message.system("s"), Message.user("u"), Message.tool("t1", "r")]
    as_dicts = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "tool", "content": "r", "tool_call_id": "t1"},
    ]
    assert build(as_models).body == build(as_dicts).body


def test_mixed_list_of_messages_and_dicts() -> None:
    mixed = [Message.system("s"), {"role": "user", "content": "u"}, Message.assistant("a")]
    assert messages_of(mixed) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
    ]


def test_tuple_of_messages_is_accepted() -> None:
    assert messages_of((Message.user("a"), {"role": "user", "content": "b"})) == [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
    ]


def test_role_enum_and_role_string_in_dicts() -> None:
    assert messages_of([{"role": Role.user, "content": "x"}]) == [{"role": "user", "content": "x"}]


def test_models_nested_inside_dicts_are_encoded() -> None:
    call = ToolCall(id="c1", function=FunctionCall(name="f", arguments="{}"))
    assert messages_of([{"role": "assistant", "tool_calls": [call]}]) == [
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        }
    ]


def test_content_parts() -> None:
    parts = [
        ContentPart(type="text", text="what is this?"),
        ContentPart(type="image_url", image_url=ImageUrl(url="https://x.test/a.png", detail="low")),
    ]
    req = build([Message.user(parts)])
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"user","content":['
        b'{"type":"text","text":"what is this?"},'
        b'{"type":"image_url","image_url":{"url":"https://x.test/a.png","detail":"low"}}'
        b"]}]}"
    )
    dict_parts = [{"type": "text", "text": "hi"}]
    assert messages_of([{"role": "user", "content": dict_parts}]) == [
        {"role": "user", "content": dict_parts}
    ]


def test_input_object_full_byte_exact_and_headers() -> None:
    input = InputObject(
        messages=[Message.system("be brief"), Message.user("weather?")],
        tools=[Tool.function("get_weather", "Current weather", WEATHER_PARAMS)],
        tool_choice="auto",
        tags=["team-a", "prod"],
        tool_result_trimming=True,
        tool_surface_reduction=False,
        output_brevity=True,
    )
    req = build(input, stream=True)
    assert req.body == (
        b'{"model":"gpt-4o","messages":['
        b'{"role":"system","content":"be brief"},{"role":"user","content":"weather?"}],'
        b'"stream":true,'
        b'"tools":[{"type":"function","function":{"name":"get_weather",'
        b'"description":"Current weather","parameters":{"type":"object",'
        b'"properties":{"city":{"type":"string"}},"required":["city"]}}}],'
        b'"tool_choice":"auto","tags":["team-a","prod"]}'
    )
    assert req.headers == {
        **base_headers(stream=True),
        "X-Edgee-Compression-Tool-Result-Trimming": "true",
        "X-Edgee-Compression-Tool-Surface-Reduction": "false",
        "X-Edgee-Compression-Brevity": "true",
    }
    assert req.stream is True


def test_dict_input_equals_input_object() -> None:
    tool = Tool.function("get_weather", "Current weather", WEATHER_PARAMS)
    choice = {"type": "function", "function": {"name": "get_weather"}}
    fields: dict[str, Any] = {
        "messages": [Message.user("weather?")],
        "tools": [tool],
        "tool_choice": choice,
        "tags": ["a"],
        "tool_result_trimming": False,
        "output_brevity": True,
    }
    from_dict = build(dict(fields))
    from_object = build(InputObject(**fields))
    assert from_dict.body == from_object.body
    assert from_dict.headers == from_object.headers
    body = body_of(from_dict)
    assert list(body) == ["model", "messages", "tools", "tool_choice", "tags"]
    assert body["tool_choice"] == choice
    assert from_dict.headers == {
        **base_headers(),
        "X-Edgee-Compression-Tool-Result-Trimming": "false",
        "X-Edgee-Compression-Brevity": "true",
    }


def test_dict_input_with_only_messages() -> None:
    assert build({"messages": [{"role": "user", "content": "hello"}]}).body == HELLO
    assert build(InputObject(messages=[Message.user("hello")])).body == HELLO


def test_tool_forms_are_equivalent() -> None:
    short = Tool.function("f", "does f", {"type": "object"})
    full = Tool(
        type="function",
        function=FunctionDefinition(name="f", description="does f", parameters={"type": "object"}),
    )
    as_dict = {
        "type": "function",
        "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}},
    }
    results = [
        body_of(build({"messages": [Message.user("hi")], "tools": [t]}))["tools"]
        for t in (short, full, as_dict)
    ]
    assert results[0] == results[1] == results[2]


def test_tool_dict_without_type_gets_function_type_and_is_not_mutated() -> None:
    tool: dict[str, Any] = {"function": {"name": "f"}}
    sent = body_of(build({"messages": [Message.user("hi")], "tools": [tool]}))["tools"]
    assert sent == [{"function": {"name": "f"}, "type": "function"}]
    assert tool == {"function": {"name": "f"}}


def test_tool_with_only_a_name() -> None:
    tools = body_of(build({"messages": [Message.user("hi")], "tools": [Tool.function("ping")]}))
    assert tools["tools"] == [{"type": "function", "function": {"name": "ping"}}]


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_tool_choice_strings(choice: str) -> None:
    body = body_of(build({"messages": [Message.user("hi")], "tool_choice": choice}))
    assert body["tool_choice"] == choice


@pytest.mark.parametrize(
    "choice",
    [
        {"type": "function", "function": {"name": "f"}},
        {"function": {"name": "f"}},
        ToolChoice(function=ToolChoiceFunction(name="f")),
    ],
    ids=["dict", "dict-without-type", "model"],
)
def test_tool_choice_function_forms(choice: Any) -> None:
    body = body_of(build({"messages": [Message.user("hi")], "tool_choice": choice}))
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}


def test_empty_tools_and_tags_are_omitted() -> None:
    req = build({"messages": [Message.user("hello")], "tools": [], "tags": []}, tags=[])
    assert req.body == HELLO
    req = build(InputObject(messages=[Message.user("hello")], tools=[], tags=[]))
    assert req.body == HELLO


def test_input_tags_and_option_tags_are_joined_in_order() -> None:
    body = body_of(build({"messages": [Message.user("hi")], "tags": ["a", "b"]}, tags=["c"]))
    assert body["tags"] == ["a", "b", "c"]
    assert body_of(build("hi", tags=("x", "y")))["tags"] == ["x", "y"]


def test_tools_and_tool_choice_as_options() -> None:
    tool = Tool.function("get_weather", "Current weather", WEATHER_PARAMS)
    as_options = build("hello", tools=[tool], tool_choice="required")
    as_input = build(
        {"messages": [Message.user("hello")], "tools": [tool], "tool_choice": "required"}
    )
    assert as_options.body == as_input.body
    assert list(body_of(as_options)) == ["model", "messages", "tools", "tool_choice"]


def test_tool_options_win_over_the_input() -> None:
    input = InputObject(
        messages=[Message.user("hi")], tools=[Tool.function("old")], tool_choice="none"
    )
    body = body_of(build(input, tools=[{"function": {"name": "new"}}], tool_choice="auto"))
    assert body["tools"] == [{"function": {"name": "new"}, "type": "function"}]
    assert body["tool_choice"] == "auto"
    # None options leave the input's values alone.
    body = body_of(build(input, tools=None, tool_choice=None))
    assert body["tools"][0]["function"]["name"] == "old"
    assert body["tool_choice"] == "none"


def test_stream_flag_only_when_true() -> None:
    assert "stream" not in body_of(build(stream=False))
    req = build(stream=True)
    assert (
        req.body
        == b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],"stream":true}'
    )


# --- headers and URL -------------------------------------------------------------


def test_exact_headers_non_stream_and_stream() -> None:
    assert build(stream=False).headers == base_headers(stream=False)
    assert build(stream=True).headers == base_headers(stream=True)


def test_user_agent_names_the_package_version() -> None:
    assert build().headers["User-Agent"] == f"edgee-python/{__version__}"
    assert __version__ and __version__[0].isdigit()


def test_default_and_extra_headers() -> None:
    opts = options(default_headers={"X-Team": "a", "X-Trace": "1"})
    req = build(opts=opts, extra_headers={"X-Trace": "2", "X-Call": "c"})
    assert req.headers == {**base_headers(), "X-Team": "a", "X-Trace": "2", "X-Call": "c"}


def test_header_overrides_ignore_case() -> None:
    opts = options(default_headers={"user-agent": "my-app/1.0", "x-team": "a"})
    req = build(opts=opts, extra_headers={"X-TEAM": "b", "accept": "application/x-ndjson"})
    expected = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "user-agent": "my-app/1.0",
        "X-TEAM": "b",
        "accept": "application/x-ndjson",
    }
    assert req.headers == expected
    assert len({name.lower() for name in req.headers}) == len(req.headers)


def test_extra_headers_override_compression_headers() -> None:
    input = {"messages": [Message.user("hi")], "output_brevity": True}
    req = build(input, extra_headers={"x-edgee-compression-brevity": "false"})
    assert req.headers == {**base_headers(), "x-edgee-compression-brevity": "false"}


@pytest.mark.parametrize(
    ("field", "header"),
    [
        ("tool_result_trimming", "X-Edgee-Compression-Tool-Result-Trimming"),
        ("tool_surface_reduction", "X-Edgee-Compression-Tool-Surface-Reduction"),
        ("output_brevity", "X-Edgee-Compression-Brevity"),
    ],
)
@pytest.mark.parametrize(("value", "sent"), [(True, "true"), (False, "false")])
def test_each_compression_toggle_is_one_header(
    field: str, header: str, value: bool, sent: str
) -> None:
    req = build({"messages": [Message.user("hello")], field: value})
    assert req.headers == {**base_headers(), header: sent}
    assert req.body == HELLO  # toggles are headers, never body fields
    req = build(InputObject(messages=[Message.user("hello")], **{field: value}))
    assert req.headers == {**base_headers(), header: sent}


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "", None, [True]], ids=repr)
def test_compression_toggles_that_are_not_real_bools_are_ignored(value: Any) -> None:
    input = {
        "messages": [Message.user("hello")],
        "tool_result_trimming": value,
        "tool_surface_reduction": value,
        "output_brevity": value,
    }
    req = build(input)
    assert req.headers == base_headers()
    assert req.body == HELLO


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("https://gateway.example", ENDPOINT),
        ("https://gateway.example/", ENDPOINT),
        ("https://gateway.example///", ENDPOINT),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("https://proxy.example/edgee/", "https://proxy.example/edgee/v1/chat/completions"),
    ],
)
def test_url_tolerates_trailing_slashes(base_url: str, url: str) -> None:
    assert build(opts=options(base_url=base_url)).url == url


def test_url_from_the_environment_and_the_default() -> None:
    env_opts = resolve_options(api_key=KEY, environ={"EDGEE_BASE_URL": "https://env.example/"})
    assert build(opts=env_opts).url == "https://env.example/v1/chat/completions"
    default_opts = resolve_options(api_key=KEY, environ={})
    assert build(opts=default_opts).url == "https://edgee.io/v1/chat/completions"


def test_chat_path() -> None:
    assert CHAT_PATH == "/v1/chat/completions"
    assert build().url == URL + CHAT_PATH


def test_build_request_without_body() -> None:
    req = build_request(OPTIONS, "GET", "/v1/models")
    assert req.url == URL + "/v1/models"
    assert req.body is None
    assert req.method == "GET"
    assert req.headers == {
        "Authorization": f"Bearer {KEY}",
        "User-Agent": f"edgee-python/{__version__}",
        "Accept": "application/json",
    }


def test_prepared_request_repr_hides_the_key() -> None:
    req = build()
    assert KEY not in repr(req)
    assert KEY not in str(req)


@pytest.mark.parametrize("bad", ["a\r\nX-Evil: 1", "a\nb", "a\0"])
def test_header_values_with_line_breaks_are_rejected_without_quoting_them(bad: str) -> None:
    with pytest.raises(ValueError, match="extra_headers") as info:
        build(extra_headers={"X-Note": bad})
    assert bad not in str(info.value)


# --- options ------------------------------------------------------------------------

ALL_BODY_OPTIONS: dict[str, Any] = {
    "temperature": 0.2,
    "top_p": 0.9,
    "max_tokens": 100,
    "max_completion_tokens": 120,
    "stop": ["\n\n", "END"],
    "seed": 42,
    "n": 2,
    "response_format": {"type": "json_object"},
    "user": "user-1",
    "metadata": {"k": "v"},
    "frequency_penalty": 0.5,
    "presence_penalty": -0.5,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 3,
    "parallel_tool_calls": False,
    "reasoning_effort": "low",
    "edgee_tool_ids": ["t1", "t2"],
    "edgee_pending_id": "pending-1",
    "enable_debug": True,
}


@pytest.mark.parametrize(("name", "value"), list(ALL_BODY_OPTIONS.items()))
def test_each_body_option_is_sent(name: str, value: Any) -> None:
    body = body_of(build(**{name: value}))
    assert list(body) == ["model", "messages", name]
    assert body[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 0),
        ("seed", 0),
        ("n", 0),
        ("enable_debug", False),
        ("stop", ""),
        ("metadata", {}),
    ],
)
def test_falsy_options_are_still_sent(name: str, value: Any) -> None:
    assert body_of(build(**{name: value}))[name] == value


def test_options_left_at_none_are_not_sent() -> None:
    nones = dict.fromkeys(OPTION_NAMES)
    req = build(**nones)
    assert req.body == HELLO
    assert req.headers == base_headers()
    assert req.timeout == OPTIONS.timeout
    assert req.max_retries == OPTIONS.max_retries


def test_option_names_are_the_documented_ones() -> None:
    assert {
        *ALL_BODY_OPTIONS,
        "tools",
        "tool_choice",
        "tags",
        "include_usage",
        "extra_body",
        "extra_headers",
        "timeout",
        "max_retries",
        "session_id",
        "debug",
    } == OPTION_NAMES


def test_full_key_order() -> None:
    input = InputObject(
        messages=[Message.user("hi")],
        tools=[Tool.function("f")],
        tool_choice="required",
        tags=["t"],
        compression_model="claude",
    )
    # Options given in reverse order still come out in the documented order.
    reversed_options = dict(reversed(list(ALL_BODY_OPTIONS.items())))
    with pytest.warns(DeprecationWarning):
        req = build(
            input,
            stream=True,
            include_usage=True,
            extra_body={"zz_custom": 1},
            **reversed_options,
        )
    assert list(body_of(req)) == [
        "model",
        "messages",
        "stream",
        "tools",
        "tool_choice",
        "tags",
        "compression_model",
        *ALL_BODY_OPTIONS,
        "stream_options",
        "zz_custom",
    ]


def test_include_usage_on_streams() -> None:
    req = build(stream=True, include_usage=True)
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],'
        b'"stream":true,"stream_options":{"include_usage":true}}'
    )


@pytest.mark.parametrize(("stream", "include_usage"), [(False, True), (True, False), (True, None)])
def test_include_usage_not_sent(stream: bool, include_usage: bool | None) -> None:
    assert "stream_options" not in body_of(build(stream=stream, include_usage=include_usage))


def test_extra_body_adds_and_overrides() -> None:
    req = build(temperature=0.5, extra_body={"temperature": 1.0, "logprobs": True})
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],'
        b'"temperature":1.0,"logprobs":true}'
    )
    # extra_body is merged last: it can even replace the model or the messages.
    body = body_of(build(extra_body={"model": "other", "stream_options": {"x": 1}}, stream=True))
    assert body["model"] == "other"
    assert body["stream_options"] == {"x": 1}


def test_extra_body_is_not_mutated() -> None:
    extra = {"a": 1}
    build(extra_body=extra)
    assert extra == {"a": 1}


def test_compression_model_is_sent_with_a_deprecation_warning() -> None:
    for input in (
        InputObject(messages=[Message.user("hello")], compression_model="claude"),
        {"messages": [Message.user("hello")], "compression_model": "claude"},
    ):
        with pytest.warns(DeprecationWarning, match="tool_result_trimming") as record:
            req = build(input)
        assert len(record) == 1
        assert "compression_model" in str(record[0].message)
        assert record[0].filename == __file__  # the caller's line, not edgee's
        assert req.body == (
            b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],'
            b'"compression_model":"claude"}'
        )


def test_no_warning_without_compression_model() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build(InputObject(messages=[Message.user("hello")], tool_result_trimming=True))
        build("hello", stream=True, include_usage=True)


def test_timeout_and_max_retries_default_to_the_client_options() -> None:
    req = build()
    assert req.timeout == Timeout(connect=5.0, read=600.0)
    assert req.max_retries == 2
    opts = options(timeout=30, max_retries=5)
    req = build(opts=opts)
    assert req.timeout == Timeout(connect=30.0, read=30.0)
    assert req.max_retries == 5


def test_per_request_timeout_and_max_retries() -> None:
    req = build(timeout=3, max_retries=0)
    assert req.timeout == Timeout(connect=3.0, read=3.0)
    assert req.max_retries == 0
    custom = Timeout(connect=1.0, read=None)
    req = build(timeout=custom, max_retries=7)
    assert req.timeout is custom
    assert req.max_retries == 7
    # Neither is a body field nor a header.
    assert req.body == HELLO
    assert req.headers == base_headers()


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2"])
def test_invalid_max_retries(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        build(max_retries=bad)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (float("nan"), ValueError),
        ("10", TypeError),
        (True, TypeError),
    ],
)
def test_invalid_timeout(bad: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="timeout"):
        build(timeout=bad)


# --- invalid input ------------------------------------------------------------------

USER = {"role": "user", "content": "hi"}


def with_messages(**fields: Any) -> dict[str, Any]:
    return {"messages": [USER], **fields}


INVALID: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    # (id, build() arguments, exception, pattern naming the field)
    (
        "unknown-role",
        {"input": [{"role": "bot", "content": "x"}]},
        ValueError,
        r"messages\[0\]\.role",
    ),
    ("unknown-role-2nd", {"input": [USER, {"role": "robot"}]}, ValueError, r"messages\[1\]\.role"),
    ("missing-role", {"input": [{"content": "x"}]}, ValueError, r"messages\[0\]\.role"),
    ("unknown-role-model", {"input": [Message(role="bot", content="x")]}, ValueError, r"role"),
    ("dict-without-messages", {"input": {"tools": []}}, ValueError, "messages"),
    ("empty-dict", {"input": {}}, ValueError, "messages"),
    ("empty-list", {"input": []}, ValueError, "messages"),
    ("empty-dict-messages", {"input": {"messages": []}}, ValueError, "messages"),
    ("empty-object-messages", {"input": InputObject(messages=[])}, ValueError, "messages"),
    ("messages-string", {"input": {"messages": "hi"}}, TypeError, "messages"),
    ("message-not-dict", {"input": [USER, 42]}, TypeError, r"messages\[1\]"),
    ("message-string", {"input": ["hi"]}, TypeError, r"messages\[0\]"),
    (
        "content-number",
        {"input": [{"role": "user", "content": 5}]},
        TypeError,
        r"messages\[0\]\.content",
    ),
    (
        "tool-msg-no-id",
        {"input": [{"role": "tool", "content": "x"}]},
        ValueError,
        r"messages\[0\]\.tool_call_id",
    ),
    (
        "tool-msg-empty-id",
        {"input": [USER, {"role": "tool", "content": "x", "tool_call_id": ""}]},
        ValueError,
        r"messages\[1\]\.tool_call_id",
    ),
    (
        "tool-msg-model-no-id",
        {"input": [Message(role=Role.tool, content="x")]},
        ValueError,
        r"messages\[0\]\.tool_call_id",
    ),
    (
        "tool-empty-name",
        {"input": with_messages(tools=[Tool.function("")])},
        ValueError,
        r"tools\[0\]\.function\.name",
    ),
    (
        "tool-dict-no-name",
        {"input": with_messages(tools=[{"type": "function", "function": {}}])},
        ValueError,
        r"tools\[0\]\.function\.name",
    ),
    (
        "tool-dict-name-not-str",
        {"input": with_messages(tools=[{"function": {"name": 3}}])},
        ValueError,
        r"tools\[0\]\.function\.name",
    ),
    (
        "tool-no-function",
        {"input": with_messages(tools=[{"type": "function"}])},
        ValueError,
        r"tools\[0\]\.function",
    ),
    (
        "second-tool-no-name",
        {"input": with_messages(tools=[Tool.function("ok"), {"function": {}}])},
        ValueError,
        r"tools\[1\]\.function\.name",
    ),
    ("tools-not-list", {"input": with_messages(tools=Tool.function("f"))}, TypeError, "tools"),
    ("tool-not-tool", {"input": with_messages(tools=["f"])}, TypeError, r"tools\[0\]"),
    (
        "params-object",
        {"input": with_messages(tools=[Tool.function("f", None, {"a": object()})])},
        TypeError,
        r"tools\[0\]\.function\.parameters",
    ),
    (
        "params-set",
        {"input": with_messages(tools=[{"function": {"name": "f", "parameters": {"a": {1}}}}])},
        TypeError,
        r"tools\[0\]\.function\.parameters",
    ),
    (
        "params-nan",
        {"input": with_messages(tools=[Tool.function("f", None, {"x": float("nan")})])},
        TypeError,
        r"tools\[0\]\.function\.parameters",
    ),
    (
        "tool-choice-word",
        {"input": with_messages(tool_choice="sometimes")},
        ValueError,
        "tool_choice",
    ),
    ("tool-choice-number", {"input": with_messages(tool_choice=1)}, TypeError, "tool_choice"),
    (
        "tool-choice-no-function",
        {"input": with_messages(tool_choice={"type": "function"})},
        ValueError,
        "tool_choice",
    ),
    (
        "tool-choice-empty-name",
        {"input": with_messages(tool_choice={"function": {"name": ""}})},
        ValueError,
        "tool_choice",
    ),
    ("input-tags-string", {"input": with_messages(tags="prod")}, TypeError, "tags"),
    ("input-tags-int", {"input": with_messages(tags=["ok", 3])}, TypeError, r"tags\[1\]"),
    ("option-tags-string", {"tags": "prod"}, TypeError, "tags"),
    ("option-tags-set", {"tags": {"a"}}, TypeError, "tags"),
    ("option-tags-none-item", {"tags": [None]}, TypeError, r"tags\[0\]"),
    (
        "option-tool-no-name",
        {"tools": [{"function": {"name": ""}}]},
        ValueError,
        r"tools\[0\]\.function\.name",
    ),
    ("option-tool-choice", {"tool_choice": "always"}, ValueError, "tool_choice"),
    ("unknown-option", {"temprature": 0.5}, TypeError, "temprature"),
    ("toggle-as-option", {"output_brevity": True}, TypeError, "output_brevity"),
    ("stream-options-option", {"stream_options": {}}, TypeError, "stream_options"),
    ("model-int", {"model": 4}, ValueError, "model"),
    ("model-none", {"model": None}, ValueError, "model"),
    ("model-bytes", {"model": b"gpt-4o"}, ValueError, "model"),
    ("model-empty", {"model": ""}, ValueError, "model"),
    ("model-blank", {"model": "  "}, ValueError, "model"),
    ("input-int", {"input": 42}, TypeError, "input"),
    ("input-none", {"input": None}, TypeError, "input"),
    ("input-bytes", {"input": b"hello"}, TypeError, "input"),
    ("input-message", {"input": Message.user("hi")}, TypeError, "input"),
    (
        "compression-model-int",
        {"input": with_messages(compression_model=1)},
        ValueError,
        "compression_model",
    ),
    (
        "compression-model-unknown",
        {"input": with_messages(compression_model="agentic")},
        ValueError,
        r"compression_model must be one of claude, codex, cursor, opencode, not 'agentic'",
    ),
    (
        "compression-model-case",
        {"input": with_messages(compression_model="Claude")},
        ValueError,
        "compression_model",
    ),
    (
        "compression-model-list",
        {"input": with_messages(compression_model=["claude"])},
        ValueError,
        "compression_model",
    ),
    ("tool-choice-mode-word", {"tool_choice": {"type": "any"}}, ValueError, r"tool_choice\.type"),
    (
        "tool-choice-required-object",
        {"tool_choice": {"type": "required"}},
        ValueError,
        "tool_choice",
    ),
    ("session-id-int", {"session_id": 5}, TypeError, "session_id"),
    ("session-id-empty", {"session_id": ""}, ValueError, "session_id"),
    ("session-id-newline", {"session_id": "s1\r\nX-Evil: 1"}, ValueError, "session_id"),
    ("session-id-unicode", {"session_id": "s\u00e9"}, ValueError, "session_id"),
    ("debug-string", {"debug": "yes"}, TypeError, "debug"),
    ("debug-int", {"debug": 1}, TypeError, "debug"),
    ("debug-conflict", {"debug": True, "enable_debug": False}, ValueError, "debug"),
    ("system-option-on-chat", {"system": "x"}, TypeError, "unknown option: system"),
    ("tokenizer-option-on-chat", {"tokenizer": "o200k_base"}, TypeError, "tokenizer"),
    ("extra-body-list", {"extra_body": [("a", 1)]}, TypeError, "extra_body"),
    ("extra-headers-list", {"extra_headers": ["X-A"]}, TypeError, "extra_headers"),
    ("extra-headers-int", {"extra_headers": {"X-A": 1}}, TypeError, "extra_headers"),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_input_names_the_field(
    kwargs: dict[str, Any], error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        build(**kwargs)


def test_a_body_that_is_not_json_raises() -> None:
    with pytest.raises(TypeError, match="JSON"):
        build(metadata={"when": object()})
    with pytest.raises(ValueError, match="JSON"):
        build(temperature=float("inf"))
    with pytest.raises(ValueError):  # a lone surrogate cannot be sent as UTF-8
        build("\ud800")


def test_errors_never_show_the_key() -> None:
    for case in INVALID:
        with pytest.raises((TypeError, ValueError)) as info:
            build(**case[1])
        assert KEY not in str(info.value)


# --- property ------------------------------------------------------------------------

ROLES = st.sampled_from(["system", "developer", "user", "assistant"])
TEXT_MESSAGES = st.lists(
    st.builds(lambda role, text: {"role": role, "content": text}, ROLES, st.text()),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(TEXT_MESSAGES, st.booleans())
def test_any_text_messages_round_trip(messages: list[dict[str, str]], as_models: bool) -> None:
    input: list[Any] = (
        [Message(role=Role(m["role"]), content=m["content"]) for m in messages]
        if as_models
        else messages
    )
    req = build(input)
    assert req.body is not None
    assert json.loads(req.body) == {"model": "gpt-4o", "messages": messages}
    assert req.body.decode("utf-8")  # valid UTF-8


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_string_input_round_trips(text: str) -> None:
    body = body_of(build(text, stream=True))
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": text}],
        "stream": True,
    }


# --- the shortcuts of the hot path ------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=40),
    model=st.one_of(st.text(max_size=12), st.none(), st.integers()),
    stream=st.booleans(),
    default_headers=st.sampled_from([{}, {"X-Team": "a"}, {"user-agent": "mine/1"}]),
)
def test_a_plain_text_call_builds_what_the_general_path_builds(
    text: str, model: Any, stream: bool, default_headers: dict[str, str]
) -> None:
    # send(model, "text") takes a shortcut; any keyword option (timeout=None here, the
    # default) takes the general path. Same request, or the same error.
    opts = options(default_headers=default_headers)

    def outcome(**kwargs: Any) -> Any:
        try:
            return build_chat_request(opts, model, text, stream=stream, **kwargs)
        except (TypeError, ValueError) as exc:
            return (type(exc), str(exc))

    assert outcome() == outcome(timeout=None)


def test_base_headers_are_per_options_and_each_request_gets_its_own_dict() -> None:
    first = build()
    first.headers["X-Changed"] = "by the caller"
    assert "X-Changed" not in build().headers
    assert build().headers is not build().headers
    copy = OPTIONS.with_options(default_headers={"X-Copy": "1"})
    assert build(opts=copy).headers["X-Copy"] == "1"
    assert "X-Copy" not in build().headers  # the copy's cache is its own
    rekeyed = OPTIONS.with_api_key("sk-another-0123")
    assert build(opts=rekeyed).headers["Authorization"] == "Bearer sk-another-0123"
    assert build().headers["Authorization"] == f"Bearer {KEY}"
    assert build(stream=True).headers["Accept"] == "text/event-stream"
    assert build_request(OPTIONS, "GET", "/v1/models").headers == {
        k: v for k, v in base_headers().items() if k != "Content-Type"
    }


def test_a_body_that_refers_to_itself_is_a_clear_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="refers to itself"):
        build(extra_body={"loop": loop})
    # The encoder is still fine afterwards.
    assert build().body == HELLO


_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system", "tool", "critic"]),
        "content": st.one_of(st.text(max_size=10), st.none(), st.integers()),
    },
    optional={"tool_call_id": st.text(max_size=4), "name": st.text(max_size=4)},
)


@settings(max_examples=200, deadline=None)
@given(messages=st.lists(_message, max_size=4), stream=st.booleans())
def test_a_list_of_messages_builds_what_any_other_sequence_builds(
    messages: list[dict[str, Any]], stream: bool
) -> None:
    # A list takes a shortcut past the input-form checks; a tuple of the same messages
    # goes the general way. Same request, or the same error.
    def outcome(value: Any) -> Any:
        try:
            return build(value, stream=stream)
        except (TypeError, ValueError) as exc:
            return (type(exc), str(exc))

    assert outcome(messages) == outcome(tuple(messages))
    assert outcome(messages) == outcome({"messages": messages})
