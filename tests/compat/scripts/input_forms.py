"""Every documented input form: a string, a dict, an InputObject (keyword and positional)."""

from _steps import MODEL, step, warned

from edgee import Edgee, InputObject

GATEWAY = []  # echo

client = Edgee()
history = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": "second question", "name": "ann"},
]

step("str", lambda: client.send(MODEL, "a plain string").text)
step("dict", lambda: client.send(MODEL, {"messages": history}).text)
step("dict.model_kw", lambda: client.send(model=MODEL, input={"messages": history}).text)
step("inputobject", lambda: client.send(MODEL, InputObject(messages=history)).text)
step(
    "inputobject.positional_tags",
    lambda: client.send(MODEL, InputObject(history, None, None, ["t1"])).text,
)
warned(
    "inputobject.positional_compression_model",
    lambda: client.send(MODEL, InputObject(history, None, None, None, "claude")).text,
)
parts = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "look at this"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ],
    }
]
step("content_parts", lambda: client.send(MODEL, {"messages": parts}).finish_reason)
# Extra keys: known generation options (sent by this package, dropped by the official one).
warned(
    "dict.temperature",
    lambda: client.send(MODEL, {"messages": history, "temperature": 0.2, "max_tokens": 50}).text,
)
# A key nobody knows.
warned("dict.unknown_key", lambda: client.send(MODEL, {"messages": history, "frobnicate": 1}).text)
# The InputObject's fields are readable and writable.
inp = InputObject([{"role": "user", "content": "mutable"}])
step(
    "inputobject.defaults",
    lambda: (
        inp.tools,
        inp.tool_choice,
        inp.tags,
        inp.compression_model,
        inp.tool_result_trimming,
        inp.tool_surface_reduction,
        inp.output_brevity,
    ),
)


def mutate():
    inp.tags = ["late-tag"]
    inp.messages.append({"role": "user", "content": "appended"})
    return inp.tags


step("inputobject.mutate", mutate)
step("inputobject.mutated.send", lambda: client.send(MODEL, inp).text)
