import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import anyio
import numpy as np
import pytest
from portal_testing import demo_config, demo_servers

from bench.search import CONFIGURATIONS, distractor_tools, quality
from demo.backends import DEMO_NAMES
from portal.catalog import Catalog
from portal.config import ServerConfig
from portal.registry import Registry
from portal.search import SearchDocument, ToolIndex, tokenize
from portal.search_embeddings import static_embedder
from portal.search_eval import SPLITS, EvalQuery, evaluate, read_queries, split_of


def test_tokenize_splits_names_drops_stop_words_expands_abbreviations_and_stems() -> None:
    assert tokenize("get_job_log") == ["job", "log"]
    assert tokenize("listMergeRequests") == ["merg", "request"]
    assert tokenize("why did the CI job fail") == ["ci", "pipelin", "job", "fail"]
    assert tokenize("show MRs") == ["merg", "request"]


def docs() -> list[SearchDocument]:
    return [
        SearchDocument(
            "gitlab.get_job_log", "Log of one CI job: read it to see why a job failed.", ["project", "job_id"]
        ),
        SearchDocument("gitlab.list_merge_requests", "Merge requests of a project.", ["project", "state"]),
        SearchDocument("gitlab.create_issue", "Open a new issue in a project.", ["project", "title"]),
    ]


def test_the_index_ranks_the_matching_tool_first() -> None:
    index = ToolIndex(docs(), embedder=None)
    ranked = [index.documents[i].name for i, _ in index.search("why did the CI job fail", 3)]
    assert ranked[0] == "gitlab.get_job_log"


def test_the_index_returns_only_positive_scores_and_respects_the_limit() -> None:
    index = ToolIndex(docs(), embedder=None)
    assert index.search("kubernetes helm chart", 5) == []
    assert len(index.search("project", 2)) == 2
    assert index.search("", 5) == []


def test_an_empty_index_answers_nothing() -> None:
    assert ToolIndex([]).search("job", 5) == []


def test_search_eval_computes_recall_and_mrr_and_lists_misses() -> None:
    ranking = {"a": ["x.one", "x.two"], "b": ["x.three", "x.two"], "c": ["x.four"]}
    queries = [EvalQuery("a", ("x.one",)), EvalQuery("b", ("x.two",)), EvalQuery("c", ("x.nine",))]
    report = evaluate(queries, lambda q, k: ranking[q][:k])
    assert report.recall_at_1 == 1 / 3
    assert report.recall_at_5 == 2 / 3
    assert abs(report.mrr - (1 + 0.5 + 0) / 3) < 1e-9
    assert [m.q for m in report.misses] == ["c"]


def test_recall_of_a_query_with_several_expected_tools_is_normalised_by_k() -> None:
    ranking = ["x.b", "x.c", "x.d", "x.e", "x.f", "x.a"]
    report = evaluate([EvalQuery("q", ("x.a", "x.b"))], lambda q, k: ranking[:k])
    assert (report.recall_at_1, report.recall_at_5, report.mrr) == (1.0, 0.5, 1.0)


EVAL_SET = Path(__file__).parents[1] / "search_eval" / "queries.jsonl"


def test_every_query_of_the_evaluation_set_sits_in_the_half_its_hash_assigns() -> None:
    queries = read_queries(EVAL_SET)
    assert len(queries) >= 150
    assert [q.split for q in queries] == [split_of(q.q) for q in queries]
    assert {q.split for q in queries} == set(SPLITS)


def test_reading_one_half_keeps_only_its_queries(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        {"q": "a", "expect": ["x.a"], "split": "dev"},
        {"q": "b", "expect": ["x.b"], "split": "heldout"},
        {"q": "c", "expect": ["x.c"]},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    assert [q.q for q in read_queries(path, "heldout")] == ["b"]
    assert [q.q for q in read_queries(path)] == ["a", "b", "c"]


def test_a_query_with_an_unknown_split_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "a", "expect": ["x.a"]}\n{"q": "b", "expect": ["x.b"], "split": "test"}\n')
    with pytest.raises(ValueError, match=r"q\.jsonl:2: 'split' must be one of dev, heldout"):
        read_queries(path)


def sentry_and_gitlab_docs(with_server_text: bool) -> list[SearchDocument]:
    sentry = "Sentry: error tracking and crash reporting." if with_server_text else ""
    gitlab = "GitLab: source code hosting and CI/CD." if with_server_text else ""
    return [
        SearchDocument("sentry.list_issues", "Issues: errors grouped by cause.", ["query"], sentry),
        SearchDocument("sentry.list_releases", "Deployed versions.", ["project"], sentry),
        SearchDocument("gitlab.list_issues", "A project's issues.", ["project"], gitlab),
    ]


def test_a_query_in_a_servers_domain_words_finds_its_tools_through_the_server_field() -> None:
    without = ToolIndex(sentry_and_gitlab_docs(with_server_text=False), embedder=None)
    assert without.search("crash reporting", 5) == []
    index = ToolIndex(sentry_and_gitlab_docs(with_server_text=True), embedder=None)
    ranked = [index.documents[i].name for i, _ in index.search("crash reporting", 5)]
    assert ranked == ["sentry.list_issues", "sentry.list_releases"]


