"""The fake Backstage speaks the catalog REST API as Backstage does: raw HTTP against it."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demo.backstage import fake as backstage_fake
from demo.backstage.fake import READONLY_TOKEN, TOKEN, default_catalog_files

CATALOG_INFO = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invoice-service
  title: Invoice service
  annotations:
    gitlab.com/project-slug: billing/invoices
spec:
  type: service
  lifecycle: experimental
  owner: team-payments
  dependsOn: [resource:orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: more
spec:
  type: file
  targets: [./more/catalog-info.yaml]
"""
MORE = """\
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: invoices-bucket
spec:
  type: s3-bucket
  owner: team-payments
"""


@pytest.fixture
def backstage() -> Iterator[backstage_fake.RunningBackstage]:
    with backstage_fake.start(catalog_files=[]) as running:
        yield running


def http(fake: backstage_fake.RunningBackstage, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{fake.url}/api/catalog", headers=headers, timeout=5)


def relations(entity: dict) -> list[tuple[str, str]]:
    return [(r["type"], r["targetRef"]) for r in entity["relations"]]


def test_a_request_without_a_token_gets_backstages_401_error_body(backstage):
    response = http(backstage, token=None).get("/entities/by-name/component/default/orders-api")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"name": "AuthenticationError", "message": "Missing credentials"},
        "request": {"method": "GET", "url": "/api/catalog/entities/by-name/component/default/orders-api"},
        "response": {"statusCode": 401},
    }
    assert http(backstage, token="wrong-token").get("/entities").json()["error"]["message"] == "Illegal token"


def test_an_unknown_entity_gets_backstages_404_not_found_error(backstage):
    response = http(backstage).get("/entities/by-name/component/default/orders-ap")
    assert (response.status_code, response.headers["content-type"]) == (
        404,
        "application/json; charset=utf-8",
    )
    assert response.json()["error"] == {
        "name": "NotFoundError",
        "message": "No entity named 'orders-ap' found, with kind 'component' in namespace 'default'",
    }


def test_the_catalog_computes_relations_in_both_directions_from_the_specs(backstage):
    client = http(backstage)
    orders = client.get("/entities/by-name/Component/default/orders-api").json()
    db = client.get("/entities/by-name/resource/default/orders-db").json()
    team = client.get("/entities/by-name/group/default/team-payments").json()
    assert relations(orders) == [
        ("consumesApi", "api:default/auth-service"),
        ("dependsOn", "resource:default/orders-db"),
        ("dependsOn", "resource:default/orders-events"),
        ("ownedBy", "group:default/team-payments"),
        ("partOf", "system:default/shop"),
        ("providesApi", "api:default/orders-api"),
    ]
    assert ("dependencyOf", "component:default/etl-exporter") in relations(db)
    assert ("dependencyOf", "component:default/orders-api") in relations(db)
    assert [t for k, t in relations(team) if k == "hasMember"] == ["user:default/alice", "user:default/bob"]
    assert ("childOf", "group:default/acme") in relations(team)
    assert orders["apiVersion"] == "backstage.io/v1alpha1"
    assert orders["metadata"]["annotations"]["sentry.io/project-slug"] == "orders-api"
    assert len(orders["metadata"]["uid"]) == 36 and orders["metadata"]["etag"]


def test_by_query_pages_with_opaque_base64_json_cursors(backstage):
    client = http(backstage)
    params = {"filter": "kind=component,spec.type=service", "orderField": "metadata.name,asc", "limit": 3}
    first = client.get("/entities/by-query", params={**params, "fields": "metadata.name"}).json()
    cursor = json.loads(base64.b64decode(first["pageInfo"]["nextCursor"]))
    second = client.get(
        "/entities/by-query", params={"cursor": first["pageInfo"]["nextCursor"], "limit": 3}
    ).json()
    assert [e["metadata"]["name"] for e in first["items"]] == ["auth-service", "etl-exporter", "orders-api"]
    assert first["items"][0] == {"metadata": {"name": "auth-service"}}
    assert (first["totalItems"], cursor["orderFieldValues"][0], cursor["isPrevious"]) == (
        4,
        "orders-api",
        False,
    )
    assert [e["metadata"]["name"] for e in second["items"]] == ["web-frontend"]
    assert "nextCursor" not in second["pageInfo"] and "prevCursor" in second["pageInfo"]


def test_full_text_filter_matches_a_substring_of_the_given_fields(backstage):
    params = {"fullTextFilterTerm": "KAFKA", "fullTextFilterFields": "metadata.title,metadata.description"}
    found = http(backstage).get("/entities/by-query", params=params).json()
    assert [e["metadata"]["name"] for e in found["items"]] == ["orders-events"]


def test_a_malformed_cursor_or_filter_is_a_400_input_error(backstage):
    client = http(backstage)
    assert client.get("/entities/by-query", params={"cursor": "bm90IGpzb24="}).json()["error"]["name"] == (
        "InputError"
    )
    assert client.get("/entities", params={"filter": "=x"}).status_code == 400


