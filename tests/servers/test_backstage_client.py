"""Our Backstage client (httpx) through client.py against the fake catalog API, errors included."""

import json
import socket
from collections.abc import Iterator

import pytest

from demo.backstage import fake as backstage_fake
from demo.backstage.fake import TOKEN
from servers.backstage import Settings
from servers.backstage.client import BackendError, BackstageClient, status_message


@pytest.fixture
def backstage() -> Iterator[backstage_fake.RunningBackstage]:
    with backstage_fake.start(catalog_files=[]) as running:
        yield running


@pytest.fixture
def client(backstage) -> BackstageClient:
    return BackstageClient(Settings(**backstage.settings, timeout=5))


def test_search_walks_the_services_in_name_order_with_the_cursor(client):
    first = client.search(["kind=component", "spec.type=service"], None, 3, 0, None)
    second = client.search([], None, 3, 0, first["next_cursor"])
    assert [e["ref"] for e in first["items"]] == [
        "component:default/auth-service",
        "component:default/etl-exporter",
        "component:default/orders-api",
    ]
    assert (first["total_items"], second["total_items"]) == (4, 4)
    assert [e["ref"] for e in second["items"]] == ["component:default/web-frontend"]
    assert second["next_cursor"] is None


def test_a_url_ending_in_api_catalog_is_accepted_too(backstage):
    client = BackstageClient(Settings(url=f"{backstage.url}/api/catalog/", token=TOKEN))
    assert client.get_entity("orders-api")["owner"] == "group:default/team-payments"


def test_an_entity_is_found_by_short_and_full_refs_alike(client):
    short = client.get_entity("orders-api")
    full = client.get_entity("Component:default/orders-api")
    assert short == full
    assert short["annotations"]["gitlab.com/project-slug"] == "infra/api"
    assert short["annotations"]["jira/project-key"] == "API"


def test_the_owner_comes_with_its_members_and_their_emails(client):
    owner = client.owner("component:default/etl-exporter")
    assert (owner["owner_ref"], owner["email"], owner["parent"]) == (
        "group:default/team-data",
        "team-data@acme.example",
        "group:default/acme",
    )
    assert [(p["name"], p["email"]) for p in owner["members"]] == [
        ("grace", "grace@acme.example"),
        ("heidi", "heidi@acme.example"),
    ]


def test_a_refused_connection_becomes_a_backend_error_naming_the_setting_not_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    client = BackstageClient(Settings(url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=2))
    with pytest.raises(BackendError) as caught:
        client.get_entity("orders-api")
    assert str(caught.value) == (
        "Cannot connect to Backstage: check BACKSTAGE_URL (the backend root, not the frontend) "
        "and that the backend is up"
    )


def test_a_token_echoed_by_the_backend_is_scrubbed_from_the_message(backstage, client):
    body = {
        "error": {"name": "Error", "message": f"bad header Bearer {TOKEN}"},
        "response": {"statusCode": 500},
    }
    backstage.fail_next(500, body=json.dumps(body))
    with pytest.raises(BackendError) as caught:
        client.get_entity("orders-api")
    assert str(caught.value) == (
        "Backstage failed on entity 'component:default/orders-api' (500 Error: bad header Bearer ***): "
        "a server-side error, retry later"
    )
    assert caught.value.status == 500


def test_a_malformed_ref_is_refused_before_any_request(client):
    with pytest.raises(BackendError) as caught:
        client.get_entity("component:default/orders api")
    assert str(caught.value).startswith("'component:default/orders api' is not an entity ref")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (403, "Backstage refused entity 'x' (403 NotAllowedError: no): the token lacks the catalog "),
        (409, "Backstage refused entity 'x' (409 NotAllowedError: no): it already exists, nothing to do"),
        (400, "Backstage refused the request for entity 'x' (400 NotAllowedError: no): check the arguments"),
        (502, "Backstage failed on entity 'x' (502 NotAllowedError: no): a server-side error, retry later"),
    ],
)
def test_each_http_status_maps_to_a_message_with_cause_and_fix(code, expected):
    assert status_message(code, "NotAllowedError: no", "entity 'x'", "hint").startswith(expected)


def test_a_rate_limit_without_retry_after_says_to_wait_a_minute():
    assert status_message(429, "", "x", "hint") == (
        "Backstage is rate-limiting requests (429 Too Many Requests): wait a minute, then retry"
    )


def test_json_without_the_catalog_fields_is_a_backend_error_too(backstage, client):
    backstage.fail_next(body='{"status": "ok"}')
    with pytest.raises(BackendError) as caught:
        client.search([], None, 5, 0, None)
    assert str(caught.value) == (
        "Backstage answered the entity search without items, totalItems: check that "
        "BACKSTAGE_URL is the backend's catalog API (a newer or older Backstage, or a proxy in between?)"
    )
