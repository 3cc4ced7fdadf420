"""The Authorizer's (role, region) tables kept on disk between starts.

Building every table is ~0.5 s of Casbin work, paid by every server worker at every start (beside serving, but on
the same cores as the first requests). The tables only follow from files and code, so a process that built them
writes them down and the next one over the same inputs reads them back in a few milliseconds.

The file is named by a digest of everything the tables follow from: model.conf, policy.csv, the permission
catalogue, the roles and regions, the Casbin version and this package's code that asks Casbin. Any change gives a
new name, so a stale file is never read. A file that cannot be read, or does not hold exactly one table per
(role, region) over known permissions and regions, is ignored: the tables are then built by Casbin as before.

The directory must be one only the service writes (``VIGIL_DATA_DIR``, beside the embedded database): a planted
file would grant permissions. Nothing is cached where the directory cannot be created or written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from authz.enforcer import ALL_REGIONS, Authorizer, RegionSet
from authz.permissions import Permission
from authz.roles import GLOBAL_REGION, KNOWN_REGIONS, Role

log = logging.getLogger("vigil.authz")

FORMAT = 1
_CODE = (
    Path(__file__).parent / "enforcer.py",
    Path(__file__).parent / "permissions.py",
    Path(__file__).parent / "roles.py",
)
_PREFIX = "authz-tables-"
_REGIONS = (*sorted(KNOWN_REGIONS), GLOBAL_REGION)

Tables = dict[tuple[Role, str], Mapping[Permission, RegionSet]]


def digest(authorizer: Authorizer) -> str:
    """What the authorizer's tables follow from, as one SHA-256."""
    try:
        casbin_version = version("casbin")
    except PackageNotFoundError:  # pragma: no cover - installed from source
        casbin_version = "unknown"
    hashed = hashlib.sha256(f"{FORMAT}\0{casbin_version}\0".encode())
    for path in (authorizer.model_path, authorizer.policy_path, *_CODE):
        hashed.update(path.read_bytes())
        hashed.update(b"\0")
    hashed.update("\0".join(p.value for p in Permission).encode())
    hashed.update("\0".join(r.value for r in Role).encode())
    hashed.update("\0".join(_REGIONS).encode())
    return hashed.hexdigest()


def path_for(authorizer: Authorizer, directory: Path) -> Path:
    return directory / f"{_PREFIX}{digest(authorizer)[:32]}.json"


def load(authorizer: Authorizer, directory: Path) -> bool:
    """Give ``authorizer`` the tables written for its inputs, if there are; whether it now has them all."""
    path = path_for(authorizer, directory)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        log.warning("ignoring the authorizer's cached tables %s: %s", path, type(exc).__name__)
        return False
    tables = _parse(data, digest(authorizer))
    if tables is None:
        log.warning("ignoring the authorizer's cached tables %s: not the expected content", path)
        return False
    authorizer.adopt_tables(tables)
    return True


def save(authorizer: Authorizer, directory: Path) -> None:
    """Write ``authorizer``'s tables (once it has them all) for the next start; remove those of other inputs."""
    tables = authorizer.tables()
    if len(tables) != len(Role) * len(_REGIONS):
        return
    path = path_for(authorizer, directory)
    payload = {"digest": digest(authorizer), "tables": {_key(r, g): _encode(t) for (r, g), t in tables.items()}}
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(payload, sort_keys=True))
        partial.replace(path)  # atomic: a reader sees the old file, no file, or the whole new one
        for other in directory.glob(f"{_PREFIX}*.json"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as exc:
        log.info("not caching the authorizer's tables in %s: %s", directory, exc.strerror or type(exc).__name__)


def _key(role: Role, region: str) -> str:
    return f"{role.value}@{region}"


def _encode(table: Mapping[Permission, RegionSet]) -> dict[str, list[str] | None]:
    return {p.value: (None if regions is ALL_REGIONS else sorted(regions)) for p, regions in table.items()}


def _parse(data: object, expected_digest: str) -> Tables | None:
    if not isinstance(data, dict) or data.get("digest") != expected_digest or not isinstance(data.get("tables"), dict):
        return None
    raw: dict[str, object] = data["tables"]
    tables: Tables = {}
    for role in Role:
        for region in _REGIONS:
            entry = raw.get(_key(role, region))
            if not isinstance(entry, dict):
                return None
            table: dict[Permission, RegionSet] = {}
            for name, regions in entry.items():
                try:
                    permission = Permission(name)
                except ValueError:
                    return None
                if regions is None:
                    table[permission] = ALL_REGIONS
                elif isinstance(regions, list) and regions and set(regions) <= KNOWN_REGIONS:
                    table[permission] = frozenset(regions)
                else:
                    return None
            tables[(role, region)] = table
    return tables if len(raw) == len(tables) else None