def test_the_legacy_entities_list_links_to_its_next_page(backstage):
    response = http(backstage).get("/entities", params={"filter": "kind=group", "limit": 2})
    link = response.headers["link"]
    assert [e["metadata"]["name"] for e in response.json()] == ["acme", "team-data"]
    assert link.startswith("</entities?filter=kind%3Dgroup&limit=2&after=") and link.endswith('>; rel="next"')
    after = httpx.URL(link[1 : link.index(">")]).params["after"]
    following = http(backstage).get("/entities", params={"filter": "kind=group", "after": after}).json()
    assert [e["metadata"]["name"] for e in following] == ["team-payments", "team-platform"]


def test_by_refs_answers_in_order_with_null_for_unknown_refs(backstage):
    body = {"entityRefs": ["user:default/bob", "user:default/nobody"], "fields": ["spec.profile.email"]}
    response = http(backstage).post("/entities/by-refs", json=body)
    assert response.json() == {"items": [{"spec": {"profile": {"email": "bob@acme.example"}}}, None]}


def test_facets_count_original_values(backstage):
    response = http(backstage).get("/entity-facets", params={"facet": "spec.type", "filter": "kind=resource"})
    assert response.json() == {
        "facets": {
            "spec.type": [
                {"value": "cache", "count": 1},
                {"value": "database", "count": 1},
                {"value": "kafka-topic", "count": 1},
                {"value": "s3-bucket", "count": 1},
            ]
        }
    }


def test_a_catalog_info_file_and_its_location_targets_are_loaded(tmp_path):
    (tmp_path / "catalog-info.yaml").write_text(CATALOG_INFO)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "catalog-info.yaml").write_text(MORE)
    with backstage_fake.start(catalog_files=[tmp_path / "catalog-info.yaml"]) as running:
        client = http(running)
        invoice = client.get("/entities/by-name/component/default/invoice-service").json()
        bucket = client.get("/entities/by-name/resource/default/invoices-bucket").json()
        db = client.get("/entities/by-name/resource/default/orders-db").json()
        assert running.catalog_errors == []
    assert invoice["metadata"]["annotations"]["backstage.io/managed-by-location"] == (
        f"file:{tmp_path / 'catalog-info.yaml'}"
    )
    assert bucket["metadata"]["annotations"]["backstage.io/managed-by-origin-location"] == (
        f"file:{tmp_path / 'catalog-info.yaml'}"
    )
    assert ("dependencyOf", "component:default/invoice-service") in relations(db)


def test_an_edited_catalog_file_is_read_again_and_bad_yaml_is_reported_not_fatal(tmp_path):
    path = tmp_path / "catalog-info.yaml"
    path.write_text(CATALOG_INFO)
    with backstage_fake.start(catalog_files=[path, tmp_path / "absent.yaml"]) as running:
        client = http(running)
        assert client.get("/entities/by-name/component/default/invoice-service").status_code == 200
        path.write_text(CATALOG_INFO.replace("invoice-service", "billing-service"))
        assert client.get("/entities/by-name/component/default/billing-service").status_code == 200
        path.write_text("kind: [unclosed")
        assert client.get("/entities/by-name/component/default/orders-api").status_code == 200
        errors = running.catalog_errors
    assert errors[0] == f"YAML error at file:{path}: while parsing a flow sequence"
    assert errors[1] == f"NotFoundError: {tmp_path / 'absent.yaml'} does not exist"


def test_default_discovery_reads_the_root_file_only_when_it_exists(tmp_path):
    (tmp_path / "servers" / "a").mkdir(parents=True)
    (tmp_path / "servers" / "a" / "catalog-info.yaml").write_text(MORE)
    assert default_catalog_files(tmp_path) == [tmp_path / "servers" / "a" / "catalog-info.yaml"]
    (tmp_path / "catalog-info.yaml").write_text(CATALOG_INFO)
    assert default_catalog_files(tmp_path)[0] == tmp_path / "catalog-info.yaml"


def test_by_default_the_fake_serves_this_servers_own_catalog_info():
    with backstage_fake.start() as running:
        response = http(running).get("/entities/by-name/component/default/mcp-server-backstage")
    assert response.json()["spec"]["owner"] == "group:default/team-platform"


def test_registering_a_location_persists_and_a_duplicate_is_a_409(backstage, tmp_path: Path):
    (tmp_path / "catalog-info.yaml").write_text(MORE)
    client, body = http(backstage), {"type": "file", "target": str(tmp_path / "catalog-info.yaml")}
    created = client.post("/locations", json=body)
    again = client.post("/locations", json=body)
    listed = [x["data"]["target"] for x in client.get("/locations").json()]
    assert (created.status_code, created.json()["location"]["type"], created.json()["entities"]) == (
        201,
        "file",
        [],
    )
    assert (again.status_code, again.json()["error"]["name"]) == (409, "ConflictError")
    assert listed[-1] == str(tmp_path / "catalog-info.yaml")
    assert client.get("/entities/by-name/resource/default/invoices-bucket").status_code == 200
    assert http(backstage, READONLY_TOKEN).post("/locations", json=body).status_code == 403


def test_injected_faults_apply_to_one_request_each(backstage):
    backstage.fail_next(429, headers={"Retry-After": "7"})
    backstage.fail_next(body="{not json")
    client = http(backstage)
    limited, broken, fine = (client.get("/entities/by-query") for _ in range(3))
    assert (limited.status_code, limited.headers["retry-after"], limited.text) == (
        429,
        "7",
        "Too many requests, please try again later.",
    )
    assert (broken.status_code, broken.text) == (200, "{not json")
    assert fine.json()["totalItems"] == 27
