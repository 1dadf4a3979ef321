"""A YAML loader that understands CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...).

Used to prove a rendered template is well-formed YAML and to read it back as plain data
(policy checks, tests). Short forms become their long forms: `!Ref X` -> `{"Ref": "X"}`,
`!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` -> `{"Fn::Sub": "s"}`.
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's C parser when PyYAML was built with it (the wheels are): ~10x faster on big templates.
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnLoader(_BASE):  # type: ignore[valid-type,misc]
    """SafeLoader plus CloudFormation intrinsic-function tags."""


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct)


def load_template(text: str) -> Any:
    """Parse CloudFormation YAML text; raises yaml.YAMLError when it is not valid YAML."""
    return yaml.load(text, Loader=CfnLoader)  # a SafeLoader subclass: no arbitrary objects
