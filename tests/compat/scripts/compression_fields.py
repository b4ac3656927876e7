"""The compression block of a response, read as the official README does."""

from _steps import MODEL, step

from edgee import Edgee

GATEWAY = [
    (
        "reply_text",
        {
            "text": "compressed",
            "compression": {
                "saved_tokens": 120,
                "cost_savings": 27000,
                "reduction": 48,
                "time_ms": 7,
            },
        },
    ),
    (
        "reply_text",
        {
            "text": "fractional",
            "compression": {"saved_tokens": 3, "cost_savings": 5, "reduction": 12.5, "time_ms": 1},
        },
    ),
    (
        "reply_json",
        {
            "obj": {
                "id": "chatcmpl-bare",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "bare"}}],
            }
        },
    ),
]

client = Edgee()
r = client.send(MODEL, "compressed")
c = r.compression
step("compression", lambda: (c.saved_tokens, c.cost_savings, c.reduction, c.time_ms))
step(
    "readme.format",
    lambda: (
        f"Reduction: {c.reduction}% Cost savings: ${c.cost_savings / 1_000_000:.3f} "
        f"Time: {c.time_ms} ms"
    ),
)
f = client.send(MODEL, "fractional").compression
step("fractional", lambda: (f.reduction, f.saved_tokens))
bare = client.send(MODEL, "no usage, no compression, no finish_reason")
step("bare", lambda: (bare.text, bare.usage, bare.compression, bare.finish_reason))
step("bare.choice", lambda: (bare.choices[0].index, bare.choices[0].finish_reason))
