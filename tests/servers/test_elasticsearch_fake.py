"""The fake Elasticsearch speaks the real API: the official client accepts it, and its query
semantics and error bodies are Elasticsearch's."""

from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from demo.elasticsearch import fake as es_fake
from demo.elasticsearch.fake_data import BURST_MESSAGE

COMPAT = "application/vnd.elasticsearch+json; compatible-with=9"


@pytest.fixture
def fake() -> Iterator[es_fake.ElasticsearchFake]:
    with es_fake.start() as running:
        yield running


@pytest.fixture
def es(fake: es_fake.ElasticsearchFake) -> Elasticsearch:
    return Elasticsearch(fake.url, api_key=es_fake.API_KEY, request_timeout=5, max_retries=0)


def headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {es_fake.API_KEY}", "Accept": COMPAT, **extra}


def count(es: Elasticsearch, **kwargs) -> int:
    return es.count(index="logs-*", **kwargs)["count"]


# --- what the client checks ----------------------------------------------------------


def test_the_info_answer_carries_the_product_header_and_the_compatible_media_type(fake):
    response = httpx.get(fake.url + "/", headers=headers())
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    assert response.headers["content-type"] == "application/vnd.elasticsearch+json;compatible-with=9"
    assert response.json()["version"]["number"] == "9.1.4"


def test_a_plain_json_request_gets_plain_json_back(fake):
    response = httpx.get(fake.url + "/_cluster/health", headers=headers(Accept="application/json"))
    assert response.headers["content-type"] == "application/json"


def test_a_compatibility_version_other_than_8_or_9_is_refused_as_elasticsearch_does(fake):
    accept = "application/vnd.elasticsearch+json; compatible-with=7"
    response = httpx.get(fake.url + "/", headers=headers(Accept=accept))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "media_type_header_exception"


def test_a_request_without_credentials_gets_a_401_security_exception_with_a_challenge(fake):
    response = httpx.get(fake.url + "/_cluster/health", headers={"Accept": COMPAT})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="security", charset="UTF-8", ApiKey'
    assert response.json()["error"]["reason"] == (
        "missing authentication credentials for REST request [/_cluster/health]"
    )


def test_basic_auth_with_the_elastic_user_is_accepted(fake):
    es = Elasticsearch(fake.url, basic_auth=(es_fake.USERNAME, es_fake.PASSWORD), max_retries=0)
    assert es.info()["cluster_name"] == "acme-logs"


# --- index expressions ---------------------------------------------------------------


def test_wildcards_comma_lists_and_exclusions_select_the_daily_indices(es):
    assert count(es) == 292
    assert es.count(index="logs-2026.02.24,logs-2026.02.26")["count"] == 211
    assert es.count(index="logs-*,-logs-2026.02.26")["count"] == 162


def test_an_unknown_concrete_index_is_a_404_index_not_found_exception(es):
    with pytest.raises(NotFoundError) as caught:
        es.search(index="logs-2026.03.01")
    assert caught.value.body == {
        "error": {
            "root_cause": [
                {
                    "type": "index_not_found_exception",
                    "reason": "no such index [logs-2026.03.01]",
                    "resource.type": "index_or_alias",
                    "resource.id": "logs-2026.03.01",
                    "index_uuid": "_na_",
                    "index": "logs-2026.03.01",
                }
            ],
            "type": "index_not_found_exception",
            "reason": "no such index [logs-2026.03.01]",
            "resource.type": "index_or_alias",
            "resource.id": "logs-2026.03.01",
            "index_uuid": "_na_",
            "index": "logs-2026.03.01",
        },
        "status": 404,
    }


def test_a_wildcard_that_matches_nothing_is_an_empty_result_not_an_error(es):
    result = es.search(index="metrics-*")
    assert (result["hits"]["total"]["value"], result["_shards"]["total"]) == (0, 0)


# --- the query DSL -------------------------------------------------------------------


def test_term_on_a_keyword_field_is_exact_and_case_sensitive(es):
    assert count(es, query={"term": {"level": "ERROR"}}) == 52
    assert count(es, query={"term": {"level": "error"}}) == 0


def test_match_on_a_text_field_is_analysed_and_ors_the_words_unless_told_and(es):
    assert count(es, query={"match": {"message": "QUANTIZE"}}) == 36
    assert count(es, query={"match": {"message": "oomkilled memoryerror"}}) == 3
    assert count(es, query={"match": {"message": {"query": "oomkilled memoryerror", "operator": "and"}}}) == 0


