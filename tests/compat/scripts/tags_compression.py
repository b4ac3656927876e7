"""Tags, the per-request compression toggles (headers), the deprecated compression_model,
and the usage of a response."""

from _steps import MODEL, step, warned

from edgee import Edgee, InputObject

GATEWAY = [
    ("reply_text", {"text": "tagged"}),
    ("reply_text", {"text": "tagged dict"}),
    ("reply_text", {"text": "toggled"}),
    ("reply_text", {"text": "toggled dict"}),
    ("reply_text", {"text": "not bools"}),
    ("reply_text", {"text": "deprecated"}),
    ("reply_text", {"chunks": ["deprecated", " stream"]}),
    ("reply_text", {"text": "deprecated dict"}),
    (
        "reply_text",
        {
            "text": "usage",
            "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
        },
    ),
    ("reply_text", {"text": "undocumented model"}),
]

client = Edgee()
msgs = [{"role": "user", "content": "hello"}]
step(
    "tags.object",
    lambda: client.send(MODEL, InputObject(messages=msgs, tags=["team:a", "env:test"])).text,
)
step("tags.dict", lambda: client.send(MODEL, {"messages": msgs, "tags": ["x"]}).text)
r = step(
    "toggles.object",
    lambda: client.send(
        MODEL,
        InputObject(
            messages=msgs,
            tool_result_trimming=True,
            tool_surface_reduction=False,
            output_brevity=True,
        ),
    ),
)
step("toggles.object.text", lambda: r.text)
step("toggles.dict", lambda: client.send(MODEL, {"messages": msgs, "output_brevity": False}).text)
step(
    "toggles.not_bools",
    lambda: (
        client.send(
            MODEL, {"messages": msgs, "tool_result_trimming": 1, "output_brevity": "yes"}
        ).text
    ),
)
warned(
    "compression_model.send",
    lambda: client.send(MODEL, InputObject(messages=msgs, compression_model="claude")).text,
)
warned(
    "compression_model.send_stream",
    lambda: [
        ch.text
        for ch in client.send(
            MODEL, InputObject(messages=msgs, compression_model="claude"), stream=True
        )
        if ch.text
    ],
)
warned(
    "compression_model.dict",
    lambda: client.send(MODEL, {"messages": msgs, "compression_model": "codex"}).text,
)
u = step("usage", lambda: client.send(MODEL, "usage"))
step(
    "usage.fields",
    lambda: (u.usage.prompt_tokens, u.usage.completion_tokens, u.usage.total_tokens, u.compression),
)
warned(
    "compression_model.undocumented",
    lambda: client.send(MODEL, {"messages": msgs, "compression_model": "x"}).text,
)
