"""The Lucene query-string syntax of `query_string` queries (and of `q=`), as the fake understands it.

    level:ERROR AND service:orders-api          field:value, AND / OR / NOT, && || !
    message:"too many digits"                   a phrase
    level:(ERROR OR WARN) -service:etl-exporter field groups, +required, -excluded
    http.status:[500 TO 599]  duration_ms:>1000  ranges, inclusive [] or exclusive {}, * open
    service:orders*   quantize   _exists_:error.type   *

A bare word searches every field (`default_field` `*`, leniently). Juxtaposed
clauses combine with `default_operator` (OR unless told). A syntax error is
Elasticsearch's: a `query_shard_exception` "Failed to parse query [...]".
"""

from __future__ import annotations

import re
from typing import Any

from .fake_errors import ShardProblem
from .fake_fields import wildcard_regex
from .fake_query import Compiler, Matcher, Test

__all__ = ["compile_query_string"]

_STOP = set(" \t\r\n()")
_COMPARE = re.compile(r"(>=|<=|>|<)")


def compile_query_string(compiler: Compiler, body: dict[str, Any]) -> Matcher:
    fields = body.get("fields") or [body.get("default_field", "*")]
    operator = str(body.get("default_operator", "OR")).upper()
    return _Parser(str(body["query"]), compiler, list(fields), operator).parse()


