"""Every documented way to build a client: key string, config object, dict, environment."""

import os

from _steps import MODEL, out, step, warned

from edgee import Edgee, EdgeeConfig

GATEWAY = []  # the echo model answers every request

KEY = os.environ["EDGEE_API_KEY"]
URL = os.environ["EDGEE_BASE_URL"]

# The environment supplies key and URL.
env_client = step("env.build", lambda: Edgee())
step("env.api_key", lambda: env_client.api_key == KEY)
step("env.base_url", lambda: env_client.base_url == URL)
step("env.send", lambda: env_client.send(MODEL, "from the environment").text)

key_client = step("key.build", lambda: Edgee(KEY))
step("key.send", lambda: key_client.send(MODEL, "from a key string").text)

config = EdgeeConfig(KEY, URL)
step("config.fields", lambda: (config.api_key == KEY, config.base_url == URL))
config_client = step("config.build", lambda: Edgee(config))
step("config.send", lambda: config_client.send(MODEL, "from a config object").text)
step("config.kw.send", lambda: Edgee(EdgeeConfig(api_key=KEY, base_url=URL)).send(MODEL, "kw").text)

dict_client = step("dict.build", lambda: Edgee({"api_key": KEY, "base_url": URL}))
step("dict.send", lambda: dict_client.send(MODEL, "from a dict").text)
# A dict with a key the official SDK ignored.
odd_client = warned(
    "dict.unknown.build", lambda: Edgee({"api_key": KEY, "base_url": URL, "organization": "acme"})
)
step("dict.unknown.send", lambda: odd_client.send(MODEL, "odd dict").text)

# Only the key given: the URL still comes from the environment.
step("dict.key_only.send", lambda: Edgee({"api_key": KEY}).send(MODEL, "key only").text)

# The attributes are plain and writable.
moved = step("mutate.build", lambda: Edgee({"api_key": KEY, "base_url": "http://127.0.0.1:9"}))


def move():
    moved.base_url = URL
    return moved.base_url == URL


step("mutate.base_url", move)
step("mutate.send", lambda: moved.send(MODEL, "after moving").text)

rekeyed = Edgee("wrong-key")


def rekey():
    rekeyed.api_key = KEY
    return rekeyed.api_key == KEY


step("mutate.api_key", rekey)
step("mutate.api_key.send", lambda: rekeyed.send(MODEL, "after rekeying").text)

# No key anywhere.
del os.environ["EDGEE_API_KEY"]
step("nokey.build", lambda: Edgee())


def _raises_value_error():
    try:
        Edgee()
    except ValueError as exc:
        return str(exc)
    return "no error"


step("nokey.message", _raises_value_error)
step("nokey.empty_string", lambda: Edgee("") and "built")
out("done", True)
