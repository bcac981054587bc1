"""HL7's official FHIR R4 JSON Schema, for tests that validate what Kapstone builds.

scripts/fetch-fhir-schema fetches it (and checks its sha256) into var/fhir/. Validating against the
root schema's oneOf over every resource type is very slow, so a Draft-06 validator is built per
resource type, each referring into the one loaded schema's definitions.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "var" / "fhir" / "fhir.schema.json"
FETCH = ROOT / "scripts" / "fetch-fhir-schema"


def load_schema() -> dict[str, Any]:
    if not SCHEMA.exists():
        fetched = subprocess.run(
            [str(FETCH)], capture_output=True, text=True, check=False, timeout=300
        )
        assert fetched.returncode == 0, f"scripts/fetch-fhir-schema failed: {fetched.stderr}"
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return loaded


def validators_for(
    schema: Mapping[str, Any], names: Iterable[str]
) -> dict[str, jsonschema.Draft6Validator]:
    return {
        name: jsonschema.Draft6Validator(
            {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
        )
        for name in names
    }


def schema_errors(
    validators: Mapping[str, jsonschema.Draft6Validator], resource: Mapping[str, Any]
) -> list[str]:
    validator = validators[resource["resourceType"]]
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(resource)
    ]
