"""The real `elasticsearch` client, through our client.py, against the fake Elasticsearch:
compact results, and every failure translated once into a BackendError that says what to do."""

import socket
from collections.abc import Iterator

import pytest

from demo.elasticsearch import fake as es_fake
from servers.elasticsearch import Settings
from servers.elasticsearch.client import BackendError, ElasticsearchClient, InputError, build_query

ERRORS = build_query("level:ERROR", None, None, None)


@pytest.fixture
def fake() -> Iterator[es_fake.ElasticsearchFake]:
    with es_fake.start() as running:
        yield running


@pytest.fixture
def client(fake: es_fake.ElasticsearchFake) -> ElasticsearchClient:
    return ElasticsearchClient(Settings(**fake.settings, timeout=5))


def failure(client: ElasticsearchClient) -> str:
    with pytest.raises(BackendError) as caught:
        client.count("logs-*", ERRORS)
    return str(caught.value)


# --- building queries ------------------------------------------------------------------


def test_a_lucene_string_becomes_a_query_string_query():
    assert build_query("level:ERROR", None, None, None) == {"query_string": {"query": "level:ERROR"}}


def test_since_and_until_wrap_the_query_in_a_timestamp_filter():
    assert build_query(None, {"term": {"level": "WARN"}}, "now-1h", "now") == {
        "bool": {
            "must": [{"term": {"level": "WARN"}}],
            "filter": [{"range": {"@timestamp": {"gte": "now-1h", "lte": "now"}}}],
        }
    }


def test_a_whole_request_body_passed_as_dsl_is_unwrapped_to_its_query():
    assert build_query(None, {"query": {"match_all": {}}}, None, None) == {"match_all": {}}


def test_a_query_string_and_a_dsl_object_together_are_refused():
    with pytest.raises(InputError) as caught:
        build_query("a", {"match_all": {}}, None, None)
    assert str(caught.value) == "Give either query (a Lucene string) or dsl (a query DSL object), not both"


# --- results ---------------------------------------------------------------------------


def test_the_client_is_built_lazily_at_the_first_call(fake):
    client = ElasticsearchClient(Settings(**fake.settings))
    assert client._es is None
    assert client.cluster_health()["status"] == "green"
    assert client._es is not None


def test_search_returns_the_newest_hits_with_a_cursor_to_the_next_page(client):
    result = client.search("logs-*", ERRORS, 2, 0, ["@timestamp:desc"], ["@timestamp", "service"])
    assert result == {
        "total": 52,
        "total_relation": "eq",
        "hits": [
            {
                "_index": "logs-2026.02.26",
                "_id": "jhJ0RjUb0Lp1WyrM8ebp",
                "_source": {"@timestamp": "2026-02-26T14:37:11.727Z", "service": "orders-api"},
            },
            {
                "_index": "logs-2026.02.26",
                "_id": "rIDjX2R4yXiW6VjJfqFw",
                "_source": {"@timestamp": "2026-02-26T14:36:20.204Z", "service": "orders-api"},
            },
        ],
        "next_from": 2,
    }


def test_the_last_page_has_no_next_from(client):
    result = client.search("logs-*", ERRORS, 20, 40, ["@timestamp:desc"], ["message"])
    assert (len(result["hits"]), result["next_from"]) == (12, None)


def test_long_strings_in_hits_are_cut_in_the_middle_with_a_marker(client):
    query = build_query("_exists_:error.stack_trace", None, None, None)
    trace = client.search("logs-*", query, 1, 0, ["@timestamp:asc"], ["error.stack_trace"])["hits"][0]
    text = trace["_source"]["error"]["stack_trace"]
    assert text.startswith("Traceback (most recent call last):\n")
    assert "\n… [truncated: 590 more characters] …\n" in text
    assert text.endswith("decimal.InvalidOperation: quantize result has too many digits for current context")


def test_get_document_returns_the_whole_stack_trace(client):
    query = build_query("_exists_:error.stack_trace", None, None, None)
    hit = client.search("logs-*", query, 1, 0, ["@timestamp:asc"], None)["hits"][0]
    document = client.get_document(hit["_index"], hit["_id"])
    assert len(document["_source"]["error"]["stack_trace"]) == 1090
    assert (
        document["_source"]["message"]
        == "InvalidOperation: quantize result has too many digits for current context"
    )


def test_top_values_ranks_the_services_that_log_errors(client):
    assert client.top_values("logs-*", "service", 3, ERRORS) == {
        "field": "service",
        "matched": 52,
        "values": [
            {"value": "orders-api", "count": 36},
            {"value": "web-frontend", "count": 12},
            {"value": "etl-exporter", "count": 3},
        ],
        "other_count": 1,
    }


def test_count_over_time_shows_when_the_errors_happened(client):
    assert client.count_over_time("logs-*", "1h", ERRORS) == {
        "interval": "1h",
        "matched": 52,
        "buckets": [
            {"start": "2026-02-25T02:00:00.000Z", "count": 1},
            {"start": "2026-02-25T09:00:00.000Z", "count": 1},
            {"start": "2026-02-26T02:00:00.000Z", "count": 2},
            {"start": "2026-02-26T14:00:00.000Z", "count": 48},
        ],
    }