def test_the_server_field_breaks_ties_between_servers_but_tool_words_still_rank_first() -> None:
    index = ToolIndex(sentry_and_gitlab_docs(with_server_text=True), embedder=None)
    ranked = [index.documents[i].name for i, _ in index.search("crash issues", 5)]
    assert ranked[0] == "sentry.list_issues"
    assert ranked.index("gitlab.list_issues") > ranked.index("sentry.list_issues")


@pytest.mark.anyio
async def test_the_registry_keeps_each_servers_instructions_and_the_catalog_indexes_them() -> None:
    with demo_servers("sentry") as [entry], anyio.fail_after(20):
        async with Registry([ServerConfig.model_validate(entry)]) as registry:
            tools = registry.tools()
    assert "error tracking" in tools[0].instructions
    assert "crash reporting" in tools[0].instructions
    assert len({t.instructions for t in tools}) == 1
    catalog = Catalog(lambda: (1, tools))
    assert catalog.search("crash reporting", 3)[0].entry.namespace == "sentry"


class KeywordEmbedder:
    """A stand-in model: one axis per meaning, so what is similar is stated by the test.

    A text with none of the meanings gets an axis of its own (from its checksum), unrelated to all.
    """

    AXES = (("crash", "error", "exception"), ("merge", "review"), ("deploy", "release"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), len(self.AXES) + 64), dtype=np.float32)
        for row, text in enumerate(texts):
            hits = [n for n, axis in enumerate(self.AXES) if any(w in text.lower() for w in axis)]
            for column in hits or [len(self.AXES) + zlib.crc32(text.encode()) % 64]:
                vectors[row, column] = 1.0
        return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)


def test_embeddings_find_a_tool_whose_text_shares_no_word_with_the_query() -> None:
    documents = sentry_and_gitlab_docs(with_server_text=False)
    assert ToolIndex(documents, embedder=None).search("app crashed", 5) == []
    index = ToolIndex(documents, embedder=KeywordEmbedder())
    assert [index.documents[i].name for i, _ in index.search("app crashed", 5)] == ["sentry.list_issues"]


def test_embeddings_reorder_lexical_ties_but_a_weak_similarity_alone_finds_nothing() -> None:
    index = ToolIndex(sentry_and_gitlab_docs(with_server_text=False), embedder=KeywordEmbedder())
    ranked = [index.documents[i].name for i, _ in index.search("issues with exceptions", 5)]
    assert ranked[0] == "sentry.list_issues"
    assert index.search("kubernetes helm chart", 5) == []


def test_the_bundled_embedding_model_loads_offline_and_relates_crashes_to_errors() -> None:
    pytest.importorskip("wordllama", reason="the `embeddings` extra is not installed")
    embedder = static_embedder()
    assert embedder is not None
    crash, error, pipeline = embedder.embed(["the app crashed", "exceptions and errors", "ci pipeline"])
    assert float(crash @ error) > float(crash @ pipeline)
    assert abs(float(np.linalg.norm(crash)) - 1.0) < 1e-3


def test_a_file_named_in_a_query_asks_for_a_file() -> None:
    index = ToolIndex(
        [
            SearchDocument(
                "gitlab.get_file_content", "A file's text content at a ref.", ["project", "file_path"]
            ),
            SearchDocument("gitlab.list_projects", "Projects (repositories) the token can see.", ["search"]),
        ],
        embedder=None,
    )
    for query in ("show the README of infra/api", "read .gitlab-ci.yml on main", "cat package.json"):
        assert [index.documents[i].name for i, _ in index.search(query, 5)][:1] == ["gitlab.get_file_content"]


# What the portal's ranking reached on the held-out half when it was last tuned (docs/benchmarks.md),
# minus a small margin: a change that loses more than that on queries nobody tuned on fails here.
# Raise them when ranking improves; never tune on the held-out half to pass them.
HELDOUT_RECALL_AT_5_FLOOR = 0.815  # reached 0.845
HELDOUT_MRR_FLOOR = 0.62  # reached 0.650
HELDOUT_RECALL_AT_5_WITH_DISTRACTORS_FLOOR = 0.75  # reached 0.784, 1,195 distractors


@pytest.mark.anyio
async def test_held_out_recall_and_mrr_stay_above_their_floors_with_and_without_distractors(
    tmp_path: Path,
) -> None:
    pytest.importorskip("wordllama", reason="the floors are the portal's ranking with the `embeddings` extra")
    with demo_config(state_dir=str(tmp_path)) as config, anyio.fail_after(60):
        async with Registry([ServerConfig.model_validate(entry) for entry in config["servers"]]) as registry:
            tools = registry.tools()
    assert {t.namespace for t in tools} == set(DEMO_NAMES)
    plain = quality(tools, CONFIGURATIONS[-1], "heldout")
    mixed = quality([*tools, *distractor_tools()], CONFIGURATIONS[-1], "heldout")
    assert plain.queries == mixed.queries >= 75
    assert plain.recall_at_5 >= HELDOUT_RECALL_AT_5_FLOOR
    assert plain.mrr >= HELDOUT_MRR_FLOOR
    assert mixed.recall_at_5 >= HELDOUT_RECALL_AT_5_WITH_DISTRACTORS_FLOOR


def test_the_distractors_are_at_least_a_thousand_real_tools_of_other_servers() -> None:
    tools = distractor_tools()
    assert len(tools) >= 1_000
    assert not {t.namespace for t in tools} & set(DEMO_NAMES)
    assert all(t.tool.name and isinstance(t.tool.input_schema, dict) for t in tools)