def test_match_phrase_needs_the_words_in_order(es):
    assert count(es, query={"match_phrase": {"message": "too many digits"}}) == 36
    assert count(es, query={"match_phrase": {"message": "digits many too"}}) == 0


def test_terms_range_and_bool_combine_as_in_elasticsearch(es):
    query = {
        "bool": {
            "filter": [
                {"terms": {"service": ["orders-api", "web-frontend"]}},
                {"range": {"http.status": {"gte": 500, "lt": 600}}},
            ],
            "must_not": [{"term": {"service": "web-frontend"}}],
        }
    }
    assert count(es, query=query) == 36


def test_a_bool_with_only_should_clauses_needs_one_of_them(es):
    query = {"bool": {"should": [{"term": {"service": "etl-exporter"}}, {"term": {"level": "WARN"}}]}}
    assert count(es, query=query) == 28


def test_date_ranges_take_iso_dates_and_date_math_against_the_fakes_clock(es):
    day = {"range": {"@timestamp": {"gte": "2026-02-26", "lte": "2026-02-26"}}}
    assert count(es, query=day) == 130
    assert count(es, query={"range": {"@timestamp": {"gte": "now-4h"}}}) == 65
    assert count(es, query={"range": {"@timestamp": {"gte": "now-1d/d", "lt": "now/d"}}}) == 81


def test_query_strings_take_fields_booleans_groups_ranges_and_wildcards(es):
    assert count(es, q="level:ERROR AND service:orders-api") == 36
    assert count(es, q="level:(ERROR OR WARN) AND NOT service:orders-api") == 24
    assert count(es, q="http.status:[500 TO 599]") == 49
    assert count(es, q="duration_ms:>=1000000") == 3
    assert count(es, q="service:etl* -level:INFO") == 5
    assert count(es, q="NOT level:INFO") == 66
    assert count(es, q='message:"container memory limit"') == 2
    assert count(es, q="_exists_:error.stack_trace") == 36


def test_query_string_precedence_is_lucenes_where_and_binds_the_clause_before_it(es):
    assert count(es, q="level:ERROR OR level:WARN AND service:auth-service") == 3
    assert count(es, q="+level:ERROR service:orders-api") == 52


def test_a_bare_word_in_a_query_string_searches_every_field(es):
    assert count(es, q="quantize") == 36
    assert count(es, q="orders-api", default_operator="AND") == 128 + 12


def test_an_unknown_query_type_is_a_400_parsing_exception(es):
    with pytest.raises(BadRequestError) as caught:
        es.search(index="logs-*", query={"matchh": {"level": "ERROR"}})
    error = caught.value.body["error"]
    assert (error["type"], error["reason"]) == ("parsing_exception", "unknown query [matchh]")


def test_an_unbalanced_query_string_fails_on_the_shards_as_a_query_shard_exception(es):
    with pytest.raises(BadRequestError) as caught:
        es.search(index="logs-*", q="level:(ERROR")
    error = caught.value.body["error"]
    assert error["type"] == "search_phase_execution_exception"
    assert error["root_cause"][0]["type"] == "query_shard_exception"
    assert error["root_cause"][0]["reason"] == "Failed to parse query [level:(ERROR]"


def test_an_unparseable_date_is_a_parse_exception(es):
    with pytest.raises(BadRequestError) as caught:
        es.count(index="logs-*", query={"range": {"@timestamp": {"gte": "yesterday"}}})
    assert caught.value.body["error"]["root_cause"][0]["reason"] == (
        "failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]"
    )


# --- sorting, paging, _source, aggregations ------------------------------------------


def test_sorting_by_timestamp_returns_epoch_millisecond_sort_values(es):
    result = es.search(
        index="logs-*", q="level:ERROR AND service:orders-api", sort=[{"@timestamp": "asc"}], size=1
    )
    hit = result["hits"]["hits"][0]
    assert (hit["_source"]["@timestamp"], hit["sort"], hit["_score"]) == (
        "2026-02-26T14:02:14.437Z",
        [1772114534437],
        None,
    )


