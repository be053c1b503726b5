"""The role library: who can take part in a dialogue, loaded from YAML and validated by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimir.errors import ConfigError

KINDS = ("expert", "seeker", "peer")


@dataclass
class Role:
    """One agent of a dialogue."""

    name: str
    domain: str
    kind: str  # expert | seeker | peer
    persona: str
    goals: str = ""
    sees_knowledge: bool = False
    tools: list[str] = field(default_factory=list)


@dataclass
class RoleBook:
    """All roles plus the domains they belong to."""

    roles: dict[str, Role]
    domains: dict[str, str]

    def get(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise ConfigError(f"role {name!r} is not in the role library; known roles: {', '.join(self.roles)}") from None

    def in_domain(self, domain: str) -> list[Role]:
        if domain not in self.domains:
            raise ConfigError(f"domain {domain!r} is unknown; choose one of: {', '.join(self.domains)}")
        return [r for r in self.roles.values() if r.domain == domain]

    def default_target(self, domain: str) -> Role:
        experts = [r for r in self.in_domain(domain) if r.kind == "expert"]
        if not experts:
            raise ConfigError(f"domain {domain!r} has no expert role to tune; add one with kind: expert")
        return experts[0]


def load_roles(path: str | Path) -> RoleBook:
    """Read and validate a roles YAML file (see ``mimir/assets/roles.yaml`` for the fields); empty: the bundled one."""
    from mimir.config import read_data_file
    from mimir.resources import bundled_or_path

    path = bundled_or_path(path, default="roles.yaml", field="roles_file")  # empty: the bundled library
    return roles_from_dict(read_data_file(path, what="roles file"), where=str(path))


def roles_from_dict(data: Any, where: str = "roles") -> RoleBook:
    if not isinstance(data, dict) or not isinstance(data.get("roles"), list):
        raise ConfigError(f"{where}: expected a mapping with a `roles` list (and optional `domains` mapping)")
    domains = data.get("domains") or {}
    if not isinstance(domains, dict):
        raise ConfigError(f"{where}: `domains` must map domain names to descriptions")
    roles: dict[str, Role] = {}
    for i, item in enumerate(data["roles"]):
        at = f"{where}: roles[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a mapping")
        unknown = set(item) - {"name", "domain", "kind", "persona", "goals", "sees_knowledge", "tools"}
        if unknown:
            raise ConfigError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
        for key in ("name", "domain", "kind", "persona"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise ConfigError(f"{at}: field `{key}` is required and must be a non-empty string")
        if item["kind"] not in KINDS:
            raise ConfigError(f"{at}: kind {item['kind']!r} must be one of {', '.join(KINDS)}")
        tools = item.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise ConfigError(f"{at}: `tools` must be a list of tool names")
        if not isinstance(item.get("sees_knowledge", False), bool):
            raise ConfigError(f"{at}: `sees_knowledge` must be true or false")
        if item["name"] in roles:
            raise ConfigError(f"{at}: duplicate role name {item['name']!r}")
        domains.setdefault(item["domain"], "")
        roles[item["name"]] = Role(
            name=item["name"],
            domain=item["domain"],
            kind=item["kind"],
            persona=item["persona"].strip(),
            goals=str(item.get("goals") or "").strip(),
            sees_knowledge=bool(item.get("sees_knowledge", False)),
            tools=list(tools),
        )
    if not roles:
        raise ConfigError(f"{where}: the `roles` list is empty")
    return RoleBook(roles=roles, domains={str(k): str(v or "") for k, v in domains.items()})
