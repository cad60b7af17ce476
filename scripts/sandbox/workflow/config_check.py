"""The workflow's config check: --config strings coerced to the schema's types, defaults filled in,
and one error that names every bad key, its problem and the fix.

Runs in Snakemake's own process (rules/common.smk), not in the jobs' environments.
"""

from pathlib import Path
from typing import Any

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def validate_config(config: dict, schema_path: Path, skip_validation: bool = False) -> None:
    """Coerce, fill the schema's defaults into config and validate it; fail naming the key, the
    problem and the fix. skip_validation (set by a workflow that uses this one as a module): coerce only.
    """
    schema = yaml.safe_load(schema_path.read_text())
    coerce_to_schema(config, schema)
    if skip_validation:
        return
    try:
        validate(config, str(schema_path))  # Snakemake's check also fills in the defaults
    except WorkflowError:
        problems = "\n".join(f"  - {problem}" for problem in schema_problems(config, schema))
        raise WorkflowError(
            "Invalid configuration (config/config.yaml with --configfile/--config overrides):\n"
            f"{problems}\n"
            "Fix: correct the keys above; config/schemas/config.schema.yaml documents every key."
        ) from None


def coerce_to_schema(config: dict, schema: dict) -> None:
    """Turn numeric and true/false strings into numbers and booleans where the schema wants them.

    Snakemake reads nested --config values such as train='{steps: 9}' as strings.
    """
    for key, spec in schema.get("properties", {}).items():
        value = config.get(key)
        if isinstance(value, dict):
            coerce_to_schema(value, spec)
        elif isinstance(value, list):
            items = next((alternative["items"] for alternative in alternatives(spec)
                          if isinstance(alternative.get("items"), dict)), None)
            if items is not None:
                config[key] = [coerce_scalar(item, items) for item in value]
        elif key in config:
            config[key] = coerce_scalar(value, spec)


def alternatives(spec: dict) -> list[dict]:
    """The spec itself and the alternatives of its oneOf/anyOf (ngram.seeds: a count or a list)."""
    return [spec, *spec.get("oneOf", []), *spec.get("anyOf", [])]


def coerce_scalar(value: Any, spec: dict) -> Any:
    """value as the schema's integer, number or boolean (the first alternative that parses it) when it is
    a string; otherwise unchanged (the schema check then names it)."""
    if not isinstance(value, str):
        return value
    parsers = {"integer": int, "number": float, "boolean": parse_boolean}
    for alternative in alternatives(spec):
        parser = parsers.get(alternative.get("type"))
        if parser is None:
            continue
        try:
            return parser(value)
        except ValueError:
            continue
    return value


def parse_boolean(value: str) -> bool:
    """'true'/'false' in any case; anything else is a ValueError."""
    booleans = {"true": True, "false": False}
    if value.lower() not in booleans:
        raise ValueError(value)
    return booleans[value.lower()]


def schema_problems(config: dict, schema: dict) -> list[str]:
    """One line per schema violation: the key path and what is wrong with its value."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in validator.iter_errors(config):
        key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(f"{key}: {error.message}")
    return problems or ["the config does not match the schema"]
