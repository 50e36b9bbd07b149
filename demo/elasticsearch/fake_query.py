"""The query DSL subset the fake Elasticsearch evaluates.

Supported: match_all, match_none, match, match_phrase, multi_match, term, terms,
range (numbers, dates with date math, keywords), exists, prefix, wildcard, ids,
bool (must/filter/should/must_not/minimum_should_match), constant_score and
query_string (see fake_lucene.py). A query compiles into a `Matcher`: a
function from a document to its score, or None when it does not match.

Errors follow Elasticsearch: structural mistakes raise `parsing_exception`
at once (via EsError); bad values (an unparseable date or number) raise
ShardProblem, which the search layer wraps as Elasticsearch does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .fake_errors import EsError, ShardProblem, error_body, parsing_error
from .fake_fields import NUMERIC, Fields, parse_date, parse_number, tokens, wildcard_regex

__all__ = ["Compiler", "Matcher"]

Matcher = Callable[[dict[str, Any]], float | None]
Test = Callable[[Any], bool]  # one document value -> does it match

_RANGE_KEYS = frozenset({"gte", "gt", "lte", "lt", "format", "time_zone", "boost", "relation"})
_BOOL_KEYS = frozenset({"must", "filter", "should", "must_not", "minimum_should_match", "boost", "_name"})
# Real query types this fake does not evaluate: say so instead of pretending they are unknown.
_UNSUPPORTED = frozenset(
    {
        "nested",
        "has_child",
        "has_parent",
        "function_score",
        "script",
        "geo_distance",
        "fuzzy",
        "regexp",
        "more_like_this",
        "knn",
        "simple_query_string",
        "dis_max",
    }
)


def _unsupported(kind: str) -> EsError:
    reason = f"query [{kind}] is valid Elasticsearch but this fake does not evaluate it"
    return EsError(400, error_body(400, "illegal_argument_exception", reason))


def _single(kind: str, body: Any) -> tuple[str, Any]:
    """The one `{field: spec}` pair of a leaf query such as term or match."""
    if not isinstance(body, dict) or not body:
        raise parsing_error(f"[{kind}] query malformed, no field specified")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        raise parsing_error(
            f"[{kind}] query doesn't support multiple fields, found [{fields[0]}] and [{fields[1]}]"
        )
    return fields[0], body[fields[0]]


def _options(kind: str, spec: Any, main: str, allowed: set[str]) -> dict[str, Any]:
    """`"value"` or `{main: "value", ...options}` as one dict, rejecting unknown options."""
    if not isinstance(spec, dict):
        return {main: spec}
    for key in spec:
        if key not in allowed | {main, "boost", "_name"}:
            raise parsing_error(f"[{kind}] query does not support [{key}]")
    if main not in spec:
        raise parsing_error(f"[{kind}] query malformed, no [{main}] specified")
    return spec


class Compiler:
    def __init__(self, fields: Fields, now: datetime) -> None:
        self.fields, self.now = fields, now

    # --- the DSL ---------------------------------------------------------------

    def compile(self, query: Any) -> Matcher:
        if not isinstance(query, dict) or not query:
            raise parsing_error("query malformed, empty clause found")
        if len(query) > 1:
            first, second = list(query)[:2]
            raise parsing_error(f"[{first}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
        kind, body = next(iter(query.items()))
        builder = getattr(self, f"_q_{kind}", None)
        if builder is None:
            if kind in _UNSUPPORTED:
                raise _unsupported(kind)
            error = parsing_error(f"unknown query [{kind}]")
            error.body["error"]["caused_by"] = {
                "type": "named_object_not_found_exception",
                "reason": f"[1:{len(kind) + 3}] unknown field [{kind}]",
            }
            raise error
        return builder(body)

    def _q_match_all(self, body: Any) -> Matcher:
        return lambda doc: 1.0

    def _q_match_none(self, body: Any) -> Matcher:
        return lambda doc: None

    def _q_term(self, body: Any) -> Matcher:
        field, spec = _single("term", body)
        value = _options("term", spec, "value", {"case_insensitive"})["value"]
        return self.leaf(field, self.term_test(field, value))

    def _q_terms(self, body: Any) -> Matcher:
        field, values = _single("terms", body)
        if not isinstance(values, list):
            raise parsing_error(f"[terms] query does not support [{field}]")
        tests = [self.term_test(field, v) for v in values]
        return self.leaf(field, lambda v: any(t(v) for t in tests))

    def _q_match(self, body: Any) -> Matcher:
        field, spec = _single("match", body)
        allowed = {"operator", "minimum_should_match", "analyzer", "fuzziness", "lenient", "zero_terms_query"}
        opts = _options("match", spec, "query", allowed)
        return self.leaf(field, self.match_test(field, opts["query"], str(opts.get("operator", "or"))))

    def _q_match_phrase(self, body: Any) -> Matcher:
        field, spec = _single("match_phrase", body)
        opts = _options("match_phrase", spec, "query", {"slop", "analyzer"})
        return self.leaf(field, self.phrase_test(field, opts["query"]))

    def _q_multi_match(self, body: Any) -> Matcher:
        if not isinstance(body, dict) or "query" not in body:
            raise parsing_error("[multi_match] requires query value")
        patterns = body.get("fields") or ["*"]
        operator = str(body.get("operator", "or"))
        names = [f for f in self.fields.types if any(wildcard_regex(p).match(f) for p in patterns)]
        tests = {f: self.match_test(f, body["query"], operator, lenient=True) for f in names}
        return self.any_field(tests)

    def _q_range(self, body: Any) -> Matcher:
        field, spec = _single("range", body)
        if not isinstance(spec, dict):
            raise parsing_error(f"[range] query does not support [{field}]")
        for key in spec:
            if key not in _RANGE_KEYS:
                raise parsing_error(f"[range] query does not support [{key}]")
        return self.leaf(field, self.range_test(field, spec))

    def _q_exists(self, body: Any) -> Matcher:
        if not isinstance(body, dict) or not isinstance(body.get("field"), str):
            raise parsing_error("[exists] must be provided with a [field]")
        field = body["field"]
        return lambda doc: (
            1.0 if self.fields.type_of(field) and self.fields.values(doc["_source"], field) else None
        )

    def _q_prefix(self, body: Any) -> Matcher:
        field, spec = _single("prefix", body)
        value = str(_options("prefix", spec, "value", {"case_insensitive", "rewrite"})["value"])
        return self.leaf(field, self.pattern_test(field, re.compile(re.escape(value))))

    def _q_wildcard(self, body: Any) -> Matcher:
        field, spec = _single("wildcard", body)
        value = str(_options("wildcard", spec, "value", {"case_insensitive", "rewrite", "wildcard"})["value"])
        return self.leaf(field, self.pattern_test(field, wildcard_regex(value)))

    def _q_ids(self, body: Any) -> Matcher:
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise parsing_error("[ids] query malformed, no [values] specified")
        wanted = {str(v) for v in body["values"]}
        return lambda doc: 1.0 if doc["_id"] in wanted else None

    def _q_constant_score(self, body: Any) -> Matcher:
        if not isinstance(body, dict) or "filter" not in body:
            raise parsing_error("[constant_score] requires a 'filter' element")
        inner = self.compile(body["filter"])
        boost = float(body.get("boost", 1.0))
        return lambda doc: boost if inner(doc) is not None else None

    def _q_bool(self, body: Any) -> Matcher:
        if not isinstance(body, dict):
            raise parsing_error("[bool] query malformed, expected an object")
        for key in body:
            if key not in _BOOL_KEYS:
                raise parsing_error(f"[bool] query does not support [{key}]")
        clauses = {
            k: [self.compile(q) for q in _as_list(body.get(k))] for k in _BOOL_KEYS - {"boost", "_name"}
        }
        must, filters, should, must_not = (clauses[k] for k in ("must", "filter", "should", "must_not"))
        needed = _minimum_should_match(body.get("minimum_should_match"), len(should), bool(must or filters))

        def matcher(doc: dict[str, Any]) -> float | None:
            scores = [m(doc) for m in must]
            if (
                None in scores
                or any(f(doc) is None for f in filters)
                or any(n(doc) is not None for n in must_not)
            ):
                return None
            hits = [s for s in (m(doc) for m in should) if s is not None]
            return sum(scores) + sum(hits) if len(hits) >= needed else None  # type: ignore[arg-type]

        return matcher

    def _q_query_string(self, body: Any) -> Matcher:
        from .fake_lucene import compile_query_string  # the two modules refer to each other

        if isinstance(body, str) or not isinstance(body, dict) or "query" not in body:
            raise parsing_error("[query_string] must be provided with a [query]")
        return compile_query_string(self, body)

    # --- leaves, shared with query_string -------------------------------------

    def leaf(self, field: str, test: Test) -> Matcher:
        """Score 1.0 when any value of `field` passes `test`; unmapped fields never match."""
        if self.fields.type_of(field) is None:
            return lambda doc: None
        return lambda doc: 1.0 if any(test(v) for v in self.fields.values(doc["_source"], field)) else None

    def any_field(self, tests: dict[str, Test]) -> Matcher:
        def matcher(doc: dict[str, Any]) -> float | None:
            hits = sum(
                1.0
                for field, test in tests.items()
                if any(test(v) for v in self.fields.values(doc["_source"], field))
            )
            return hits or None

        return matcher

    def term_test(self, field: str, value: Any) -> Test:
        kind = self.fields.type_of(field)
        if kind == "text":
            return lambda v: str(value) in tokens(v)
        if kind in NUMERIC:
            number = parse_number(value, field)
            return lambda v: float(v) == number
        if kind == "date":
            low, high = parse_date(value, self.now), parse_date(value, self.now, round_up=True)
            return lambda v: low <= parse_date(v, self.now) <= high
        if kind == "boolean":
            return lambda v: str(v).lower() == str(value).lower()
        return lambda v: str(v) == str(value)

    def match_test(self, field: str, query: Any, operator: str, lenient: bool = False) -> Test:
        if self.fields.type_of(field) != "text":
            try:
                return self.term_test(field, query)
            except ShardProblem:
                if lenient:
                    return lambda v: False
                raise
        wanted = tokens(query)
        combine = all if operator.lower() == "and" else any
        return lambda v: bool(wanted) and combine(t in tokens(v) for t in wanted)

    def phrase_test(self, field: str, query: Any) -> Test:
        if self.fields.type_of(field) != "text":
            return self.term_test(field, query)
        wanted = tokens(query)
        n = len(wanted)
        return lambda v: any(tokens(v)[i : i + n] == wanted for i in range(len(tokens(v)) - n + 1))

    def pattern_test(self, field: str, pattern: re.Pattern[str]) -> Test:
        if self.fields.type_of(field) == "text":
            return lambda v: any(pattern.match(t) for t in tokens(v))
        return lambda v: pattern.match(str(v)) is not None

    def range_test(self, field: str, spec: dict[str, Any]) -> Test:
        kind = self.fields.type_of(field)
        bounds: list[tuple[str, Any]] = []
        for op in ("gte", "gt", "lte", "lt"):
            if spec.get(op) is None:
                continue
            if kind == "date":
                bounds.append((op, parse_date(spec[op], self.now, round_up=op in ("lte", "gt"))))
            elif kind in NUMERIC:
                bounds.append((op, parse_number(spec[op], field)))
            else:
                bounds.append((op, str(spec[op])))

        def convert(v: Any) -> Any:
            return parse_date(v, self.now) if kind == "date" else float(v) if kind in NUMERIC else str(v)

        checks = {
            "gte": lambda a, b: a >= b,
            "gt": lambda a, b: a > b,
            "lte": lambda a, b: a <= b,
            "lt": lambda a, b: a < b,
        }
        return lambda v: all(checks[op](convert(v), bound) for op, bound in bounds)


def _minimum_should_match(value: Any, count: int, has_required: bool) -> int:
    if value is None:
        return 0 if has_required else min(1, count)
    text = str(value)
    try:
        number = int(count * int(text[:-1]) / 100) if text.endswith("%") else int(text)
    except ValueError:
        raise parsing_error(f"[bool] minimum_should_match [{text}] is not a number or a percentage") from None
    return number if number >= 0 else max(count + number, 0)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
