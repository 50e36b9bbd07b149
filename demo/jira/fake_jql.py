"""The small JQL subset the fake Jira understands, evaluated over `fake_data` records.

Understood (keywords and field names case-insensitive):

    project = API            status = "In Progress"      status != Done
    status in ("To Do", "In Progress")                   assignee = currentUser()
    assignee = "alice@acme.example"   assignee is EMPTY  reporter = bob
    labels = billing         priority = High             type = Bug
    key = API-12             text ~ "cent"               summary ~ "totals"
    created >= "2026-02-20"  updated > -7d
    clauses joined by AND, then ORDER BY created|updated|priority|key [ASC|DESC], ...

Like Jira, `!=` and `not in` never match an empty field. Anything else (OR,
parentheses, other fields or functions) is refused with the message Jira's 400
body carries, so the real client library sees the real error shape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .fake_data import ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, USERS

__all__ = ["NOW", "JqlError", "Query", "parse"]

NOW = datetime(2026, 3, 2, 12, 0)  # the fake's clock, for relative dates like -7d

Record = dict[str, Any]
Predicate = Callable[[Record, str], bool]  # (issue, current username) -> match

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|=|~|>|<|\(|\)|,)|(?P<word>[^\s=!~<>(),"']+))"""
)
_FIELDS = {"issuetype": "type", "issuekey": "key"}  # aliases -> canonical name
_TEXT_FIELDS = {"text", "summary", "description", "comment"}
_DATE_FIELDS = {"created", "updated"}
_EQUALITY_FIELDS = {"project", "status", "assignee", "reporter", "labels", "priority", "type", "key"}
_ORDER_FIELDS = {"created", "updated", "priority", "key"}


class JqlError(ValueError):
    """The query is not valid here; the message is what Jira's 400 body says."""


@dataclass(frozen=True)
class Query:
    predicates: list[Predicate]
    order: list[tuple[str, bool]]  # (field, descending)

    def run(self, issues: list[Record], current_user: str) -> list[Record]:
        found = [i for i in issues if all(p(i, current_user) for p in self.predicates)]
        found.sort(key=lambda i: int(i["id"]), reverse=True)  # Jira's order when none is given
        for name, descending in reversed(self.order):
            found.sort(key=functools.partial(_sort_key, name=name), reverse=descending)
        return found