class _Parser:
    def __init__(self, text: str, compiler: Compiler, default_fields: list[str], operator: str) -> None:
        self.text, self.pos, self.c = text, 0, compiler
        self.default_fields, self.operator = default_fields, operator

    def fail(self, detail: str) -> ShardProblem:
        cause = {"type": "parse_exception", "reason": f"Cannot parse '{self.text}': {detail}"}
        return ShardProblem("query_shard_exception", f"Failed to parse query [{self.text}]", cause)

    # --- characters -------------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def skip_ws(self) -> None:
        while self.peek() and self.peek().isspace():
            self.pos += 1

    def take_word_op(self, *ops: str) -> str | None:
        for op in ops:
            end = self.pos + len(op)
            if self.text[self.pos : end] == op and (
                end == len(self.text) or self.text[end] in _STOP or not op.isalpha()
            ):
                self.pos = end
                return op
        return None

    def read_word(self, stop_at_colon: bool) -> str:
        out: list[str] = []
        while self.peek() and self.peek() not in _STOP and not (stop_at_colon and self.peek() == ":"):
            if self.peek() == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
            out.append(self.peek())
            self.pos += 1
        return "".join(out)

    def read_until(self, closers: str) -> str:
        start = self.pos
        while self.peek() and self.peek() not in closers:
            self.pos += 1
        if not self.peek():
            raise self.fail(f'Encountered "<EOF>" at line 1, column {len(self.text)}.')
        return self.text[start : self.pos]

    # --- grammar ----------------------------------------------------------------

    def parse(self) -> Matcher:
        matcher = self.expr(None)
        if self.peek():
            raise self.fail(f'Encountered " ")" ") "" at line 1, column {self.pos}.')
        return matcher

    def expr(self, field: str | None) -> Matcher:
        """A boolean query built clause by clause the way Lucene's classic QueryParser does it."""
        clauses: list[list[Any]] = []  # [occur, matcher], occur one of must, should, must_not
        while True:
            self.skip_ws()
            if not self.peek() or self.peek() == ")":
                break
            conj = self.take_word_op("AND", "&&", "OR", "||")
            conj = {"&&": "AND", "||": "OR"}.get(conj or "", conj)
            if conj and not clauses:
                raise self.fail(
                    f'Encountered " <{conj}> "{conj} "" at line 1, column {self.pos - len(conj)}.'
                )
            self.skip_ws()
            if conj and (not self.peek() or self.peek() == ")"):
                raise self.fail(f'Encountered "<EOF>" at line 1, column {len(self.text)}.')
            if clauses and conj == "AND" and clauses[-1][0] != "must_not":
                clauses[-1][0] = "must"  # 'a AND b' makes a required too
            if clauses and conj == "OR" and self.operator == "AND" and clauses[-1][0] != "must_not":
                clauses[-1][0] = "should"
            modifier, matcher = self.clause(field)
            clauses.append([_occur(modifier, conj, self.operator), matcher])
        if not clauses:
            raise self.fail(f'Encountered "<EOF>" at line 1, column {len(self.text)}.')
        return _boolean(clauses)

    def clause(self, field: str | None) -> tuple[str, Matcher]:
        """A primary with its modifier: '+' (required), '-', '!' or NOT (prohibited), or none."""
        modifier = "none"
        if self.take_word_op("NOT") or self.take_word_op("!"):
            modifier = "not"
        elif self.peek() in ("-", "+") and self.peek(2)[1:] not in ("", " "):
            modifier = "not" if self.peek() == "-" else "required"
            self.pos += 1
        self.skip_ws()
        return modifier, self.primary(field)

    def primary(self, field: str | None) -> Matcher:
        if self.peek() == "(":
            self.pos += 1
            matcher = self.expr(field)
            if self.peek() != ")":
                raise self.fail(f'Encountered "<EOF>" at line 1, column {len(self.text)}.')
            self.pos += 1
            return matcher
        if self.peek() == '"':
            return self.phrase(field)
        word = self.read_word(stop_at_colon=True)
        if self.peek() == ":" and word:
            self.pos += 1
            return self.value(word)
        if not word:
            raise self.fail(f'Encountered " "{self.peek()}" at line 1, column {self.pos}.')
        return self.match_all() if word == "*" else self.term(field, word)

    def value(self, field: str) -> Matcher:
        if field == "_exists_":
            name = self.read_word(stop_at_colon=False)
            return self.c.compile({"exists": {"field": name}})
        nxt = self.peek()
        if nxt == "(":
            return self.primary(field)
        if nxt == '"':
            return self.phrase(field)
        if nxt in ("[", "{"):
            return self.range(field)
        compare = _COMPARE.match(self.text, self.pos)
        if compare:
            self.pos = compare.end()
            bound = self.read_word(stop_at_colon=False)
            op = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[compare.group()]
            return self.on_fields(field, lambda f: self.c.range_test(f, {op: bound}))
        word = self.read_word(stop_at_colon=False)
        if not word:
            raise self.fail(f'Encountered "<EOF>" at line 1, column {len(self.text)}.')
        if word == "*" and field == "*":
            return self.match_all()
        if word == "*":
            return self.c.compile({"exists": {"field": field}})
        return self.term(field, word)

    def phrase(self, field: str | None) -> Matcher:
        self.pos += 1
        text = self.read_until('"')
        self.pos += 1
        return self.on_fields(field, lambda f: self.c.phrase_test(f, text))

    def range(self, field: str) -> Matcher:
        low_inclusive = self.peek() == "["
        self.pos += 1
        inside = self.read_until("]}")
        high_inclusive = self.peek() == "]"
        self.pos += 1
        parts = inside.split(" TO ")
        if len(parts) != 2:
            raise self.fail(f'Encountered " "{inside}" at line 1, column {self.pos}.')
        low, high = (p.strip().strip('"') for p in parts)
        spec = {}
        if low != "*":
            spec["gte" if low_inclusive else "gt"] = low
        if high != "*":
            spec["lte" if high_inclusive else "lt"] = high
        return self.on_fields(field, lambda f: self.c.range_test(f, spec))

    def term(self, field: str | None, word: str) -> Matcher:
        if "*" in word or "?" in word:

            def pattern(f: str) -> Test:
                text = word.lower() if self.c.fields.type_of(f) == "text" else word
                return self.c.pattern_test(f, wildcard_regex(text))

            return self.on_fields(field, pattern)
        return self.on_fields(field, lambda f: self.c.match_test(f, word, self.operator))

    def match_all(self) -> Matcher:
        return lambda doc: 1.0

    def on_fields(self, field: str | None, make: Any) -> Matcher:
        """One field: strict. Several (a default `*`, or a pattern like http.*): lenient, any may match."""
        patterns = self.default_fields if field is None else [field]
        if len(patterns) == 1 and "*" not in patterns[0]:
            return self.c.leaf(patterns[0], make(patterns[0]))
        names = [f for f in self.c.fields.types if any(wildcard_regex(p).match(f) for p in patterns)]
        tests: dict[str, Test] = {}
        for name in names:
            try:
                tests[name] = make(name)
            except ShardProblem:  # lenient: a word that is not a number or date skips those fields
                continue
        return self.c.any_field(tests)


def _occur(modifier: str, conj: str | None, operator: str) -> str:
    if modifier == "not":
        return "must_not"
    if operator == "OR":
        return "must" if modifier == "required" or conj == "AND" else "should"
    return "should" if conj == "OR" and modifier != "required" else "must"


def _boolean(clauses: list[list[Any]]) -> Matcher:
    """Lucene's BooleanQuery: every must, no must_not, and one should when there is no must.
    Only prohibitions ('NOT x') match everything else, as Elasticsearch's query_string does."""
    must = [m for occur, m in clauses if occur == "must"]
    should = [m for occur, m in clauses if occur == "should"]
    must_not = [m for occur, m in clauses if occur == "must_not"]

    def matcher(doc: dict[str, Any]) -> float | None:
        scores = [m(doc) for m in must]
        if None in scores or any(n(doc) is not None for n in must_not):
            return None
        hits = [s for s in (m(doc) for m in should) if s is not None]
        if should and not must and not hits:
            return None
        return sum(scores) + sum(hits) or 1.0  # type: ignore[arg-type]

    return matcher
