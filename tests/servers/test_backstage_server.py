"""The Backstage MCP server through the SDK's in-memory client, against the fake catalog API."""

from collections.abc import Iterator

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from demo.backstage import fake as backstage_fake
from demo.backstage.fake import READONLY_TOKEN, TOKEN
from servers.backstage import Settings, build_server

pytestmark = pytest.mark.anyio

TOOLS = {
    "search_entities",
    "get_entity",
    "get_owner",
    "list_dependencies",
    "list_dependents",
    "get_api_definition",
    "list_group_members",
    "list_facets",
    "register_location",
}
CATALOG_INFO = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invoice-service
  title: Invoice service
spec:
  type: service
  lifecycle: experimental
  owner: group:default/team-payments
  consumesApis: [orders-api]
"""


@pytest.fixture(scope="module")
def shared() -> Iterator[backstage_fake.RunningBackstage]:
    """One fake for the read-only tests; the tests that write use their own `backstage`."""
    with backstage_fake.start(catalog_files=[]) as running:
        yield running


@pytest.fixture(scope="module")
def server(shared) -> MCPServer:
    """Built once: building the tool schemas costs more than the calls themselves."""
    return build_server(Settings(**shared.settings, timeout=5))


@pytest.fixture
def backstage() -> Iterator[backstage_fake.RunningBackstage]:
    with backstage_fake.start(catalog_files=[]) as running:
        yield running


async def call(where: Settings | MCPServer, tool: str, /, **args):
    server = build_server(where) if isinstance(where, Settings) else where
    async with Client(server) as client:
        return await client.call_tool(tool, args)


async def data(where: Settings | MCPServer, tool: str, /, **args):
    result = await call(where, tool, **args)
    assert result.is_error is False, result.content
    return result.structured_content


def error_text(result, tool: str) -> str:
    assert result.is_error is True
    return result.content[0].text.removeprefix(f"Error executing tool {tool}: ")


async def test_the_tool_list_has_every_tool_described_annotated_and_with_an_output_schema(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert len(tool.description or "") > 100, name
        assert tool.output_schema is not None, name
        hints = tool.annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
            name != "register_location",
            False,
            True,
        ), name
    schema = tools["search_entities"].input_schema["properties"]
    assert schema["kind"]["anyOf"][0]["enum"][:3] == ["component", "api", "resource"]
    assert schema["limit"]["anyOf"][0] == {"maximum": 100, "minimum": 1, "type": "integer"}


async def test_search_entities_finds_the_services_of_a_team(server):
    found = await data(server, "search_entities", kind="component", type="service", owner="team-payments")
    assert found == {
        "items": [
            {
                "ref": "component:default/orders-api",
                "kind": "Component",
                "name": "orders-api",
                "title": "Orders API",
                "description": "REST API for orders, carts and VAT-inclusive order totals.",
                "type": "service",
                "lifecycle": "production",
                "owner": "group:default/team-payments",
                "system": "system:default/shop",
                "tags": ["python", "fastapi", "rest"],
            }
        ],
        "total_items": 1,
        "next_cursor": None,
    }


async def test_search_entities_pages_by_offset_and_by_cursor(server):
    first = await data(server, "search_entities", kind="component", limit=2)
    second = await data(server, "search_entities", cursor=first["next_cursor"], limit=2)
    third = await data(server, "search_entities", cursor=second["next_cursor"], limit=2)
    by_offset = await data(server, "search_entities", kind="component", limit=2, offset=4)
    names = [[e["name"] for e in page["items"]] for page in (first, second, third, by_offset)]
    assert names == [
        ["acme-ui-kit", "auth-service"],
        ["etl-exporter", "orders-api"],
        ["web-frontend"],
        ["web-frontend"],
    ]
    assert (first["total_items"], third["next_cursor"]) == (5, None)


async def test_search_entities_finds_the_entity_of_a_gitlab_project_by_annotation(server):
    found = await data(
        server, "search_entities", filter="metadata.annotations.sentry.io/project-slug=auth-service"
    )
    assert [e["ref"] for e in found["items"]] == ["component:default/auth-service"]


async def test_search_entities_text_finds_people_by_display_name(server):
    found = await data(server, "search_entities", text="nakamura")
    assert [(e["ref"], e["title"]) for e in found["items"]] == [("user:default/dave", "Dave Nakamura")]


async def test_get_entity_by_ref_and_by_kind_namespace_name_agree(server):
    by_ref = await data(server, "get_entity", ref="api:default/orders-api")
    by_parts = await data(server, "get_entity", kind="api", namespace="default", name="orders-api")
    assert by_ref == by_parts
    assert by_ref["spec"] == {
        "definition": "[1964 chars: read it with get_api_definition(ref='api:default/orders-api')]"
    }
    assert by_ref["relations"] == {
        "apiConsumedBy": ["component:default/web-frontend"],
        "apiProvidedBy": ["component:default/orders-api"],
        "ownedBy": ["group:default/team-payments"],
        "partOf": ["system:default/shop"],
    }


async def test_get_owner_returns_the_team_with_members_and_email(server):
    owner = await data(server, "get_owner", ref="component:default/auth-service")
    assert {k: owner[k] for k in ("owner_ref", "display_name", "email", "type", "in_catalog")} == {
        "owner_ref": "group:default/team-platform",
        "display_name": "Platform",
        "email": "team-platform@acme.example",
        "type": "team",
        "in_catalog": True,
    }
    assert [m["email"] for m in owner["members"]] == ["erin@acme.example", "frank@acme.example"]


async def test_list_dependencies_gives_resources_and_consumed_apis(server):
    deps = await data(server, "list_dependencies", ref="orders-api")
    assert [(d["ref"], d["relation"], d["type"], d["owner"]) for d in deps["items"]] == [
        ("resource:default/orders-db", "dependsOn", "database", "group:default/team-payments"),
        ("resource:default/orders-events", "dependsOn", "kafka-topic", "group:default/team-payments"),
        ("api:default/auth-service", "consumesApi", "openapi", "group:default/team-platform"),
    ]


async def test_list_dependents_includes_consumers_of_the_provided_apis(server):
    of_db = await data(server, "list_dependents", ref="resource:default/orders-db")
    of_auth = await data(server, "list_dependents", ref="auth-service")
    of_auth_direct = await data(server, "list_dependents", ref="auth-service", via_apis=False)
    assert [(d["ref"], d["relation"]) for d in of_db["items"]] == [
        ("component:default/etl-exporter", "dependencyOf"),
        ("component:default/orders-api", "dependencyOf"),
    ]
    assert [(d["ref"], d["via"]) for d in of_auth["items"]] == [
        ("component:default/orders-api", "api:default/auth-service"),
        ("component:default/web-frontend", "api:default/auth-service"),
    ]
    assert of_auth_direct["items"] == []


async def test_get_api_definition_reads_a_long_definition_in_chunks(server):
    head = await data(server, "get_api_definition", ref="orders-api", max_chars=200)
    tail = await data(server, "get_api_definition", ref="orders-api", start=1900, max_chars=200)
    assert head["definition"].startswith("openapi: 3.0.3\ninfo:\n  title: Orders API\n")
    assert head["definition"].endswith("\n… [truncated: 1764 more chars; call again with start=200]")
    assert (head["type"], head["total_chars"], head["next_start"]) == ("openapi", 1964, 200)
    assert (head["provided_by"], head["consumed_by"]) == (
        ["component:default/orders-api"],
        ["component:default/web-frontend"],
    )
    assert (len(tail["definition"]), tail["next_start"]) == (64, None)


async def test_get_api_definition_of_a_component_points_at_its_api(server):
    result = await call(server, "get_api_definition", ref="component:default/auth-service")
    assert error_text(result, "get_api_definition") == (
        "component:default/auth-service is a Component, not an API; it provides api:default/auth-service: "
        "call get_api_definition(ref='api:default/auth-service')"
    )


async def test_list_group_members_gives_people_with_emails(server):
    group = await data(server, "list_group_members", group="team-web")
    assert group == {
        "group_ref": "group:default/team-web",
        "display_name": "Web",
        "email": "team-web@acme.example",
        "members": [
            {
                "ref": "user:default/carol",
                "name": "carol",
                "display_name": "Carol Lindqvist",
                "email": "carol@acme.example",
            },
            {
                "ref": "user:default/dave",
                "name": "dave",
                "display_name": "Dave Nakamura",
                "email": "dave@acme.example",
            },
        ],
    }


async def test_list_facets_counts_component_types(server):
    facets = await data(server, "list_facets", facet="spec.type", kind="component")
    assert facets == {"result": [{"value": "service", "count": 4}, {"value": "library", "count": 1}]}


async def test_an_entity_of_a_temporary_catalog_info_file_is_found(tmp_path):
    (tmp_path / "catalog-info.yaml").write_text(CATALOG_INFO)
    with backstage_fake.start(catalog_files=[tmp_path / "catalog-info.yaml"]) as running:
        server = build_server(Settings(**running.settings, timeout=5))
        entity = await data(server, "get_entity", ref="invoice-service")
        owner = await data(server, "get_owner", ref="invoice-service")
        consumers = await data(server, "list_dependents", ref="orders-api")
    assert (entity["title"], entity["lifecycle"]) == ("Invoice service", "experimental")
    assert (
        entity["annotations"]["backstage.io/managed-by-location"] == f"file:{tmp_path / 'catalog-info.yaml'}"
    )
    assert [m["name"] for m in owner["members"]] == ["alice", "bob"]
    assert [d["ref"] for d in consumers["items"]] == [
        "component:default/invoice-service",
        "component:default/web-frontend",
    ]


async def test_a_registered_location_persists_and_its_entities_become_readable(backstage, tmp_path):
    server = build_server(Settings(**backstage.settings, timeout=5))
    (tmp_path / "catalog-info.yaml").write_text(CATALOG_INFO)
    target = str(tmp_path / "catalog-info.yaml")
    preview = await data(server, "register_location", target=target, type="file", dry_run=True)
    missing = await call(server, "get_entity", ref="invoice-service")
    created = await data(server, "register_location", target=target, type="file")
    entity = await data(server, "get_entity", ref="invoice-service")
    again = await call(server, "register_location", target=target, type="file")
    assert (preview["dry_run"], preview["entities"]) == (True, ["component:default/invoice-service"])
    assert missing.is_error is True
    assert (created["location"]["target"], created["dry_run"]) == (target, False)
    assert entity["owner"] == "group:default/team-payments"
    assert error_text(again, "register_location") == (
        f"Backstage refused location file:{target} "
        f"(409 ConflictError: Location file:{target} already exists): it already exists, nothing to do"
    )


async def test_an_unknown_entity_is_a_404_tool_error_that_says_how_to_find_it(server):
    result = await call(server, "get_owner", ref="component:default/orders-ap")
    assert error_text(result, "get_owner") == (
        "Backstage answered 404 for entity 'component:default/orders-ap': "
        "no entity component:default/orders-ap; check the ref (kind:namespace/name) "
        "or find it with search_entities(text='orders-ap')"
    )


async def test_a_bad_token_is_a_401_tool_error_that_does_not_echo_the_token(backstage):
    settings = Settings(url=backstage.url, token="bsk-wrong-secret-123", timeout=5)
    result = await call(settings, "search_entities")
    assert error_text(result, "search_entities") == (
        "Backstage rejected the token (401 AuthenticationError: Illegal token): set BACKSTAGE_TOKEN to a "
        "valid static external-access token (backend.auth.externalAccess) or service token"
    )
    assert "bsk-wrong-secret-123" not in result.model_dump_json()


async def test_a_write_with_a_read_only_token_is_a_403_tool_error(backstage, tmp_path):
    settings = Settings(url=backstage.url, token=READONLY_TOKEN, timeout=5)
    result = await call(settings, "register_location", target=str(tmp_path / "x.yaml"), type="file")
    text = error_text(result, "register_location")
    assert text.startswith(f"Backstage refused location file:{tmp_path / 'x.yaml'} (403 NotAllowedError: ")
    assert text.endswith("the token lacks the catalog permission for it; ask a Backstage admin to grant it")
    assert READONLY_TOKEN not in result.model_dump_json()


async def test_a_rate_limit_is_a_tool_error_with_the_retry_after_seconds(shared, server):
    shared.fail_next(429, headers={"Retry-After": "7"})
    result = await call(server, "list_group_members", group="team-data")
    assert error_text(result, "list_group_members") == (
        "Backstage is rate-limiting requests (429 Too Many Requests): wait 7 s (Retry-After), then retry"
    )
    assert TOKEN not in result.model_dump_json()


@pytest.mark.parametrize("code", [500, 503])
async def test_a_failing_backend_is_a_tool_error_saying_retry_later(shared, server, code):
    shared.fail_next(code)
    result = await call(server, "list_dependencies", ref="orders-api")
    text = error_text(result, "list_dependencies")
    assert text.startswith(f"Backstage failed on entity 'component:default/orders-api' ({code} ")
    assert text.endswith("a server-side error, retry later")
    assert TOKEN not in result.model_dump_json()


async def test_a_slow_backend_is_a_timeout_tool_error(backstage):
    settings = Settings(**backstage.settings, timeout=0.3)
    backstage.delay_next(10)
    result = await call(settings, "get_entity", ref="orders-api")
    assert error_text(result, "get_entity") == (
        "Backstage did not answer within 0.3 s: retry later, or raise BACKSTAGE_TIMEOUT"
    )
    assert TOKEN not in result.model_dump_json()


async def test_malformed_json_from_the_backend_is_a_tool_error(shared, server):
    shared.fail_next(body="{not json")
    result = await call(server, "get_api_definition", ref="orders-api")
    assert error_text(result, "get_api_definition") == (
        "Backstage answered entity 'api:default/orders-api' with malformed JSON: check "
        "that BACKSTAGE_URL is the backend (not the frontend or a proxy login page), or retry later"
    )
    assert TOKEN not in result.model_dump_json()


async def test_get_entity_without_ref_or_name_is_a_tool_error(server):
    result = await call(server, "get_entity")
    assert error_text(result, "get_entity") == (
        "give ref (e.g. 'component:default/orders-api') or name (with kind and namespace)"
    )
