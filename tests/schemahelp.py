"""Validators for one definition of ``schema/edgee.schema.json`` at a time.

Shared by ``tests/models/`` and ``tests/gateway/``; importable as ``schemahelp`` because
pytest puts ``tests/`` (the home of the root ``conftest.py``) on ``sys.path``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


def definition_validator(defs: dict[str, Any], definition: str) -> Draft202012Validator:
    """A validator for ``defs[definition]``: the ``$defs`` wrapped into a small schema that
    references that one entry (``{"$ref": "#/$defs/<definition>"}``), itself checked."""
    wrapper = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "$ref": f"#/$defs/{definition}",
    }
    Draft202012Validator.check_schema(wrapper)
    return Draft202012Validator(wrapper)
