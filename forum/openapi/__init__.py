"""The OpenAPI document: base.yaml plus one YAML file per area, merged into one.

An area file (core.yaml, admin.yaml, proposals.yaml ...) holds `paths`, optionally `tags` and
`components`; dropping one into this directory is all it takes to publish it. Two files that
describe the same operation or define the same component name are refused, so areas cannot
silently overwrite each other.
"""
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BASE = "base.yaml"
AREA_KEYS = {"paths", "components", "tags"}
PATH_ITEM_SHARED = {"summary", "description", "parameters", "servers"}


class SpecConflict(ValueError):
    """Two area files claim the same operation or component, or a file has an unknown key."""


def _read(path):
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise SpecConflict(f"{path.name}: the top level must be a mapping")
    return data


def _merge_paths(paths, area_paths, source):
    for template, item in (area_paths or {}).items():
        target = paths.setdefault(template, {})
        for key, value in item.items():
            if key in target and (key not in PATH_ITEM_SHARED or target[key] != value):
                raise SpecConflict(f"{source}: {key} {template} is already described elsewhere")
            target[key] = value


def _merge_components(components, area_components, source):
    for section, entries in (area_components or {}).items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            if name in target:
                raise SpecConflict(f"{source}: components.{section}.{name} is already defined")
            target[name] = value


def load(directory=HERE):
    """The whole document as a dict: the base, then every area file in name order."""
    directory = Path(directory)
    doc = _read(directory / BASE)
    doc.setdefault("paths", {})
    doc.setdefault("components", {})
    doc.setdefault("tags", [])
    for path in sorted(directory.glob("*.yaml")):
        if path.name == BASE:
            continue
        area = _read(path)
        unknown = set(area) - AREA_KEYS
        if unknown:
            raise SpecConflict(f"{path.name}: area files hold only {sorted(AREA_KEYS)}, "
                               f"not {sorted(unknown)}")
        _merge_paths(doc["paths"], area.get("paths"), path.name)
        _merge_components(doc["components"], area.get("components"), path.name)
        known_tags = {tag["name"] for tag in doc["tags"]}
        doc["tags"].extend(t for t in area.get("tags") or () if t["name"] not in known_tags)
    return doc


@lru_cache(maxsize=1)
def document():
    """The merged document, read once per process."""
    return load()
