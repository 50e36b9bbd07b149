"""Error classes a real Prometheus cannot produce, from a tiny misbehaving HTTP server on 127.0.0.1.

The only faked part of the Prometheus tests: a proxy or a sick Prometheus answering
401, 403, 429, 5xx, malformed JSON, or too slowly. Every message must say the cause
and the fix and never contain the token.
"""

import threading
from collections.abc import Callable, Iterator

import pytest
from mcp import Client

from demo._fakes import Request, Response, RunningFake, json_response, serve
from servers.prometheus import Settings, build_server

pytestmark = pytest.mark.anyio

TOKEN = "prom-secret-token-123"
EMPTY_VECTOR = {"resultType": "vector", "result": []}


class Misbehaving:
    """Answers every request with `respond(request)`; remembers the requests it saw."""

    def __init__(self) -> None:
        self.respond: Callable[[Request], Response] = lambda req: json_response({}, 500)
        self.requests: list[Request] = []

    def __call__(self, req: Request) -> Response:
        self.requests.append(req)
        return self.respond(req)


@pytest.fixture
def backend() -> Iterator[tuple[Misbehaving, RunningFake]]:
    behaviour = Misbehaving()
    with serve(
        behaviour, host="127.0.0.1", port=0, settings=lambda url: {"url": url, "token": TOKEN}
    ) as fake:
        yield behaviour, fake


async def failing_call(
    fake: RunningFake, respond: Callable[[Request], Response], behaviour: Misbehaving, **kw
):
    behaviour.respond = respond
    settings = Settings(**fake.settings, **kw)
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("instant_query", {"query": "up"})
    assert result.is_error is True
    assert TOKEN not in result.model_dump_json()
    return result.content[0].text


def prefix(text: str) -> str:
    return f"Error executing tool instant_query: {text}"


async def test_the_token_is_sent_as_a_bearer_header_and_the_query_as_a_form(backend):
    behaviour, fake = backend
    behaviour.respond = lambda req: json_response({"status": "success", "data": EMPTY_VECTOR})
    async with Client(build_server(Settings(**fake.settings))) as client:
        result = await client.call_tool(
            "instant_query", {"query": 'up{job="orders-api"}', "time": "1770976800"}
        )
    assert result.structured_content["samples"] == []
    [request] = behaviour.requests
    assert (request.method, request.path, request.headers["authorization"]) == (
        "POST",
        "/api/v1/query",
        f"Bearer {TOKEN}",
    )
    assert request.form() == {"query": 'up{job="orders-api"}', "time": "1770976800", "timeout": "15"}


async def test_without_a_token_no_authorization_header_is_sent(backend):
    behaviour, fake = backend
    behaviour.respond = lambda req: json_response({"status": "success", "data": EMPTY_VECTOR})
    async with Client(build_server(Settings(url=fake.url))) as client:
        await client.call_tool("instant_query", {"query": "up"})
    assert "authorization" not in behaviour.requests[0].headers


async def test_a_401_says_to_set_the_token_and_does_not_echo_it(backend):
    behaviour, fake = backend
    text = await failing_call(fake, lambda req: Response(401, b"Unauthorized\n", "text/plain"), behaviour)
    assert text == prefix(
        "Prometheus rejected the credentials (401 Unauthorized): set PROMETHEUS_TOKEN to a valid "
        "bearer token for Prometheus or the proxy in front of it"
    )


async def test_a_403_says_the_token_lacks_permission(backend):
    behaviour, fake = backend
    text = await failing_call(fake, lambda req: json_response({"message": "forbidden"}, 403), behaviour)
    assert text == prefix(
        "Prometheus answered 403 Forbidden for the query: the token lacks permission for this API"
    )


async def test_a_429_passes_on_the_retry_after_seconds(backend):
    behaviour, fake = backend
    text = await failing_call(
        fake, lambda req: Response(429, b"slow down", "text/plain", {"Retry-After": "7"}), behaviour
    )
    assert text == prefix(
        "Prometheus is rate-limiting us (429 Too Many Requests): wait 7 s (Retry-After), then retry"
    )


async def test_a_502_html_page_from_a_proxy_says_retry_later(backend):
    behaviour, fake = backend
    text = await failing_call(
        fake, lambda req: Response(502, b"<html>Bad Gateway</html>", "text/html"), behaviour
    )
    assert text == prefix("Prometheus failed with 502 on the query: a server-side error, retry later")


async def test_a_prometheus_internal_error_json_is_passed_on_with_retry_advice(backend):
    behaviour, fake = backend
    body = {"status": "error", "errorType": "internal", "error": "opening storage failed"}
    text = await failing_call(fake, lambda req: json_response(body, 500), behaviour)
    assert text == prefix(
        "Prometheus failed on the query (internal): opening storage failed. "
        "Fix: a server-side error, retry later"
    )


async def test_a_query_timeout_json_says_how_to_make_the_query_cheaper(backend):
    behaviour, fake = backend
    body = {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}
    text = await failing_call(fake, lambda req: json_response(body, 503), behaviour)
    assert text == prefix(
        "Prometheus gave up evaluating the query (timeout): query timed out in expression evaluation. "
        "Fix: narrow the time range, raise step, filter with label matchers or aggregate (sum by (...))"
    )


async def test_malformed_json_says_the_url_may_not_point_at_prometheus(backend):
    behaviour, fake = backend
    text = await failing_call(fake, lambda req: Response(200, b"{not json"), behaviour)
    assert text == prefix(
        "Prometheus answered the query with something that is not Prometheus API JSON "
        "(HTTP 200): check that PROMETHEUS_URL points at Prometheus, not a login page or another service"
    )


async def test_a_slow_prometheus_times_out_with_advice(backend):
    behaviour, fake = backend
    release = threading.Event()

    def hang(req: Request) -> Response:
        release.wait(10)  # released by the test as soon as the client gave up
        return json_response({"status": "success", "data": EMPTY_VECTOR})

    try:
        text = await failing_call(fake, hang, behaviour, timeout=0.3)
    finally:
        release.set()
    assert text == prefix(
        "Prometheus did not answer the query within 0.3 s: narrow the query (shorter range, "
        "larger step, fewer series), retry later, or raise PROMETHEUS_TIMEOUT"
    )
