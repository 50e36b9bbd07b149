"""The Elasticsearch MCP server through the SDK's in-memory client, against the fake Elasticsearch."""

from collections.abc import Iterator

import pytest
from mcp import Client
from server_tool_names import TOOL_NAMES

from demo.elasticsearch import fake as es_fake
from servers.elasticsearch import Settings, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[es_fake.ElasticsearchFake]:
    with es_fake.start() as running:
        yield running


@pytest.fixture
def settings(fake: es_fake.ElasticsearchFake) -> Settings:
    return Settings(**fake.settings, timeout=5)


async def call(settings: Settings, tool: str, **args):
    async with Client(build_server(settings)) as client:
        return await client.call_tool(tool, args)


async def data(settings: Settings, tool: str, **args):
    result = await call(settings, tool, **args)
    assert result.is_error is False, result.content[0].text
    return result.structured_content


async def error(settings: Settings, tool: str, **args) -> str:
    result = await call(settings, tool, **args)
    assert result.is_error is True
    text = result.content[0].text
    assert es_fake.API_KEY not in result.model_dump_json()
    return text


# --- the tool list ---------------------------------------------------------------------


async def test_the_tool_list_has_every_tool_read_only_with_a_description_and_an_output_schema(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert (
        set(tools)
        == set(TOOL_NAMES["elasticsearch"])
        == {
            "search",
            "count",
            "get_document",
            "list_indices",
            "get_mapping",
            "cluster_health",
            "top_values",
            "count_over_time",
        }
    )
    for name, tool in tools.items():
        assert len(tool.description or "") > 80, name
        assert tool.output_schema is not None, name
        hints = tool.annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (True, False, True), (
            name
        )


async def test_the_search_schema_documents_its_limits_and_query_forms(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    properties = tools["search"].input_schema["properties"]
    assert list(properties) == ["index", "query", "dsl", "since", "until", "size", "from_", "sort", "fields"]
    size = properties["size"]["anyOf"][0]
    assert (size["minimum"], size["maximum"]) == (1, 200)
    assert "level:ERROR AND service:orders-api" in properties["query"]["description"]
    interval = tools["count_over_time"].input_schema["properties"]["interval"]
    assert interval["enum"] == ["1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"]


# --- each tool returns the seeded data -------------------------------------------------


async def test_search_finds_the_quantize_errors_of_orders_api_newest_first(settings):
    result = await data(
        settings,
        "search",
        query="service:orders-api AND level:ERROR",
        since="2026-02-26T00:00:00Z",
        size=3,
        fields=["@timestamp", "message", "http.status"],
    )
    assert result["total"] == 36
    assert [h["_source"]["@timestamp"] for h in result["hits"]] == [
        "2026-02-26T14:37:11.727Z",
        "2026-02-26T14:36:20.204Z",
        "2026-02-26T14:35:15.130Z",
    ]
    assert result["hits"][0]["_source"] == {
        "@timestamp": "2026-02-26T14:37:11.727Z",
        "message": "InvalidOperation: quantize result has too many digits for current context",
        "http": {"status": 500},
    }
    assert result["next_from"] == 3


async def test_search_pages_with_next_from_until_the_last_page(settings):
    seen: list[str] = []
    start: int | None = 0
    while start is not None:
        page = await data(
            settings, "search", query="service:etl-exporter", size=7, from_=start, sort=["@timestamp:asc"]
        )
        seen += [h["_id"] for h in page["hits"]]
        start = page["next_from"]
    assert (len(seen), len(set(seen))) == (16, 16)


async def test_search_takes_a_query_dsl_object_and_uses_the_default_size(settings):
    result = await data(settings, "search", dsl={"term": {"level": "WARN"}}, fields=["level"])
    assert (result["total"], len(result["hits"]), result["next_from"]) == (14, 14, None)
    assert {h["_source"]["level"] for h in result["hits"]} == {"WARN"}


async def test_count_counts_the_etl_exporter_out_of_memory_errors(settings):
    result = await data(
        settings, "count", query="service:etl-exporter AND (message:OOMKilled OR message:MemoryError)"
    )
    assert result == {"index": "logs-*", "count": 3}


async def test_top_values_shows_which_services_log_errors(settings):
    result = await data(settings, "top_values", index="logs-*", field="service", query="level:ERROR", size=2)
    assert result == {
        "field": "service",
        "matched": 52,
        "values": [{"value": "orders-api", "count": 36}, {"value": "web-frontend", "count": 12}],
        "other_count": 4,
    }


async def test_count_over_time_pins_the_burst_to_a_few_minutes_after_two_pm(settings):
    result = await data(
        settings,
        "count_over_time",
        query="service:orders-api AND level:ERROR",
        interval="15m",
        since="now-1d",
    )
    assert result == {
        "interval": "15m",
        "matched": 36,
        "buckets": [
            {"start": "2026-02-26T14:00:00.000Z", "count": 13},
            {"start": "2026-02-26T14:15:00.000Z", "count": 15},
            {"start": "2026-02-26T14:30:00.000Z", "count": 8},
        ],
    }


async def test_get_document_reads_a_hit_in_full(settings):
    hit = (await data(settings, "search", query="_exists_:error.type", size=1))["hits"][0]
    document = await data(settings, "get_document", index=hit["_index"], id=hit["_id"])
    assert document["_id"] == hit["_id"]
    assert document["_source"]["error"]["stack_trace"].endswith(
        "    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))\n"
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "decimal.InvalidOperation: quantize result has too many digits for current context"
    )


async def test_list_indices_lists_the_daily_log_indices(settings):
    result = await data(settings, "list_indices", pattern="logs-*")
    assert [(i["name"], i["health"], i["status"], i["docs_count"]) for i in result["indices"]] == [
        ("logs-2026.02.24", "green", "open", 81),
        ("logs-2026.02.25", "green", "open", 81),
        ("logs-2026.02.26", "green", "open", 130),
    ]
    assert (result["total"], result["next_offset"]) == (3, None)


async def test_get_mapping_gives_field_types_for_the_pattern(settings):
    result = await data(settings, "get_mapping", index="logs-*")
    assert result["result"] == [
        {
            "indices": ["logs-2026.02.24", "logs-2026.02.25", "logs-2026.02.26"],
            "fields": {
                "@timestamp": "date",
                "duration_ms": "long",
                "error.stack_trace": "text",
                "error.type": "keyword",
                "host": "keyword",
                "http.method": "keyword",
                "http.status": "integer",
                "level": "keyword",
                "message": "text",
                "message.keyword": "keyword",
                "service": "keyword",
                "trace_id": "keyword",
                "url.path": "keyword",
            },
        }
    ]


async def test_cluster_health_is_green_on_one_node(settings):
    result = await data(settings, "cluster_health")
    assert result == {
        "cluster_name": "acme-logs",
        "status": "green",
        "timed_out": False,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": 3,
        "active_shards": 3,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "active_shards_percent": 100.0,
    }


# --- errors reach the model as tool errors ---------------------------------------------


async def test_an_unknown_index_is_a_tool_error_pointing_at_list_indices(settings):
    assert await error(settings, "count", index="logs-2026.03.01") == (
        "Error executing tool count: Elasticsearch has no index 'logs-2026.03.01' "
        "(404 index_not_found_exception): list the indices with list_indices(), "
        "or use a wildcard pattern such as 'logs-*'"
    )


async def test_a_bad_query_string_is_a_tool_error_quoting_the_parse_failure(settings):
    text = await error(settings, "search", query="level:(ERROR")
    assert text.startswith(
        "Error executing tool search: Elasticsearch rejected the request for a search of 'logs-*' "
        "(400 query_shard_exception: Failed to parse query [level:(ERROR]"
    )


async def test_top_values_on_a_text_field_says_to_use_its_keyword_sub_field(settings):
    text = await error(settings, "top_values", index="logs-*", field="message")
    assert text.endswith(
        "pick a keyword, number or date field from get_mapping() (for a text field, its .keyword sub-field)"
    )


async def test_a_pattern_given_to_get_document_is_refused_before_any_request(settings):
    assert await error(settings, "get_document", index="logs-*", id="x") == (
        "Error executing tool get_document: needs one concrete index, not 'logs-*': "
        "pass the _index of a search() hit"
    )


async def test_both_query_forms_at_once_are_refused(settings):
    assert await error(settings, "count", query="level:ERROR", dsl={"match_all": {}}) == (
        "Error executing tool count: "
        "Give either query (a Lucene string) or dsl (a query DSL object), not both"
    )


async def test_a_size_above_200_is_rejected_by_the_schema(settings):
    result = await call(settings, "search", size=500)
    assert result.is_error is True
    assert "less than or equal to 200" in result.content[0].text


async def test_a_bad_api_key_is_a_tool_error_that_does_not_echo_it(fake):
    settings = Settings(url=fake.url, api_key="bm90LXRoZS1rZXk6c3VwZXItc2VjcmV0", timeout=5)
    result = await call(settings, "cluster_health")
    assert result.content[0].text == (
        "Error executing tool cluster_health: Elasticsearch rejected the credentials (401 Unauthorized): "
        "set ELASTICSEARCH_API_KEY (or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD) "
        "to valid credentials"
    )
    assert "bm90LXRoZS1rZXk6c3VwZXItc2VjcmV0" not in result.model_dump_json()


async def test_a_403_is_a_tool_error_about_privileges(fake, settings):
    fake.fail_next(403)
    text = await error(settings, "search")
    assert text.startswith(
        "Error executing tool search: Elasticsearch answered 403 Forbidden for a search of 'logs-*'"
    )


async def test_a_429_is_a_tool_error_with_the_seconds_to_wait(fake, settings):
    fake.fail_next(429, headers={"Retry-After": "7"})
    assert await error(settings, "list_indices") == (
        "Error executing tool list_indices: Elasticsearch is overloaded and rejected the request "
        "(429 Too Many Requests, es_rejected_execution_exception): wait 7 s (Retry-After), then retry"
    )


async def test_a_500_is_a_tool_error_saying_to_retry_later(fake, settings):
    fake.fail_next(500)
    assert await error(settings, "get_mapping") == (
        "Error executing tool get_mapping: Elasticsearch failed with 500 on the mapping of 'logs-*' "
        "(exception): a server-side error; retry later, and check cluster_health()"
    )


async def test_a_timeout_is_a_tool_error_naming_the_timeout_setting(fake):
    fake.delay_next(10)
    settings = Settings(**fake.settings, timeout=0.3)
    text = await error(settings, "count")
    assert text == (
        "Error executing tool count: Elasticsearch did not answer within 0.3 s: "
        "narrow the query (a smaller index pattern or time range) or raise ELASTICSEARCH_TIMEOUT, then retry"
    )


async def test_malformed_json_is_a_tool_error(fake, settings):
    fake.fail_next(body='{"count": ')
    assert await error(settings, "count") == (
        "Error executing tool count: Elasticsearch sent a body that is not valid JSON "
        "for a count of 'logs-*': a proxy or another service may answer at ELASTICSEARCH_URL; "
        "check it, or retry later"
    )