def test_list_indices_pages_by_name_with_sizes_in_bytes(client):
    first = client.list_indices("logs-*", 2, 0)
    second = client.list_indices("logs-*", 2, 2)
    assert [(i["name"], i["docs_count"], i["health"]) for i in first["indices"]] == [
        ("logs-2026.02.24", 81, "green"),
        ("logs-2026.02.25", 81, "green"),
    ]
    assert (first["total"], first["next_offset"]) == (3, 2)
    assert [i["name"] for i in second["indices"]] == ["logs-2026.02.26"]
    assert second["next_offset"] is None
    assert first["indices"][0]["size_bytes"] > 10_000


def test_get_mapping_flattens_fields_and_groups_identical_indices(client):
    assert client.get_mapping("logs-*", "message") == [
        {
            "indices": ["logs-2026.02.24", "logs-2026.02.25", "logs-2026.02.26"],
            "fields": {"message": "text", "message.keyword": "keyword"},
        }
    ]


# --- errors: one class each ------------------------------------------------------------


def test_a_wrong_api_key_is_a_401_that_names_the_setting_and_not_the_key(fake):
    client = ElasticsearchClient(Settings(url=fake.url, api_key="d3Jvbmc6c2VjcmV0LXZhbHVlLTk5"))
    message = failure(client)
    assert message == (
        "Elasticsearch rejected the credentials (401 Unauthorized): set ELASTICSEARCH_API_KEY "
        "(or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD) to valid credentials"
    )
    assert "d3Jvbmc6c2VjcmV0LXZhbHVlLTk5" not in message


def test_a_403_says_a_privilege_is_missing(fake, client):
    fake.fail_next(403)
    message = failure(client)
    assert message.startswith(
        "Elasticsearch answered 403 Forbidden for a count of 'logs-*': the credentials lack"
    )
    assert es_fake.API_KEY not in message


def test_an_unknown_index_is_a_404_pointing_at_list_indices(client):
    with pytest.raises(BackendError) as caught:
        client.search("logs-2026.03.01", ERRORS, 5, 0, ["@timestamp:desc"], None)
    assert str(caught.value) == (
        "Elasticsearch has no index 'logs-2026.03.01' (404 index_not_found_exception): "
        "list the indices with list_indices(), or use a wildcard pattern such as 'logs-*'"
    )


def test_an_unknown_document_is_a_404_pointing_at_search_hits(client):
    with pytest.raises(BackendError) as caught:
        client.get_document("logs-2026.02.26", "nope")
    assert str(caught.value) == (
        "Elasticsearch answered 404 for document 'nope' in 'logs-2026.02.26': "
        "no document 'nope' in 'logs-2026.02.26'; take _index and _id from a search() hit"
    )


def test_a_bad_query_is_a_400_that_quotes_elasticsearchs_reason(client):
    with pytest.raises(BackendError) as caught:
        client.count("logs-*", {"matchh": {"level": "ERROR"}})
    assert str(caught.value) == (
        "Elasticsearch rejected the request for a count of 'logs-*' (400 parsing_exception: "
        "unknown query [matchh]; caused by [1:9] unknown field [matchh]): fix the query"
    )


def test_a_429_passes_on_the_retry_after_seconds_without_retrying(fake, client):
    fake.fail_next(429, headers={"Retry-After": "7"})
    assert failure(client) == (
        "Elasticsearch is overloaded and rejected the request (429 Too Many Requests, "
        "es_rejected_execution_exception): wait 7 s (Retry-After), then retry"
    )
    assert client.count("logs-*", ERRORS)["count"] == 52  # the next call goes through


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "exception"), (502, "exception"), (503, "no_shard_available_action_exception")]
)
def test_a_5xx_says_the_backend_is_failing_and_to_retry_later(fake, client, status, kind):
    fake.fail_next(status)
    assert failure(client) == (
        f"Elasticsearch failed with {status} on a count of 'logs-*' ({kind}): a server-side error; "
        "retry later, and check cluster_health()"
    )


def test_a_slow_answer_is_a_timeout_that_suggests_narrowing_or_a_longer_timeout(fake):
    client = ElasticsearchClient(Settings(**fake.settings, timeout=0.3))
    fake.delay_next(10)
    assert failure(client) == (
        "Elasticsearch did not answer within 0.3 s: narrow the query (a smaller index "
        "pattern or time range) or raise ELASTICSEARCH_TIMEOUT, then retry"
    )


def test_malformed_json_is_reported_as_such(fake, client):
    fake.fail_next(body="{not json")
    assert failure(client) == (
        "Elasticsearch sent a body that is not valid JSON for a count of 'logs-*': "
        "a proxy or another service may answer at ELASTICSEARCH_URL; check it, or retry later"
    )


def test_a_server_without_the_product_header_is_not_elasticsearch(fake, client):
    fake.fail_next(200, body={"count": 1}, headers={"X-Elastic-Product": ""})
    assert failure(client) == (
        "The server at ELASTICSEARCH_URL answered without the X-Elastic-Product: Elasticsearch "
        "header, so it is not Elasticsearch (or a proxy strips it): check ELASTICSEARCH_URL"
    )


def test_a_refused_connection_names_the_setting_not_the_address_or_credentials():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    settings = Settings(url=f"http://elastic:hunter2@127.0.0.1:{port}", timeout=2)
    message = failure(ElasticsearchClient(settings))
    assert message == "Cannot connect to Elasticsearch: check ELASTICSEARCH_URL and that the cluster is up"
