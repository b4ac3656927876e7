"""The official dataclasses built positionally, read back, and mutated."""

from _steps import step

from edgee import (
    Choice,
    Compression,
    EdgeeConfig,
    FunctionDefinition,
    InputObject,
    Message,
    SendResponse,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    Tool,
    ToolCall,
    Usage,
)

GATEWAY = []  # no request

msgs = [{"role": "user", "content": "hi"}]
inp = step(
    "InputObject.positional", lambda: InputObject(msgs, None, None, None, "claude") and "built"
)
inp = InputObject(msgs, None, None, None, "claude")
step(
    "InputObject.fields",
    lambda: (inp.messages == msgs, inp.tools, inp.tool_choice, inp.tags, inp.compression_model),
)
full = InputObject(msgs, [{"type": "function"}], "auto", ["t"], None, True, False, True)
step(
    "InputObject.all_positional",
    lambda: (
        full.tools,
        full.tool_choice,
        full.tags,
        full.compression_model,
        full.tool_result_trimming,
        full.tool_surface_reduction,
        full.output_brevity,
    ),
)

fd = FunctionDefinition("get_weather", "Weather", {"type": "object"})
step("FunctionDefinition", lambda: (fd.name, fd.description, fd.parameters))
step(
    "FunctionDefinition.defaults",
    lambda: (FunctionDefinition("f").description, FunctionDefinition("f").parameters),
)
tool = Tool("function", fd)
step("Tool", lambda: (tool.type, tool.function.name))
tc = ToolCall("call_1", "function", {"name": "get_weather", "arguments": "{}"})
step("ToolCall", lambda: (tc.id, tc.type, tc.function["name"], tc.function["arguments"]))
msg = Message("user", "hello")
step("Message", lambda: (msg.role, msg.content, msg.name, msg.tool_calls, msg.tool_call_id))
step(
    "Message.tool",
    lambda: (lambda m: (m.role, m.content, m.tool_call_id))(
        Message("tool", "42", None, None, "call_1")
    ),
)
choice = Choice(0, {"role": "assistant", "content": "made by hand"}, "stop")
step("Choice", lambda: (choice.index, choice.message["content"], choice.finish_reason))
resp = SendResponse([choice])
step(
    "SendResponse",
    lambda: (resp.text, resp.finish_reason, resp.tool_calls, resp.usage, resp.compression),
)
step("SendResponse.message", lambda: resp.message["content"])
usage = Usage(10, 5, 15)
step("Usage", lambda: (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens))
comp = Compression(100, 27000, 48, 12)
step("Compression", lambda: (comp.saved_tokens, comp.cost_savings, comp.reduction, comp.time_ms))
full_resp = SendResponse([choice], usage, comp)
step("SendResponse.full", lambda: (full_resp.usage.total_tokens, full_resp.compression.reduction))
delta = StreamDelta("assistant", "hi")
step("StreamDelta", lambda: (delta.role, delta.content, delta.tool_calls))
sc = StreamChoice(0, delta, None)
chunk = StreamChunk([sc])
step("StreamChunk", lambda: (chunk.text, chunk.role, chunk.finish_reason))
step(
    "StreamChunk.empty",
    lambda: (StreamChunk([]).text, StreamChunk([]).role, StreamChunk([]).finish_reason),
)
cfg = EdgeeConfig("k", "http://x")
step("EdgeeConfig", lambda: (cfg.api_key, cfg.base_url))


def mutate_message():
    msg.content = "changed"
    msg.name = "bob"
    return (msg.content, msg.name)


def mutate_input():
    inp.tags = ["a", "b"]
    inp.tool_result_trimming = True
    return (inp.tags, inp.tool_result_trimming)


def mutate_choice():
    choice.finish_reason = "length"
    usage.total_tokens = 99
    return (resp.finish_reason, usage.total_tokens)


step("mutate.Message", mutate_message)
step("mutate.InputObject", mutate_input)
step("mutate.Choice_Usage", mutate_choice)
step("eq.Message", lambda: Message("user", "x") == Message("user", "x"))
step("eq.Usage", lambda: Usage(1, 2, 3) == Usage(1, 2, 3))