def _tokens(jql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(jql.rstrip()):
        match = _TOKEN.match(jql, pos)
        if not match or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{jql[pos]}' is a reserved JQL character.")
        kind = match.lastgroup or ""
        value = match.group(kind)
        out.append((kind, value[1:-1].replace('\\"', '"') if kind == "str" else value))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = _tokens(jql)
        self.pos = 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.tokens[i][1] if i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        """Consume the keywords if they come next (case-insensitive)."""
        ahead = [self.peek(i) for i in range(len(words))]
        if all(a is not None and a.lower() == w for a, w in zip(ahead, words, strict=True)):
            self.pos += len(words)
            return True
        return False

    def take(self, what: str) -> str:
        value = self.peek()
        if value is None:
            raise JqlError(f"Error in the JQL Query: Expecting {what} but reached the end of the query.")
        self.pos += 1
        return value

    def query(self) -> Query:
        predicates: list[Predicate] = []
        while self.peek() is not None and self.peek().lower() != "order":  # type: ignore[union-attr]
            if predicates and not self.keyword("and"):
                word = self.take("'AND'")
                raise JqlError(
                    f"Error in the JQL Query: Expecting 'AND' but got '{word}'. "
                    "This Jira supports only clauses joined by AND (no OR, NOT or parentheses)."
                )
            predicates.append(self.clause())
        order = self.order_by()
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: Unexpected '{self.peek()}' after ORDER BY.")
        return Query(predicates, order)

    def clause(self) -> Predicate:
        raw = self.take("a field name")
        name = _FIELDS.get(raw.lower(), raw.lower())
        if name not in _EQUALITY_FIELDS | _TEXT_FIELDS | _DATE_FIELDS:
            raise JqlError(f"Field '{raw}' does not exist or you do not have permission to view it.")
        if self.keyword("is", "not", "empty") or self.keyword("is", "not", "null"):
            return lambda i, me: bool(_values(i, name))
        if self.keyword("is", "empty") or self.keyword("is", "null"):
            return lambda i, me: not _values(i, name)
        if self.keyword("not", "in"):
            return _negate(name, self.membership(name, raw, self.value_list()))
        if self.keyword("in"):
            return self.membership(name, raw, self.value_list())
        op = self.take("an operator")
        if op == "~" and name in _TEXT_FIELDS:
            return _contains(name, self.take("a value"))
        if op in (">", ">=", "<", "<=") and name in _DATE_FIELDS:
            return _compare_date(name, op, self.take("a date"))
        if op in ("=", "!=") and name in _EQUALITY_FIELDS:
            match = self.membership(name, raw, [self.value()])
            return _negate(name, match) if op == "!=" else match
        raise JqlError(f"The operator '{op}' is not supported by the '{raw}' field.")

    def value(self) -> str:
        word = self.take("a value")
        if self.peek() == "(" and self.peek(1) == ")":
            self.pos += 2
            if word.lower() != "currentuser":
                raise JqlError(f"Unable to find JQL function '{word}()'.")
            return "currentUser()"
        return word

    def value_list(self) -> list[str]:
        if self.take("'('") != "(":
            raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
        values = [self.value()]
        while self.keyword(","):
            values.append(self.value())
        if self.take("')'") != ")":
            raise JqlError("Error in the JQL Query: Expecting ',' or ')' in the list.")
        return values

    def membership(self, name: str, raw: str, values: list[str]) -> Predicate:
        wanted = {_canonical(name, raw, v) for v in values}
        return lambda i, me: any((me if w == "currentUser()" else w) in _values(i, name) for w in wanted)

    def order_by(self) -> list[tuple[str, bool]]:
        if not self.keyword("order", "by"):
            return []
        order = []
        while True:
            raw = self.take("a field to order by")
            if raw.lower() not in _ORDER_FIELDS:
                raise JqlError(f"Field '{raw}' does not exist or you do not have permission to view it.")
            descending = self.keyword("desc")
            if not descending:
                self.keyword("asc")
            order.append((raw.lower(), descending))
            if not self.keyword(","):
                return order


def parse(jql: str) -> Query:
    """Parse `jql` or raise JqlError with Jira's message for it."""
    return _Parser(jql).query()


def _negate(name: str, match: Predicate) -> Predicate:
    # As in Jira, `assignee != alice` does not return unassigned issues.
    return lambda i, me: bool(_values(i, name)) and not match(i, me)


def _values(issue: Record, name: str) -> set[str]:
    """The comparable values of a field: lower-cased names, keys, emails."""
    if name == "labels":
        return set(issue["labels"])
    if name in ("assignee", "reporter"):
        return {issue[name]} if issue[name] else set()
    if name == "type":
        return {issue["issuetype"].lower()}
    return {str(issue[name]).lower()} if issue.get(name) else set()


def _canonical(name: str, raw: str, value: str) -> str:
    """Resolve a JQL value to what `_values` holds, or fail as Jira does for unknown values."""
    if name == "labels" or value == "currentUser()":
        return value
    if name in ("assignee", "reporter"):
        for user, (display, _, _) in USERS.items():
            if value.lower() in (user, f"{user}@acme.example", display.lower()):
                return user
    elif name == "project":
        for key, (pid, project_name, _, _) in PROJECTS.items():
            if value.lower() in (key.lower(), pid, project_name.lower()):
                return key.lower()
    elif name == "key":
        return value.lower()
    else:
        known: dict[str, set[str]] = {
            "status": set(STATUSES),
            "priority": set(PRIORITIES),
            "type": set(ISSUE_TYPES),
        }
        if name not in known or value.lower() in {k.lower() for k in known[name]}:
            return value.lower()
    raise JqlError(f"The value '{value}' does not exist for the field '{raw}'.")


def _contains(name: str, value: str) -> Predicate:
    words = [w.lower().strip("*") for w in value.split() if w.strip("*")]

    def text(issue: Record) -> str:
        parts = {
            "summary": [issue["summary"]],
            "description": [issue["description"] or ""],
            "comment": [c["body"] for c in issue["comments"]],
        }
        chosen = parts[name] if name in parts else [p for v in parts.values() for p in v]
        return " ".join(chosen).lower()

    return lambda i, me: all(w in text(i) for w in words)


def _compare_date(name: str, op: str, value: str) -> Predicate:
    limit = _date(value, name)
    compare = {">": lambda a: a > limit, ">=": lambda a: a >= limit, "<": lambda a: a < limit}
    test = compare.get(op, lambda a: a <= limit)
    return lambda i, me: test(datetime.strptime(i[name][:16], "%Y-%m-%dT%H:%M"))


def _date(value: str, name: str) -> datetime:
    relative = re.fullmatch(r"([-+]?\d+)([wdhm])", value)
    if relative:
        unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[relative.group(2)]
        return NOW + timedelta(**{unit: int(relative.group(1))})
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' for field '{name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d'."
    )


def _sort_key(issue: Record, name: str) -> Any:
    if name == "priority":
        return -int(PRIORITIES[issue["priority"]])  # DESC puts Highest first, as in Jira
    if name == "key":
        project, number = issue["key"].split("-")
        return (project, int(number))
    return issue[name]
