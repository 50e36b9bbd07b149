"""The Backstage registration of the portal and every server is valid and complete."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from backstage_rules import validate_entities

ROOT = Path(__file__).parents[1]
SERVER_FOLDERS = sorted(
    p
    for p in (ROOT / "servers").iterdir()
    if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "__pycache__"
)


def slug(folder: Path) -> str:
    """A server's name in the catalog: its folder's name, '_' written '-' (pager_duty: pager-duty)."""
    return folder.name.replace("_", "-")


def entities(path: Path) -> list[dict]:
    return [e for e in yaml.safe_load_all(path.read_text()) if e is not None]


@pytest.mark.parametrize(
    "path",
    [ROOT / "catalog-info.yaml", ROOT / "servers/_template/catalog-info.yaml"]
    + [folder / "catalog-info.yaml" for folder in SERVER_FOLDERS],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_each_catalog_file_follows_backstages_entity_rules(path: Path) -> None:
    assert validate_entities(entities(path)) == []


def test_the_location_lists_every_server_and_the_portal_depends_on_each() -> None:
    top = entities(ROOT / "catalog-info.yaml")
    location = next(e for e in top if e["kind"] == "Location")
    portal = next(e for e in top if e["kind"] == "Component" and e["metadata"]["name"] == "mcp-portal")
    assert sorted(location["spec"]["targets"]) == sorted(
        f"./servers/{f.name}/catalog-info.yaml" for f in SERVER_FOLDERS
    )
    assert sorted(portal["spec"]["dependsOn"]) == sorted(
        f"component:default/mcp-server-{slug(f)}" for f in SERVER_FOLDERS
    )


def test_each_server_provides_the_api_it_declares() -> None:
    for folder in SERVER_FOLDERS:
        found = {e["kind"]: e for e in entities(folder / "catalog-info.yaml")}
        assert found["Component"]["metadata"]["name"] == f"mcp-server-{slug(folder)}"
        assert found["Component"]["spec"]["providesApis"] == [
            f"api:default/{found['API']['metadata']['name']}"
        ]


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [
        ({"apiVersion": "v1", "kind": "Component", "metadata": {"name": "a"}, "spec": {}}, "apiVersion"),
        (
            {"apiVersion": "backstage.io/v1alpha1", "kind": "Widget", "metadata": {"name": "a"}},
            "unknown kind",
        ),
        (
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "System",
                "metadata": {"name": "bad name!"},
                "spec": {"owner": "team"},
            },
            "not a valid name",
        ),
        (
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "a"},
                "spec": {"type": "service", "owner": "team"},
            },
            "spec.lifecycle",
        ),
        (
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "a", "tags": ["Bad Tag"]},
                "spec": {"type": "service", "lifecycle": "x", "owner": "team"},
            },
            "invalid tag",
        ),
        (
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "a"},
                "spec": {"type": "service", "lifecycle": "x", "owner": "group:Bad Ns/team"},
            },
            "entity reference",
        ),
        (
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Location",
                "metadata": {"name": "a"},
                "spec": {},
            },
            "target or targets",
        ),
    ],
)
def test_the_rules_catch_each_kind_of_mistake(entity: dict, fragment: str) -> None:
    problems = validate_entities([entity])
    assert any(fragment in problem for problem in problems), problems
