"""Talks to the Backstage catalog REST API (`<backend>/api/catalog`) with httpx. Imports nothing from `mcp`.

There is no official Python client for Backstage, so this module is it: all
I/O happens here, and `_translated()` is the ONE place where httpx errors
(HTTP statuses, timeouts, refused connections, a body that is not JSON) become
`BackendError`, whose message names the cause and the fix and never the token.

Entities are shaped by `shapes.py`; refs are `kind:namespace/name`, lower-cased.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from . import models as m
from . import shapes
from .settings import Settings

__all__ = ["BackendError", "BackstageClient", "status_message"]

# What search_entities and the relation lists need of each entity: big specs (API definitions) stay home.
SUMMARY_FIELDS = [
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.title",
    "metadata.description",
    "metadata.tags",
    "spec.type",
    "spec.lifecycle",
    "spec.owner",
    "spec.system",
    "spec.profile.displayName",
]
PERSON_FIELDS = ["kind", "metadata.name", "metadata.namespace", "metadata.title", "spec.profile"]
TEXT_FIELDS = "metadata.name,metadata.title,metadata.description,spec.profile.displayName,spec.profile.email"


class BackendError(Exception):
    """Backstage failed us, or the request cannot be made; the message is safe to show a model."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status when Backstage answered with one


def status_message(
    code: int, server_message: str, what: str, hint: str, retry_after: str | None = None
) -> str:
    """The text of a BackendError for an HTTP failure (public for tests)."""
    said = f"{code} {server_message}" if server_message else str(code)
    if code == 401:
        return (
            f"Backstage rejected the token ({said}): set BACKSTAGE_TOKEN to a valid static "
            "external-access token (backend.auth.externalAccess) or service token"
        )
    if code == 403:
        return (
            f"Backstage refused {what} ({said}): the token lacks the catalog permission for it; "
            "ask a Backstage admin to grant it"
        )
    if code == 404:
        return f"Backstage answered 404 for {what}: {hint}"
    if code == 409:
        return f"Backstage refused {what} ({said}): it already exists, nothing to do"
    if code == 429:
        wait = f"wait {retry_after} s (Retry-After)" if retry_after else "wait a minute"
        return f"Backstage is rate-limiting requests (429 Too Many Requests): {wait}, then retry"
    if code >= 500:
        return f"Backstage failed on {what} ({said}): a server-side error, retry later"
    return f"Backstage refused the request for {what} ({said}): check the arguments"


