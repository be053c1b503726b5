"""Command-line flags, ``--print-config`` and docs derived from the config dataclasses.

A stage's CLI does not retype its options: ::

    def configure(parser):
        add_config_arguments(parser, GenerateConfig, section="generate")   # --config, --print-config, one flag a field
        parser.add_argument("--include-reasoning", action="store_true")     # options that are not config keys

    def run(args):
        config = config_from_args(GenerateConfig, args, section="generate")  # YAML, then flags, checked
        if print_config_requested(args):
            print(render_config(config), end="")
            return 0

Flags are ``--field-name`` (underscores become dashes) with the field's help, default and range;
booleans get ``--x/--no-x``, lists take one or more values (and may repeat), dicts a YAML mapping.
A flag that is not given leaves the YAML (or the default) alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import textwrap
import typing
from typing import Any, Iterable, Literal, Mapping, TypeVar

from mimir.config import check_paths, config_fields, config_from_dict, config_to_dict, load_config, merge_overrides
from mimir.errors import ConfigError

C = TypeVar("C")


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    exclude: Iterable[str] = (),
    flags: Mapping[str, list[str]] | None = None,
    section: str | None = None,
    config_file: bool = True,
    print_config: bool = True,
) -> None:
    """One flag per field of ``cls`` (but ``exclude``), plus ``--config`` and ``--print-config``.

    ``flags`` renames a field's flag(s), e.g. ``{"repo_id": ["--repo"], "n": ["-n", "--n"]}``.
    Each flag's ``dest`` is the field name and its default ``None`` (= not given).
    """
    if config_file:
        where = f" (top level or under `{section}:`)" if section else ""
        parser.add_argument("--config", metavar="YAML", help=f"YAML file with {cls.__name__} keys{where}; flags override it.")
    if print_config:
        parser.add_argument("--print-config", action="store_true",
                            help="Print the effective config (every key, with its help) as YAML and exit.")
    group = parser.add_argument_group(f"{cls.__name__} keys (each also a key of --config)")
    hints = typing.get_type_hints(cls)
    skip = set(exclude)
    for name, field in config_fields(cls).items():
        if name in skip:
            continue
        names = list((flags or {}).get(name) or [flag_name(name)])
        kwargs = _argparse_kwargs(hints[name], field)
        group.add_argument(*names, dest=name, default=None, help=_escape(describe_field(cls, name)), **kwargs)


def config_from_args(
    cls: type[C], args: argparse.Namespace, *, section: str | None = None, overrides: Mapping[str, Any] | None = None,
    check_files: bool = True, from_file: bool = True,
) -> C:
    """``cls`` from ``--config`` (its ``section``), then the flags that were given, then
    ``overrides``; every value type- and range-checked, and (``check_files``) every path field
    checked to exist, so a bad setting fails before any model loads. ``from_file=False`` ignores
    ``--config`` (for a second config class on the same parser)."""
    where = section or cls.__name__
    path = getattr(args, "config", None) if from_file else None
    config = load_config(cls, path, section=section) if path else config_from_dict(cls, {}, where=where)
    given = {name: getattr(args, name) for name in config_fields(cls) if getattr(args, name, None) is not None}
    given.update({k: v for k, v in (overrides or {}).items() if v is not None})
    config = merge_overrides(config, given, where=where)
    if check_files:
        check_paths(config, where=where)
    return config


def print_config_requested(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "print_config", False))


def describe_field(cls: type, name: str) -> str:
    """The field's help, then its default and constraints: what ``--help`` and the docs show."""
    from mimir.config import field_default

    field = config_fields(cls)[name]
    meta = field.metadata
    notes = [f"default: {_show(field_default(cls, name))}"]
    if meta.get("min") is not None:
        notes.append(f"min {meta['min']}")
    if meta.get("max") is not None:
        notes.append(f"max {meta['max']}")
    if meta.get("choices"):
        notes.append("one of " + ", ".join(map(str, meta["choices"])))
    text = str(meta.get("help", "")).strip()
    return f"{text} ({'; '.join(notes)})" if text else f"({'; '.join(notes)})"


def render_config(config: Any, *, width: int = 100) -> str:
    """The config as YAML, each key under its help as a comment: a file one can edit and pass to --config."""
    import yaml

    cls = type(config)
    data = config_to_dict(config)
    out = [f"# {cls.__name__}" + (f": {config_summary(cls)}" if config_summary(cls) else "")]
    for name in config_fields(cls):
        out.extend(textwrap.wrap(describe_field(cls, name), width=width, initial_indent="# ", subsequent_indent="# "))
        out.append(yaml.safe_dump({name: data[name]}, sort_keys=False, allow_unicode=True, width=1000).rstrip())
    return "\n".join(out) + "\n"


def config_summary(cls: type) -> str:
    """The first line of the class docstring (not the signature dataclasses write when there is none)."""
    doc = (cls.__doc__ or "").strip()
    return "" if not doc or doc.startswith(cls.__name__ + "(") else doc.splitlines()[0]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or value != value.strip() else value
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    return str(value)


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # argparse %-formats help strings


def _argparse_kwargs(hint: Any, field: dataclasses.Field) -> dict[str, Any]:
    hint = _without_none(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin in (list, tuple):
        item = _without_none(args[0]) if args else str
        return {"nargs": "+", "action": "extend", **_scalar(item, field)}
    if origin is dict or hint is dict:
        return {"type": _yaml_mapping, "metavar": "YAML"}
    return _scalar(hint, field)


def _scalar(hint: Any, field: dataclasses.Field) -> dict[str, Any]:
    choices = field.metadata.get("choices")
    if typing.get_origin(hint) is Literal:
        choices = choices or typing.get_args(hint)
        hint = type(typing.get_args(hint)[0])
    kwargs: dict[str, Any] = {"type": hint if hint in (int, float, str) else str}
    if choices:
        kwargs["choices"] = list(choices)
    else:
        kwargs["metavar"] = {int: "N", float: "X"}.get(hint, field.name.upper())
    return kwargs


def _without_none(hint: Any) -> Any:
    args = typing.get_args(hint)
    if type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else Any
    return hint


def _yaml_mapping(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YAML mapping, e.g. '{{rank: 8, epochs: 2}}'") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a YAML mapping, e.g. '{{rank: 8, epochs: 2}}'")
    return data


def yaml_assignments(items: Iterable[str], *, flag: str = "--set") -> dict[str, Any]:
    """``KEY=VALUE`` strings (VALUE read as YAML) as a mapping; a malformed item is a ConfigError."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{flag} {item!r}: the value is not valid YAML") from None
    return out
