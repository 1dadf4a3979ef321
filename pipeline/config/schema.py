"""JSON Schema for the environment files, generated from the models (editors use it for completion)."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from pipeline.config.files import EnvironmentFile, PipelineFile, SandboxFile

SCHEMA_FILE = "schema.json"


def build_schema() -> dict[str, Any]:
    """One schema for all files in environments/: any of pipeline.yml, an env file, sandbox.yml."""
    _, top = models_json_schema(
        [(m, "validation") for m in (PipelineFile, EnvironmentFile, SandboxFile)],
        ref_template="#/$defs/{model}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pipeline environment files",
        "description": "environments/pipeline.yml, environments/<env>.yml and environments/sandbox.yml",
        "anyOf": [{"$ref": "#/$defs/PipelineFile"}, {"$ref": "#/$defs/EnvironmentFile"},
                  {"$ref": "#/$defs/SandboxFile"}],
        "$defs": top["$defs"],
    }


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"
