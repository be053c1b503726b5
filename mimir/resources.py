"""Files shipped inside the package (roles, dataset catalog, example knowledge, prompts, CSS).

They are found through :mod:`importlib.resources`, so they load from any working directory and
from an installed wheel alike. A MIMIR install is a plain folder (pip never installs it zipped),
so each resource is an ordinary :class:`~pathlib.Path`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mimir.errors import ConfigError

ASSETS = "assets"


def package_path(*parts: str) -> Path:
    """``mimir/<parts...>`` inside the installed package (it may not exist)."""
    return Path(str(resources.files("mimir").joinpath(*parts)))


def assets_dir() -> Path:
    """The bundled assets folder (``mimir/assets``)."""
    return package_path(ASSETS)


def asset(name: str) -> Path:
    """One bundled asset by its name inside ``mimir/assets`` (e.g. ``roles.yaml``, ``examples``)."""
    path = assets_dir() / name
    if not path.exists():
        raise ConfigError(f"bundled asset {name!r} is missing from {assets_dir()}; reinstall MIMIR (pip install .)")
    return path


def bundled_or_path(value: str | Path, *, default: str, field: str) -> Path:
    """Resolve a file setting that defaults to a bundled asset.

    Empty: the bundled ``default``. An existing path: itself. ``assets/<name>`` (what configs
    written by older versions hold, relative to a checkout) that is not there: the bundled copy.
    Anything else is a :class:`ConfigError` naming ``field``.
    """
    text = str(value).strip()
    if not text:
        return asset(default)
    path = Path(text).expanduser()
    if path.exists():
        return path
    parts = path.parts
    if not path.is_absolute() and len(parts) >= 2 and parts[0] == ASSETS and (assets_dir().joinpath(*parts[1:])).exists():
        return assets_dir().joinpath(*parts[1:])
    raise ConfigError(f"{field}: file {text} does not exist; give an existing YAML file or leave it empty for the bundled {default}")
