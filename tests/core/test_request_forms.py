"""The request forms added for the published gateway contract and official-SDK migrants.

Through the core builders only (no I/O): ``count_tokens``/``compress`` bodies,
``session_id``/``debug`` headers, ``tool_choice`` mode objects, SDK response
models sent back, generation options inside an input dict, warnings for
unknown keys, and the per-request header rules. The same behaviours are
checked on the wire, on both clients, in ``tests/clients/test_request_rules.py``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from wire_samples import tool_call_message

import edgee
from edgee._config import ClientOptions, resolve_options
from edgee._request import (
    COMPRESS_PATH,
    COUNT_TOKENS_PATH,
    PreparedRequest,
    build_chat_request,
    build_compress_request,
    build_count_tokens_request,
    build_input_request,
)
from edgee.errors import EdgeeWarning
from edgee.models import ContentPart, InputObject, Message, SendResponse, Tool, ToolCall

KEY = "sk-edgee-test-0123456789"
URL = "https://gateway.example"
OPTIONS: ClientOptions = resolve_options(api_key=KEY, base_url=URL, environ={})

WIRE_ANSWER: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": tool_call_message("weather", '{"city":"Paris"}'),
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
}
# A ResponseMessage goes back as received, its null content included (as the official SDK).
ASSISTANT_WIRE = {
    "role": "assistant",
    "content": None,
    "tool_calls": WIRE_ANSWER["choices"][0]["message"]["tool_calls"],
}


def chat(input: Any = "hello", *, stream: bool = False, **kwargs: Any) -> PreparedRequest:
    return build_chat_request(OPTIONS, "gpt-4o", input, stream=stream, **kwargs)


def body(req: PreparedRequest) -> Any:
    assert req.body is not None
    return json.loads(req.body)


def extra_headers(req: PreparedRequest) -> dict[str, str]:
    """The headers beyond the four every POST carries."""
    base = {"authorization", "user-agent", "accept", "content-type"}
    return {k: v for k, v in req.headers.items() if k.lower() not in base}


# --- official module names ------------------------------------------------------------


def test_official_module_names() -> None:
    assert edgee.DEFAULT_BASE_URL == "https://edgee.io"
    assert edgee.API_ENDPOINT == "/v1/chat/completions"
    assert edgee.COMPRESSION_HEADERS == {
        "tool_result_trimming": "X-Edgee-Compression-Tool-Result-Trimming",
        "tool_surface_reduction": "X-Edgee-Compression-Tool-Surface-Reduction",
        "output_brevity": "X-Edgee-Compression-Brevity",
    }
    assert type(edgee.COMPRESSION_HEADERS) is dict
    for name in ("DEFAULT_BASE_URL", "API_ENDPOINT", "COMPRESSION_HEADERS", "EdgeeWarning"):
        assert name in edgee.__all__
    assert issubclass(edgee.EdgeeWarning, UserWarning)
    assert chat().url == URL + edgee.API_ENDPOINT


def test_changing_the_exported_table_does_not_change_requests() -> None:
    saved = dict(edgee.COMPRESSION_HEADERS)
    try:
        edgee.COMPRESSION_HEADERS["output_brevity"] = "X-Other"
        req = chat({"messages": [Message.user("hi")], "output_brevity": True})
        assert extra_headers(req) == {"X-Edgee-Compression-Brevity": "true"}
    finally:
        edgee.COMPRESSION_HEADERS.clear()
        edgee.COMPRESSION_HEADERS.update(saved)


# --- count_tokens ---------------------------------------------------------------------


def test_count_tokens_body_is_model_messages_system_tokenizer() -> None:
    req = build_count_tokens_request(
        OPTIONS,
        "gpt-4o",
        [Message.user("three little words")],
        system="be brief",
        tokenizer="o200k_base",
    )
    assert (req.method, req.url) == ("POST", URL + COUNT_TOKENS_PATH)
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"user","content":"three little words"}],'
        b'"system":"be brief","tokenizer":"o200k_base"}'
    )
    assert extra_headers(req) == {}


@pytest.mark.parametrize("tokenizer", ["cl100k_base", "o200k_base"])
def test_count_tokens_tokenizers(tokenizer: str) -> None:
    req = build_count_tokens_request(OPTIONS, "m", "x", tokenizer=tokenizer)
    assert body(req)["tokenizer"] == tokenizer


@pytest.mark.parametrize("bad", ["gpt2", "O200K_BASE", "", 1, ["o200k_base"]], ids=repr)
def test_count_tokens_unknown_tokenizer(bad: Any) -> None:
    with pytest.raises(ValueError, match="tokenizer must be one of cl100k_base, o200k_base"):
        build_count_tokens_request(OPTIONS, "m", "x", tokenizer=bad)


def test_count_tokens_system_as_parts() -> None:
    parts = [ContentPart(type="text", text="be brief"), {"type": "text", "text": "and kind"}]
    req = build_count_tokens_request(OPTIONS, "m", "x", system=parts)
    assert body(req)["system"] == [
        {"type": "text", "text": "be brief"},
        {"type": "text", "text": "and kind"},
    ]


@pytest.mark.parametrize(
    ("system", "error"),
    [(5, TypeError), ({"type": "text"}, TypeError), ([], ValueError), (["text"], TypeError)],
    ids=repr,
)
def test_count_tokens_bad_system(system: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="system"):
        build_count_tokens_request(OPTIONS, "m", "x", system=system)


def test_count_tokens_sends_no_tools_tags_or_options() -> None:
    input = {
        "messages": [Message.user("hi")],
        "tools": [Tool.function("f")],
        "tool_choice": "auto",
        "tags": ["a"],
        "temperature": 0.2,
        "output_brevity": True,
    }
    req = build_count_tokens_request(OPTIONS, "m", input)
    assert body(req) == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert extra_headers(req) == {}
    for option in ("tools", "tool_choice", "tags", "temperature"):
        with pytest.raises(TypeError, match=f"unknown option: {option}"):
            build_count_tokens_request(OPTIONS, "m", "x", **{option: None})


def test_input_request_entry_point_dispatches_by_path() -> None:
    a = build_input_request(OPTIONS, COUNT_TOKENS_PATH, "m", "x", system="s", tokenizer=None)
    assert body(a) == {"model": "m", "messages": [{"role": "user", "content": "x"}], "system": "s"}
    b = build_input_request(OPTIONS, COMPRESS_PATH, "m", "x", tool_choice="auto")
    assert b.url == URL + COMPRESS_PATH
    with pytest.raises(ValueError, match="/v1/other"):
        build_input_request(OPTIONS, "/v1/other", "m", "x")


# --- compress ---------------------------------------------------------------------------


def test_compress_sends_the_chat_payload_without_stream() -> None:
    input = InputObject(
        messages=[Message.user("please just say the answer")],
        tools=[Tool.function("f")],
        tool_choice="auto",
        tags=["t"],
        tool_result_trimming=True,
    )
    req = build_compress_request(OPTIONS, "gpt-4o", input, tags=["u"])
    assert (req.method, req.url, req.stream) == ("POST", URL + COMPRESS_PATH, False)
    sent = body(req)
    assert list(sent) == ["model", "messages", "tools", "tool_choice", "tags"]
    assert sent["tags"] == ["t", "u"]
    assert extra_headers(req) == {"X-Edgee-Compression-Tool-Result-Trimming": "true"}
    # The same bytes send() would send, minus nothing (no stream flag either way).
    assert req.body == chat(input, tags=["u"]).body


def test_compress_passes_input_generation_options_but_refuses_them_as_options() -> None:
    req = build_compress_request(OPTIONS, "m", {"messages": [Message.user("x")], "seed": 1})
    assert body(req)["seed"] == 1
    with pytest.raises(TypeError, match="unknown option: temperature"):
        build_compress_request(OPTIONS, "m", "x", temperature=1)
    with pytest.raises(TypeError, match="unknown option: include_usage"):
        build_compress_request(OPTIONS, "m", "x", include_usage=True)


def test_compress_with_another_request_format_through_extra_body() -> None:
    anthropic = {"system": "be brief", "max_tokens": 10}
    req = build_compress_request(OPTIONS, "claude", "hi", extra_body=anthropic)
    assert body(req) == {
        "model": "claude",
        "messages": [{"role": "user", "content": "hi"}],
        "system": "be brief",
        "max_tokens": 10,
    }


# --- session_id and debug ----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["chat", "stream", "compress", "count_tokens"])
def test_session_id_is_a_header_on_every_post(endpoint: str) -> None:
    req = {
        "chat": lambda: chat("x", session_id="sess-42"),
        "stream": lambda: chat("x", stream=True, session_id="sess-42"),
        "compress": lambda: build_compress_request(OPTIONS, "m", "x", session_id="sess-42"),
        "count_tokens": lambda: build_count_tokens_request(OPTIONS, "m", "x", session_id="sess-42"),
    }[endpoint]()
    assert extra_headers(req) == {"x-edgee-session-id": "sess-42"}
    assert "session_id" not in body(req)


def test_debug_is_the_body_field_on_chat() -> None:
    for stream in (False, True):
        req = chat("x", stream=stream, debug=True)
        assert body(req)["enable_debug"] is True
        assert extra_headers(req) == {}
    assert body(chat("x", debug=False))["enable_debug"] is False
    # Both spellings agree: one field.
    assert body(chat("x", debug=True, enable_debug=True))["enable_debug"] is True
    assert chat("x", debug=True).body == chat("x", enable_debug=True).body


@pytest.mark.parametrize(("value", "sent"), [(True, "true"), (False, "false")])
def test_debug_is_a_header_where_the_body_has_no_such_field(value: bool, sent: str) -> None:
    for req in (
        build_compress_request(OPTIONS, "m", "x", debug=value),
        build_count_tokens_request(OPTIONS, "m", "x", debug=value),
    ):
        assert extra_headers(req) == {"X-Edgee-Debug": sent}
        assert "enable_debug" not in body(req)


def test_extra_headers_win_over_session_and_debug_headers() -> None:
    req = build_compress_request(
        OPTIONS,
        "m",
        "x",
        session_id="a",
        debug=True,
        extra_headers={"X-EDGEE-SESSION-ID": "b", "x-edgee-debug": "false"},
    )
    assert extra_headers(req) == {"X-EDGEE-SESSION-ID": "b", "x-edgee-debug": "false"}


# --- compression_model ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["claude", "opencode", "codex", "cursor"])
def test_documented_compression_models(value: str) -> None:
    with pytest.warns(DeprecationWarning, match="tool_result_trimming") as record:
        req = chat({"messages": [Message.user("x")], "compression_model": value})
    assert body(req)["compression_model"] == value
    assert record[0].filename == __file__


def test_compression_model_also_goes_to_compress() -> None:
    with pytest.warns(DeprecationWarning):
        req = build_compress_request(
            OPTIONS, "m", InputObject(messages=[Message.user("x")], compression_model="codex")
        )
    assert body(req)["compression_model"] == "codex"


# --- tool_choice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "choice",
    ["auto", "none", "required", {"type": "auto"}, {"type": "none"}],
    ids=repr,
)
def test_tool_choice_strings_and_mode_objects_are_sent_as_given(choice: Any) -> None:
    assert body(chat("x", tool_choice=choice))["tool_choice"] == choice
    as_input = {"messages": [Message.user("x")], "tool_choice": choice}
    assert body(chat(as_input))["tool_choice"] == choice


@pytest.mark.parametrize("empty", ["", {}], ids=repr)
def test_an_empty_tool_choice_is_not_sent_as_in_the_official_sdk(empty: Any) -> None:
    assert "tool_choice" not in body(chat({"messages": [Message.user("x")], "tool_choice": empty}))
    assert "tool_choice" not in body(chat("x", tool_choice=empty))


def test_tool_choice_function_object_keeps_its_shape() -> None:
    choice = {"type": "function", "function": {"name": "f"}}
    assert body(chat("x", tool_choice=choice))["tool_choice"] == choice


# --- SDK models sent back ----------------------------------------------------------------


def answer() -> SendResponse:
    return SendResponse.from_dict(json.loads(json.dumps(WIRE_ANSWER)))


def test_response_message_in_the_history() -> None:
    response = answer()
    history: list[Any] = [Message.user("weather in Paris?")]
    history.append(response.message)
    history.append(Message.tool("call_1", "22C"))
    sent = body(chat(history))["messages"]
    assert sent[1] == ASSISTANT_WIRE
    assert sent[2] == {"role": "tool", "content": "22C", "tool_call_id": "call_1"}
    # The history itself is left as the user built it.
    assert history[1] is response.message


def test_a_choices_message_and_a_choice_itself() -> None:
    response = answer()
    via_message = body(chat([Message.user("q"), response.choices[0].message]))
    via_choice = body(chat([Message.user("q"), response.choices[0]]))
    assert via_message == via_choice
    assert via_message["messages"][1] == ASSISTANT_WIRE


def test_tool_calls_inside_dicts_and_messages() -> None:
    calls = answer().tool_calls
    assert calls is not None
    call = calls[0]
    assert isinstance(call, ToolCall)
    as_dict = body(chat([Message.user("q"), {"role": "assistant", "tool_calls": [call]}]))
    as_model = body(chat([Message.user("q"), Message.assistant(tool_calls=list(calls))]))
    without_content = {k: v for k, v in ASSISTANT_WIRE.items() if k != "content"}
    assert as_dict["messages"][1] == as_model["messages"][1] == without_content


def test_models_inside_an_input_dict_and_an_input_object() -> None:
    response = answer()
    messages = [Message.user("q"), response.message]
    for input in (
        {"messages": messages, "tools": [Tool.function("weather")]},
        InputObject(messages=messages, tools=[Tool.function("weather")]),
    ):
        sent = body(chat(input))
        assert sent["messages"][1] == ASSISTANT_WIRE
        assert sent["tools"] == [{"type": "function", "function": {"name": "weather"}}]


def test_a_response_message_without_role_is_the_assistants() -> None:
    message = SendResponse.from_dict(
        {"choices": [{"index": 0, "message": {"content": "hi"}}]}
    ).message
    assert body(chat([Message.user("q"), message]))["messages"][1] == {
        "role": "assistant",
        "content": "hi",
    }


def test_a_single_message_as_input_says_to_pass_a_list() -> None:
    with pytest.raises(TypeError, match=r"pass a list"):
        chat(Message.user("hi"))
    with pytest.raises(TypeError, match=r"pass a list"):
        chat(answer().message)


def test_a_tool_call_alone_in_the_history_is_not_a_message() -> None:
    calls = answer().tool_calls
    assert calls
    with pytest.raises(ValueError, match=r"messages\[1\]\.role"):
        chat([Message.user("q"), calls[0]])


# --- options inside an input dict; unknown keys ---------------------------------------


def test_generation_options_in_an_input_dict_are_sent() -> None:
    input = {
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_tokens": 50,
        "seed": None,  # None: not sent, like an option
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        req = chat(input)
    assert req.body == (
        b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],'
        b'"temperature":0.2,"max_tokens":50}'
    )


def test_keyword_options_win_over_the_input_dicts() -> None:
    input = {"messages": [Message.user("hi")], "temperature": 0.2, "top_p": 0.5}
    sent = body(chat(input, temperature=0.9))
    assert (sent["temperature"], sent["top_p"]) == (0.9, 0.5)
    assert list(sent)[-2:] == ["temperature", "top_p"]  # the documented order, whatever the source


def test_options_of_an_input_object_from_a_dict_are_sent() -> None:
    obj = InputObject.from_dict({"messages": [{"role": "user", "content": "hi"}], "seed": 7})
    assert body(chat(obj))["seed"] == 7


@pytest.mark.parametrize("key", ["temprature", "message", "model", "stream", "stream_options"])
def test_unknown_input_keys_warn_naming_the_key_and_are_not_sent(key: str) -> None:
    input = {"messages": [Message.user("hi")], key: 1}
    with pytest.warns(EdgeeWarning, match=repr(key)) as record:
        req = chat(input)
    assert len(record) == 1
    assert record[0].filename == __file__
    assert key not in body(req) or key == "model"
    assert body(req)["model"] == "gpt-4o"
    assert "extra_body" in str(record[0].message)


def test_unknown_key_of_an_input_object_from_a_dict_warns() -> None:
    obj = InputObject.from_dict({"messages": [{"role": "user", "content": "hi"}], "vibe": "x"})
    with pytest.warns(EdgeeWarning, match="'vibe'"):
        sent = body(chat(obj))
    assert "vibe" not in sent


def test_known_input_keys_never_warn() -> None:
    input = {
        "messages": [Message.user("hi")],
        "tools": None,
        "tool_choice": None,
        "tags": None,
        "compression_model": None,
        "tool_result_trimming": None,
        "tool_surface_reduction": None,
        "output_brevity": None,
        "temperature": None,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chat(input)
        chat(InputObject(messages=[Message.user("hi")]))


# --- per-request header rules ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Host", "CONNECTION"])
def test_framing_headers_are_refused_per_request(name: str) -> None:
    with pytest.raises(ValueError, match=r"extra_headers\[.*set by the HTTP client itself") as info:
        chat("x", extra_headers={name: "5"})
    assert not isinstance(info.value, edgee.ConfigurationError)


@pytest.mark.parametrize("name", ["", "X:Y", "X Y", "X\r\nEvil", "X-\u00e9"], ids=repr)
def test_header_names_must_be_tokens_per_request(name: str) -> None:
    with pytest.raises(ValueError, match="extra_headers"):
        chat("x", extra_headers={name: "v"})


@pytest.mark.parametrize("value", ["caf\u00e9", "a\u200bb", "a\x01b", "a\r\nb"], ids=repr)
def test_header_values_must_be_visible_ascii_per_request(value: str) -> None:
    secret = f"Bearer {KEY}-{value}"
    with pytest.raises(ValueError, match=r"extra_headers\['Authorization'\]") as info:
        chat("x", extra_headers={"Authorization": secret})
    assert KEY not in str(info.value)
    assert value not in str(info.value)


def test_models_request_checks_its_headers_too() -> None:
    from edgee._request import build_models_request

    with pytest.raises(ValueError, match="extra_headers"):
        build_models_request(OPTIONS, extra_headers={"Host": "evil.test"})


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2", [2]])
def test_max_retries_per_request_is_one_error_type(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"max_retries must be an integer >= 0"):
        chat("x", max_retries=bad)
