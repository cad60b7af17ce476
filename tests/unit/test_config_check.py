"""The config check (sandbox/workflow/config_check.py) without a Snakemake run: coercion, defaults, messages.

The workflow-level checks of the same behaviour are in test_bad_input.py.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.exceptions import WorkflowError

from conftest import REPO
from sandbox.workflow.config_check import (
    coerce_scalar,
    coerce_to_schema,
    parse_boolean,
    schema_problems,
    validate_config,
)

SCHEMA_PATH = REPO / "config/schemas/config.schema.yaml"
DEFAULT_CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        ("9", {"type": "integer"}, 9),
        ("0.5", {"type": "number"}, 0.5),
        ("TRUE", {"type": "boolean"}, True),
        ("false", {"type": "boolean"}, False),
        ("maybe", {"type": "boolean"}, "maybe"),  # left for the schema check to name
        ("three", {"type": "number"}, "three"),
        ("9", {"type": "string"}, "9"),
        (9, {"type": "integer"}, 9),
        ("9", {}, "9"),
        ("3", {"oneOf": [{"type": "integer"}, {"type": "array"}]}, 3),  # ngram.seeds: a count or a list
    ],
)
def test_coerce_scalar(value: object, spec: dict, expected: object) -> None:
    assert coerce_scalar(value, spec) == expected


def test_parse_boolean_refuses_anything_but_true_and_false() -> None:
    assert parse_boolean("True") is True
    with pytest.raises(ValueError):
        parse_boolean("yes")


def test_coerce_to_schema_walks_nested_objects_and_lists() -> None:
    schema = {"properties": {
        "train": {"type": "object", "properties": {"steps": {"type": "integer"}, "lr": {"type": "number"}}},
        "seeds": {"type": "array", "items": {"type": "integer"}},
        "experiment": {"type": "string"},
    }}
    schema["properties"]["ngram"] = {"type": "object", "properties": {"seeds": {"oneOf": [
        {"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]}}}
    config = {"train": {"steps": "9", "lr": "0.1"}, "seeds": ["0", 1], "experiment": "7",
              "ngram": {"seeds": ["4"]}}
    coerce_to_schema(config, schema)
    assert config == {"train": {"steps": 9, "lr": 0.1}, "seeds": [0, 1], "experiment": "7",
                      "ngram": {"seeds": [4]}}


def test_schema_problems_name_the_key_path() -> None:
    schema = {"type": "object", "properties": {
        "train": {"type": "object", "properties": {"steps": {"type": "integer", "minimum": 1}}}}}
    (problem,) = schema_problems({"train": {"steps": 0}}, schema)
    assert problem.startswith("train.steps: ") and "minimum" in problem


def test_the_default_config_passes_and_gets_the_schemas_defaults() -> None:
    config = copy.deepcopy(DEFAULT_CONFIG)
    del config["command"]
    config["train"]["steps"] = "9"  # as --config train='{steps: 9}' gives it
    validate_config(config, SCHEMA_PATH)
    assert config["train"]["steps"] == 9
    assert config["command"] == {"run": "", "threads": 1, "budget_bytes": 0}


def test_an_invalid_value_fails_naming_key_problem_and_fix() -> None:
    config = copy.deepcopy(DEFAULT_CONFIG)
    config["k_sigma"] = "three"
    config["train"]["steps"] = 0
    with pytest.raises(WorkflowError) as error:
        validate_config(config, SCHEMA_PATH)
    message = str(error.value)
    assert "Invalid configuration" in message
    assert "  - k_sigma: " in message and "  - train.steps: " in message
    assert "config/schemas/config.schema.yaml" in message


def test_skip_validation_only_coerces() -> None:
    config = copy.deepcopy(DEFAULT_CONFIG)
    config["k_sigma"] = -1
    config["train"]["steps"] = "9"
    validate_config(config, SCHEMA_PATH, skip_validation=True)
    assert config["k_sigma"] == -1 and config["train"]["steps"] == 9
