"""Config machinery shared by every stage: dataclasses with help text, YAML in and out.

Each stage defines its own config dataclass next to its code (``mimir.generate.config`` ...),
built with :func:`option` so every field carries help text, and optionally a range
(``min``/``max``), allowed values (``choices``) and whether it names a file or folder that must
exist (``path``). These dataclasses are the single source of truth: the CLI flags
(:func:`add_config_arguments`), ``--print-config``, the app's defaults (:func:`ui_default`) and
``docs/configuration.md`` are all derived from them.

Loading is strict: an unknown key, a value of the wrong type or out of range is a
:class:`ConfigError` that names the key. Every YAML/JSON file MIMIR reads goes through
:func:`read_data_file`, which turns missing files, bad encodings and syntax errors into one
clear error naming the file.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

from mimir.errors import ConfigError, MimirError

C = TypeVar("C")

# YAML 1.1 (PyYAML) reads "1e-4" as text; a float field accepts such text when it is a number.
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
PathKind = Literal["file", "dir", "any"]


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[Any, ...] | list[Any] | None = None,
    path: PathKind | None = None,
    bundled: str | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with help text and optional checks; mutable defaults are copied per instance.

    ``min``/``max``: inclusive bounds (on each item of a list). ``choices``: allowed values (on each
    item of a list). ``path``: a non-empty value must name an existing file / dir / either when a
    stage starts (:func:`check_paths`). ``bundled``: empty means this asset shipped in ``mimir/assets``.
    """
    metadata = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None,
                "path": path, "bundled": bundled}
    if isinstance(default, (list, dict, set)):
        factory = (lambda d=default: type(d)(d))  # noqa: E731 - fresh copy per instance
        return dataclasses.field(default_factory=factory, metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def config_fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]


def field_help(cls: type, name: str) -> str:
    """The help text of one config field."""
    try:
        return str(config_fields(cls)[name].metadata.get("help", ""))
    except KeyError:
        raise KeyError(name) from None


def field_default(cls: type, name: str) -> Any:
    """The default value of one config field (a fresh copy for lists and dicts)."""
    field = config_fields(cls)[name]
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return field.default


def ui_default(cls: type, name: str) -> dict[str, Any]:
    """``value`` (the config default) and ``info`` (its help) for an app control bound to a field:
    ``gr.Number(label="Seed", **ui_default(GenerateConfig, "seed"))`` shows what the CLI would use."""
    return {"value": field_default(cls, name), "info": field_help(cls, name)}


def config_from_dict(cls: type[C], data: dict[str, Any] | None, *, where: str = "config") -> C:
    """Build ``cls`` from plain data, rejecting unknown keys, ill-typed and out-of-range values by name."""
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values, got {type(data).__name__}")
    data = dict(data or {})
    fields = config_fields(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"valid keys are: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _check(hints[name], value, f"{where}.{name}")
        _check_range(fields[name], kwargs[name], f"{where}.{name}")
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
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check(arg, value, key)
            except ConfigError:
                continue
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
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__}")
        vt = args[1] if len(args) == 2 else Any
        return {k: _check(vt, v, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        return config_from_dict(hint, value, where=key)
    if hint in (int, float) and isinstance(value, bool):
        raise ConfigError(f"{key}: expected a number, got a boolean {value!r}")
    if hint is float and isinstance(value, int):
        return float(value)
    if hint is float and isinstance(value, str) and _FLOAT_TEXT.match(value.strip()):
        return float(value)
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{key}: expected {_name(hint)}, got {type(value).__name__} {value!r}")
    return value


def _check_range(field: dataclasses.Field, value: Any, key: str) -> None:
    """``min`` / ``max`` / ``choices`` of an option, on the value or each item of a list."""
    meta = field.metadata
    low, high, choices = meta.get("min"), meta.get("max"), meta.get("choices")
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is None:
            continue
        if choices and item not in choices:
            raise ConfigError(f"{key}: {item!r} is not one of {', '.join(map(repr, choices))}")
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if item != item:  # NaN
                raise ConfigError(f"{key}: NaN is not a number; {_bounds(low, high)}")
            if (low is not None and item < low) or (high is not None and item > high):
                raise ConfigError(f"{key}: {item!r} is out of range; it must be {_bounds(low, high)}")


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f">= {low}" if low is not None else f"<= {high}"


def validate_config(config: Any, *, where: str | None = None) -> Any:
    """Check every field's type and range of a config built in code (``Cls(...)``); returns it."""
    data = config_to_dict(config)
    return config_from_dict(type(config), data, where=where or type(config).__name__)


def check_paths(config: Any, *, where: str | None = None) -> None:
    """Every non-empty field declared with ``path=`` names something that exists (``bundled=``
    fields also accept empty, meaning the shipped asset). Run before any model loads."""
    from mimir.resources import bundled_or_path

    where = where or type(config).__name__
    for name, field in config_fields(type(config)).items():
        kind, value = field.metadata.get("path"), getattr(config, name)
        if field.metadata.get("bundled"):
            bundled_or_path(value or "", default=field.metadata["bundled"], field=f"{where}.{name}")
            continue
        if not kind or not value:
            continue
        for text in value if isinstance(value, list) else [value]:
            path = Path(str(text)).expanduser()
            wrong = not path.exists() or (kind == "file" and not path.is_file()) or (kind == "dir" and not path.is_dir())
            if wrong:
                what = {"file": "file", "dir": "folder", "any": "file or folder"}[kind]
                raise ConfigError(f"{where}.{name}: {what} {text} does not exist (relative paths start at {Path.cwd()})")


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def read_data_file(
    path: str | Path, *, what: str = "config file", error: type[MimirError] = ConfigError, fmt: str | None = None,
    mapping: bool = False,
) -> Any:
    """Parse a YAML or JSON file (``fmt``: 'yaml' / 'json'; default by suffix), every failure an
    ``error`` naming the file: missing, unreadable, not UTF-8, bad syntax (with line and column),
    or (``mapping=True``) not a mapping at the top level."""
    import json

    import yaml

    path = Path(path)
    fmt = fmt or ("json" if path.suffix.lower() == ".json" else "yaml")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder; give the file itself") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "save it as UTF-8") from None
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{what} {path}: not valid YAML ({problem}{at})") from None
    except RecursionError:
        raise error(f"{what} {path}: nested too deeply") from None
    if mapping:
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise error(f"{what} {path}: expected a mapping of keys to values at the top level, got {type(data).__name__}")
    return data


def read_yaml_mapping(path: str | Path, *, section: str | None = None) -> dict[str, Any]:
    """The mapping in a YAML file; with ``section``, that top-level key's mapping if present,
    else the whole file (so ``gen.yaml`` may hold the keys bare or under ``generate:``)."""
    data = read_data_file(path, mapping=True)
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


def merge_overrides(config: C, overrides: dict[str, Any], *, where: str = "override") -> C:
    """A copy of ``config`` with CLI/UI overrides applied through the same strict checks."""
    data = config_to_dict(config)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(type(config), data, where=where)


_CLI_HELPERS = ("add_config_arguments", "config_from_args", "render_config", "print_config_requested")


def __getattr__(name: str) -> Any:
    """The argparse side lives in :mod:`mimir.cliargs`; reachable from here as one API."""
    if name in _CLI_HELPERS:
        from mimir import cliargs

        return getattr(cliargs, name)
    raise AttributeError(f"module 'mimir.config' has no attribute {name!r}")
