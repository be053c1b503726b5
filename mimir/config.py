"""Config machinery shared by every stage: dataclasses with help text, YAML in and out.

Each stage defines its own config dataclass next to its code (``mimir.generate.config`` ...),
built with :func:`option` so every field carries help text the CLI and UI can show.
Loading is strict: an unknown key or a value of the wrong type is a :class:`ConfigError`
that names the key.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

from mimir.errors import ConfigError

C = TypeVar("C")

# YAML 1.1 (PyYAML) reads "1e-4" as text; a float field accepts such text when it is a number.
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def option(default: Any = dataclasses.MISSING, help: str = "", **kwargs: Any) -> Any:
    """A dataclass field with help text; mutable defaults are copied per instance."""
    metadata = {"help": help}
    if isinstance(default, (list, dict, set)):
        factory = (lambda d=default: type(d)(d))  # noqa: E731 - fresh copy per instance
        return dataclasses.field(default_factory=factory, metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def field_help(cls: type, name: str) -> str:
    """The help text of one config field."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise KeyError(name)


def config_from_dict(cls: type[C], data: dict[str, Any] | None, *, where: str = "config") -> C:
    """Build ``cls`` from plain data, rejecting unknown keys and ill-typed values by name."""
    data = dict(data or {})
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"valid keys are: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {name: _check(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where}: {exc}") from None


def _check(hint: Any, value: Any, key: str) -> Any:
    """Validate (and gently coerce int->float, nested dicts->dataclasses) one value."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check(arg, value, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: {value!r} matches none of {_name(hint)}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        item = args[0] if args else Any
        return [_check(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__}")
        vt = args[1] if len(args) == 2 else Any
        return {k: _check(vt, v, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        return config_from_dict(hint, value, where=key)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str) and _FLOAT_TEXT.match(value.strip()):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{key}: expected an integer, got a boolean {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{key}: expected {_name(hint)}, got {type(value).__name__} {value!r}")
    return value


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def read_yaml_mapping(path: str | Path, *, section: str | None = None) -> dict[str, Any]:
    """The mapping in a YAML file; with ``section``, that top-level key's mapping if present,
    else the whole file (so ``gen.yaml`` may hold the keys bare or under ``generate:``)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    if section is not None and isinstance(data.get(section), dict):
        return data[section]
    return data


def load_config(cls: type[C], path: str | Path, *, section: str | None = None) -> C:
    """Load ``cls`` from a YAML file (its ``section`` mapping where the file has one)."""
    data = read_yaml_mapping(path, section=section)
    return config_from_dict(cls, data, where=Path(path).name + (f":{section}" if section else ""))


def save_config(config: Any, path: str | Path) -> Path:
    """Write a config as YAML (keys in field order) so a user can edit and rerun it."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def merge_overrides(config: C, overrides: dict[str, Any]) -> C:
    """A copy of ``config`` with CLI/UI overrides applied through the same strict checks."""
    data = config_to_dict(config)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(type(config), data, where="override")