def test_from_and_size_page_through_the_hits_without_overlap(es):
    pages = [
        [
            h["_id"]
            for h in es.search(index="logs-*", sort="@timestamp:desc", size=100, from_=n)["hits"]["hits"]
        ]
        for n in (0, 100, 200, 300)
    ]
    assert [len(p) for p in pages] == [100, 100, 92, 0]
    assert len(set(pages[0] + pages[1] + pages[2])) == 292


def test_a_result_window_beyond_ten_thousand_is_refused(es):
    with pytest.raises(BadRequestError) as caught:
        es.search(index="logs-*", from_=9_990, size=20)
    assert caught.value.body["error"]["root_cause"][0]["reason"].startswith(
        "Result window is too large, from + size must be less than or equal to: [10000] but was [10010]."
    )


def test_source_filtering_keeps_the_named_fields_and_subfields(es):
    result = es.search(
        index="logs-2026.02.25", q="level:ERROR AND service:auth-service", source=["http", "level"]
    )
    assert result["hits"]["hits"][0]["_source"] == {
        "level": "ERROR",
        "http": {"method": "POST", "status": 503},
    }


def test_terms_and_date_histogram_aggregations_show_the_burst(es):
    result = es.search(
        index="logs-*",
        size=0,
        query={"match_phrase": {"message": BURST_MESSAGE}},
        aggs={
            "hosts": {"terms": {"field": "host"}},
            "per_10m": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m"}},
        },
    )
    aggs = result["aggregations"]
    assert [(b["key"], b["doc_count"]) for b in aggs["hosts"]["buckets"]] == [
        ("orders-api-7f9c6d5b8-m4tzw", 19),
        ("orders-api-7f9c6d5b8-2xkqp", 17),
    ]
    assert [(b["key_as_string"], b["doc_count"]) for b in aggs["per_10m"]["buckets"]] == [
        ("2026-02-26T14:00:00.000Z", 8),
        ("2026-02-26T14:10:00.000Z", 10),
        ("2026-02-26T14:20:00.000Z", 10),
        ("2026-02-26T14:30:00.000Z", 8),
    ]


def test_aggregating_a_text_field_is_refused_because_fielddata_is_disabled(es):
    with pytest.raises(BadRequestError) as caught:
        es.search(index="logs-*", size=0, aggs={"m": {"terms": {"field": "message"}}})
    assert caught.value.body["error"]["root_cause"][0]["reason"].startswith(
        "Fielddata is disabled on [message] in [logs-2026.02.24]."
    )


# --- documents, mappings, cat, health ------------------------------------------------


def test_a_document_is_read_by_index_and_id_and_a_missing_one_is_found_false(es):
    hit = es.search(index="logs-2026.02.25", q="level:ERROR AND service:auth-service")["hits"]["hits"][0]
    doc = es.get(index="logs-2026.02.25", id=hit["_id"])
    assert (doc["found"], doc["_source"]["message"]) == (
        True,
        "POST /oauth/token 503 JWKS refresh failed: upstream timeout after 5000 ms",
    )
    with pytest.raises(NotFoundError) as caught:
        es.get(index="logs-2026.02.25", id="nope")
    assert caught.value.body == {"_index": "logs-2026.02.25", "_id": "nope", "found": False}


def test_the_mapping_and_cat_indices_describe_the_three_daily_indices(es):
    mapping = es.indices.get_mapping(index="logs-2026.02.26")
    assert mapping["logs-2026.02.26"]["mappings"]["properties"]["http"] == {
        "properties": {"method": {"type": "keyword"}, "status": {"type": "integer"}}
    }
    rows = es.cat.indices(index="logs-*", format="json", h="index,docs.count", s="docs.count:desc")
    assert rows.body == [
        {"index": "logs-2026.02.26", "docs.count": "130"},
        {"index": "logs-2026.02.24", "docs.count": "81"},
        {"index": "logs-2026.02.25", "docs.count": "81"},
    ]


def test_cat_indices_without_format_is_a_text_table(es):
    text = es.cat.indices(index="logs-2026.02.24", h="index,health,docs.count", v=True).body
    assert text == "index           health docs.count\nlogs-2026.02.24 green  81\n"


def test_each_fake_owns_a_fresh_copy_of_the_seed(fake):
    fake.delay_next(0)  # misbehaviour is per fake too: a second fake is unaffected
    with es_fake.start() as other:
        assert other.url != fake.url
        es = Elasticsearch(other.url, api_key=es_fake.API_KEY, max_retries=0)
        assert es.count(index="logs-*")["count"] == 292