class BackstageClient:
    def __init__(self, settings: Settings) -> None:
        # No network I/O here: build_server() must stay cheap and offline.
        self._url = settings.url.rstrip("/").removesuffix("/api/catalog")
        self._timeout = settings.timeout
        self._token = settings.token.get_secret_value()
        self._http = httpx.Client(
            base_url=f"{self._url}/api/catalog",
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            timeout=settings.timeout,
        )

    # --- the one translation point --------------------------------------------

    @contextmanager
    def _translated(self, what: str, hint: str) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPStatusError as exc:
            response = exc.response
            message = self._scrub(_server_message(response))
            code, retry = response.status_code, response.headers.get("retry-after")
            raise BackendError(status_message(code, message, what, hint, retry), code) from None
        except httpx.TimeoutException:
            raise BackendError(
                f"Backstage did not answer within {self._timeout:g} s: "
                "retry later, or raise BACKSTAGE_TIMEOUT"
            ) from None
        except httpx.TransportError:
            # Messages name the setting, never the URL: a model cannot fix it and must not learn hosts.
            raise BackendError(
                "Cannot connect to Backstage: check BACKSTAGE_URL (the backend root, not the frontend) "
                "and that the backend is up"
            ) from None
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise BackendError(
                f"Backstage answered {what} with malformed JSON: check that BACKSTAGE_URL "
                "is the backend (not the frontend or a proxy login page), or retry later"
            ) from None

    def _expect(self, raw: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        """A JSON answer without the fields the catalog API always sends is as useless as bad JSON."""
        if isinstance(raw, dict) and all(k in raw for k in keys):
            return raw
        raise BackendError(
            f"Backstage answered {what} without {', '.join(keys)}: check that BACKSTAGE_URL "
            "is the backend's catalog API (a newer or older Backstage, or a proxy in between?)"
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        hint: str = "check the arguments",
        params: Any = None,
        body: Any = None,
    ) -> Any:
        with self._translated(what, hint):
            response = self._http.request(method, path, params=params, json=body)
            response.raise_for_status()
            return response.json()

    # --- raw endpoints ----------------------------------------------------------

    def entity(self, ref: str, default_kind: str) -> dict[str, Any]:
        try:
            kind, namespace, name = shapes.parse_ref(ref, default_kind)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        full = shapes.ref(kind, namespace, name)
        hint = (
            f"no entity {full}; check the ref (kind:namespace/name) "
            f"or find it with search_entities(text='{name}')"
        )
        path = f"/entities/by-name/{_seg(kind)}/{_seg(namespace)}/{_seg(name)}"
        raw = self._call("GET", path, what=f"entity '{full}'", hint=hint)
        return self._expect(raw, ("kind", "metadata"), f"entity '{full}'")

    def by_refs(self, refs: list[str], fields: list[str]) -> dict[str, dict[str, Any] | None]:
        if not refs:
            return {}
        body = {"entityRefs": refs, "fields": fields}
        raw = self._call("POST", "/entities/by-refs", what="a batch of entities", body=body)
        items = self._expect(raw, ("items",), "a batch of entities")["items"]
        if not isinstance(items, list) or len(items) != len(refs):
            raise BackendError(
                f"Backstage answered {len(refs)} refs with a different number of items: retry later"
            )
        return dict(zip(refs, items, strict=True))

    # --- tools ------------------------------------------------------------------

    def search(
        self,
        filters: list[str],
        text: str | None,
        limit: int,
        offset: int,
        cursor: str | None,
    ) -> m.SearchResult:
        params: list[tuple[str, Any]] = [("limit", limit), ("fields", ",".join(SUMMARY_FIELDS))]
        if cursor:
            params.append(("cursor", cursor))
        else:
            params += [("orderField", "metadata.name,asc"), ("offset", offset)]
            params += [("filter", ",".join(filters))] if filters else []
            params += [("fullTextFilterTerm", text), ("fullTextFilterFields", TEXT_FIELDS)] if text else []
        what = "the entity search"
        hint = "check the filter"
        raw = self._call("GET", "/entities/by-query", what=what, hint=hint, params=params)
        raw = self._expect(raw, ("items", "totalItems"), what)
        return {
            "items": [shapes.summary(e) for e in raw["items"]],
            "total_items": raw["totalItems"],
            "next_cursor": raw.get("pageInfo", {}).get("nextCursor"),
        }

    def get_entity(self, ref: str, default_kind: str = "component") -> m.Entity:
        return shapes.detail(self.entity(ref, default_kind))

    def owner(self, ref: str) -> m.Owner:
        raw = self.entity(ref, "component")
        entity_ref = shapes.ref_of(raw)
        owner_ref = next(iter(shapes.relations(raw).get("ownedBy", [])), None) or shapes.normalize(
            (raw.get("spec") or {}).get("owner"), "group", raw["metadata"].get("namespace", "default")
        )
        if not owner_ref:
            raise BackendError(
                f"{entity_ref} has no owner (no spec.owner): groups and users are not owned; "
                "for a group's people use list_group_members"
            )
        try:
            owner = self.entity(owner_ref, "group")
        except BackendError as exc:
            if exc.status != 404:
                raise
            return shapes.missing_owner(entity_ref, owner_ref)
        members = self._people(shapes.relations(owner).get("hasMember", []))
        return shapes.owner(entity_ref, owner, members)

    def group_members(self, ref: str) -> m.GroupMembers:
        raw = self.entity(ref, "group")
        if raw["kind"].lower() != "group":
            raise BackendError(
                f"{shapes.ref_of(raw)} is a {raw['kind']}, not a Group: "
                "for an entity's owning team use get_owner"
            )
        profile = (raw.get("spec") or {}).get("profile") or {}
        return {
            "group_ref": shapes.ref_of(raw),
            "display_name": profile.get("displayName") or raw["metadata"].get("title"),
            "email": profile.get("email"),
            "members": self._people(shapes.relations(raw).get("hasMember", [])),
        }

    def _people(self, refs: list[str]) -> list[m.Person]:
        found = self.by_refs(refs, PERSON_FIELDS)
        return sorted((shapes.person(r, found[r]) for r in refs), key=lambda p: p["ref"])

    def dependencies(self, ref: str) -> m.RelatedList:
        raw = self.entity(ref, "component")
        namespace = raw["metadata"].get("namespace", "default")
        relations, spec = shapes.relations(raw), raw.get("spec") or {}
        wanted: list[tuple[str, str, str | None]] = []
        for relation, spec_field, default_kind in (
            ("dependsOn", "dependsOn", None),
            ("consumesApi", "consumesApis", "api"),
        ):
            declared = [shapes.normalize(v, default_kind, namespace) for v in spec.get(spec_field) or []]
            targets = sorted(set(relations.get(relation, [])) | {d for d in declared if d})
            wanted += [(t, relation, None) for t in targets]
        return {"entity_ref": shapes.ref_of(raw), "items": self._related(wanted)}

    def dependents(self, ref: str, via_apis: bool) -> m.RelatedList:
        raw = self.entity(ref, "component")
        relations = shapes.relations(raw)
        wanted: list[tuple[str, str, str | None]] = [
            (t, "dependencyOf", None) for t in relations.get("dependencyOf", [])
        ]
        wanted += [(t, "apiConsumedBy", None) for t in relations.get("apiConsumedBy", [])]
        apis = relations.get("providesApi", []) if via_apis else []
        for api_ref, api in self.by_refs(apis, ["kind", "metadata", "relations"]).items():
            consumers = shapes.relations(api).get("apiConsumedBy", []) if api else []
            wanted += [(t, "apiConsumedBy", api_ref) for t in consumers]
        return {"entity_ref": shapes.ref_of(raw), "items": self._related(wanted)}

    def _related(self, wanted: list[tuple[str, str, str | None]]) -> list[m.Related]:
        unique = list(dict.fromkeys(wanted))
        found = self.by_refs(list(dict.fromkeys(t for t, _, _ in unique)), SUMMARY_FIELDS)
        return [shapes.related(t, relation, via, found[t]) for t, relation, via in unique]

    def api_definition(self, ref: str, start: int, max_chars: int) -> m.ApiDefinition:
        raw = self.entity(ref, "api")
        if raw["kind"].lower() != "api":
            provided = shapes.relations(raw).get("providesApi", [])
            fix = (
                f"it provides {', '.join(provided)}: call get_api_definition(ref='{provided[0]}')"
                if provided
                else "find APIs with search_entities(kind='api')"
            )
            raise BackendError(f"{shapes.ref_of(raw)} is a {raw['kind']}, not an API; {fix}")
        return shapes.api_definition(raw, start, max_chars)

    def facets(self, facet: str, filters: list[str]) -> list[m.FacetValue]:
        params: list[tuple[str, str]] = [("facet", facet)] + (
            [("filter", ",".join(filters))] if filters else []
        )
        raw = self._call("GET", "/entity-facets", what=f"facet '{facet}'", params=params)
        raw = self._expect(raw, ("facets",), f"facet '{facet}'")
        return [{"value": f["value"], "count": f["count"]} for f in raw["facets"].get(facet, [])]

    def register_location(self, target: str, type_: str, dry_run: bool) -> m.RegisteredLocation:
        params = {"dryRun": "true"} if dry_run else None
        what = f"location {type_}:{target}"
        raw = self._call(
            "POST", "/locations", what=what, params=params, body={"type": type_, "target": target}
        )
        location = self._expect(raw, ("location",), what)["location"]
        return {
            "location": {"id": location["id"], "type": location["type"], "target": location["target"]},
            "dry_run": dry_run,
            "entities": [shapes.ref_of(e) for e in raw.get("entities") or []],
        }


def _seg(text: str) -> str:
    return quote(text, safe="")


def _server_message(response: httpx.Response) -> str:
    """Backstage's `error.name: error.message`, or the start of a non-JSON body."""
    try:
        error = response.json().get("error") or {}
        text = f"{error.get('name', 'Error')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        text = response.text.strip()
    return text[:300]
