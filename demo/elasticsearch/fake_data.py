"""Deterministic seed data for the fake Elasticsearch: three days of Acme Shop application logs.

Daily indices logs-2026.02.24 .. logs-2026.02.26, one shared mapping (as an index
template would give). The story a model can find in them:

- orders-api is redeployed on 2026-02-26 at 13:58 (commit 9937cbae, "Add rounding to
  totals"); from 14:02 it answers 500 on POST /v2/orders with "InvalidOperation:
  quantize result has too many digits for current context" (36 ERROR logs, 14:02-14:38),
  and web-frontend's checkout fails with 502 on the same trace ids (12 ERROR logs).
- etl-exporter's nightly export is OOM-killed on 2026-02-25 and 2026-02-26 (exit code
  137, container memory limit 4Gi), matching GitLab pipeline 77030 in data/etl.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["BURST_MESSAGE", "INDICES", "MAPPING", "NOW", "seed"]

NOW = datetime(2026, 2, 26, 18, 0, 0, tzinfo=UTC)  # the fake's clock, for date math such as now-1h
INDICES = ("logs-2026.02.24", "logs-2026.02.25", "logs-2026.02.26")
BURST_MESSAGE = "InvalidOperation: quantize result has too many digits for current context"

MAPPING: dict[str, Any] = {
    "properties": {
        "@timestamp": {"type": "date"},
        "duration_ms": {"type": "long"},
        "error": {"properties": {"stack_trace": {"type": "text"}, "type": {"type": "keyword"}}},
        "host": {"type": "keyword"},
        "http": {"properties": {"method": {"type": "keyword"}, "status": {"type": "integer"}}},
        "level": {"type": "keyword"},
        "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "service": {"type": "keyword"},
        "trace_id": {"type": "keyword"},
        "url": {"properties": {"path": {"type": "keyword"}}},
    }
}

HOSTS = {
    "orders-api": ("orders-api-7f9c6d5b8-2xkqp", "orders-api-7f9c6d5b8-m4tzw"),
    "web-frontend": ("web-frontend-6d8b9c7f4-9hjzr", "web-frontend-6d8b9c7f4-qv2ns"),
    "auth-service": ("auth-service-5c7d8e9f1-lk3pd",),
    "etl-exporter": ("etl-exporter-29531640-8fkx2",),
}
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")

_STACK_TRACE = """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/starlette/middleware/errors.py", line 165, in __call__
    await self.app(scope, receive, _send)
  File "/usr/local/lib/python3.12/site-packages/starlette/routing.py", line 74, in app
    response = await f(request)
               ^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/site-packages/fastapi/routing.py", line 301, in app
    raw_response = await run_endpoint_function(
                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/site-packages/fastapi/routing.py", line 212, in run_endpoint_function
    return await run_in_threadpool(dependant.call, **values)
  File "/app/src/api/routes/orders.py", line 41, in create_order
    total = order_total(payload.lines)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/src/api/orders.py", line 6, in order_total
    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
decimal.InvalidOperation: quantize result has too many digits for current context"""

# (service, events per day, WARN positions): ordinary traffic, spread over each day.
_TRAFFIC = (("orders-api", 30, (7, 19)), ("web-frontend", 25, (11,)), ("auth-service", 20, (5,)))

# The nightly export: (day, time, level, message, duration_ms or None).
_ETL = (
    (24, "02:00:03", "INFO", "Export started: job=orders_daily date=2026-02-23", None),
    (24, "02:09:41", "INFO", "Fetched 1204331 rows from orders (batch 1/3)", None),
    (24, "02:18:57", "INFO", "Fetched 1198250 rows from orders (batch 2/3)", None),
    (24, "02:27:30", "INFO", "Fetched 1187902 rows from orders (batch 3/3)", None),
    (24, "02:28:20", "INFO", "Wrote s3://lake/exports/orders_daily/2026-02-23.parquet (412 MB)", None),
    (24, "02:28:35", "INFO", "Export finished: job=orders_daily rows=3590483", 1712000),
    (25, "02:00:02", "INFO", "Export started: job=orders_daily date=2026-02-24", None),
    (25, "02:10:12", "INFO", "Fetched 1311870 rows from orders (batch 1/3)", None),
    (25, "02:20:45", "INFO", "Fetched 1302114 rows from orders (batch 2/3)", None),
    (
        25,
        "02:30:36",
        "ERROR",
        "Worker killed: OOMKilled (exit code 137, container memory limit 4Gi exceeded) during batch 3/3",
        1834000,
    ),
    (25, "02:30:37", "WARN", "Export job orders_daily failed; will retry at the next schedule", None),
    (26, "02:00:04", "INFO", "Export started: job=orders_daily date=2026-02-25", None),
    (26, "02:11:26", "INFO", "Fetched 1402551 rows from orders (batch 1/3)", None),
    (
        26,
        "02:19:08",
        "ERROR",
        "MemoryError: Unable to allocate 1.60 GiB for an array with shape (214748364,) and data type float64",
        None,
    ),
    (
        26,
        "02:19:09",
        "ERROR",
        "Worker killed: OOMKilled (exit code 137, container memory limit 4Gi exceeded) during batch 2/3",
        1145000,
    ),
    (26, "02:19:10", "WARN", "Export job orders_daily failed; will retry at the next schedule", None),
)


def _ts(day: int, seconds: float) -> str:
    moment = datetime(2026, 2, day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _clock(day: int, hms: str) -> float:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


class _Gen:
    def __init__(self) -> None:
        self.rng = random.Random(20260224)
        self.docs: list[dict[str, Any]] = []

    def trace(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def log(self, day: int, at: float, service: str, level: str, message: str, **extra: Any) -> dict:
        doc = {
            "@timestamp": _ts(day, at),
            "service": service,
            "level": level,
            "message": message,
            "trace_id": extra.pop("trace_id", None) or self.trace(),
            "host": extra.pop("host", None) or self.rng.choice(HOSTS[service]),
            **extra,
        }
        self.docs.append(doc)
        return doc

    def request(
        self,
        day: int,
        at: float,
        service: str,
        level: str,
        method: str,
        path: str,
        status: int,
        duration: int,
        message: str,
        **extra: Any,
    ) -> dict:
        http = {"method": method, "status": status}
        return self.log(
            day, at, service, level, message, http=http, url={"path": path}, duration_ms=duration, **extra
        )

    def traffic(self, service: str, day: int, count: int, warn_at: tuple[int, ...]) -> None:
        end = 17.5 * 3600 if day == 26 else 86400.0  # nothing after the fake's clock (18:00 on the 26th)
        for i, at in enumerate(sorted(self.rng.uniform(0, end) for _ in range(count))):
            (self.warning if i in warn_at else self.ordinary)(service, day, at)

    def ordinary(self, service: str, day: int, at: float) -> None:
        r = self.rng
        order, user = f"ord_{r.randint(100000, 999999)}", f"{r.choice(USERS)}@acme.example"
        choices = {
            "orders-api": [
                ("POST", "/v2/orders", 201, f"POST /v2/orders 201 created order {order}", (60, 240)),
                ("GET", f"/v2/orders/{order}", 200, f"GET /v2/orders/{order} 200", (8, 40)),
                ("GET", "/v2/orders", 200, f"GET /v2/orders?customer={user} 200", (15, 90)),
            ],
            "web-frontend": [
                ("GET", "/", 200, "GET / 200", (20, 120)),
                ("GET", "/checkout", 200, "GET /checkout 200", (40, 200)),
                ("POST", "/checkout", 200, f"POST /checkout 200 order {order} placed", (120, 400)),
            ],
            "auth-service": [
                ("POST", "/oauth/token", 200, f"POST /oauth/token 200 token issued for {user}", (10, 60)),
                ("POST", "/login", 200, f"POST /login 200 login succeeded for {user}", (30, 150)),
                ("GET", "/.well-known/jwks.json", 200, "GET /.well-known/jwks.json 200", (2, 8)),
            ],
        }[service]
        method, path, status, message, (low, high) = r.choice(choices)
        self.request(day, at, service, "INFO", method, path, status, r.randint(low, high), message)

    def warning(self, service: str, day: int, at: float) -> None:
        r = self.rng
        if service == "orders-api":
            ms = r.randint(2000, 3500)
            message = f"POST /v2/orders 201 slow: payment gateway answered in {ms} ms"
            self.request(day, at, service, "WARN", "POST", "/v2/orders", 201, ms, message)
        elif service == "web-frontend":
            ms = r.randint(1800, 2600)
            self.request(
                day, at, service, "WARN", "GET", "/checkout", 200, ms, f"GET /checkout slow render ({ms} ms)"
            )
        else:
            message = f"POST /login 401 invalid password for {r.choice(USERS)}@acme.example"
            self.request(day, at, service, "WARN", "POST", "/login", 401, r.randint(30, 90), message)

    def incident(self) -> None:
        """The 2026-02-26 deploy, then the orders-api quantize burst and web-frontend's failed checkouts."""
        for at, host in ((_clock(26, "13:58:41"), 0), (_clock(26, "13:59:02"), 1)):
            message = "Started orders-api 2026.02.26.1 (commit 9937cbae) on uvicorn, 4 workers"
            self.log(26, at, "orders-api", "INFO", message, host=HOSTS["orders-api"][host])
        start = _clock(26, "14:02:07")
        for i in range(36):
            at = start + i * 60 + self.rng.randint(0, 40) + self.rng.random()
            error = {"type": "decimal.InvalidOperation", "stack_trace": _STACK_TRACE}
            doc = self.request(
                26,
                at,
                "orders-api",
                "ERROR",
                "POST",
                "/v2/orders",
                500,
                self.rng.randint(12, 45),
                BURST_MESSAGE,
                error=error,
            )
            if i % 3 == 0:
                message = "POST /checkout 502 orders-api answered 500 Internal Server Error"
                self.request(
                    26,
                    at + 0.2,
                    "web-frontend",
                    "ERROR",
                    "POST",
                    "/checkout",
                    502,
                    self.rng.randint(60, 160),
                    message,
                    trace_id=doc["trace_id"],
                )

    def auth_error(self) -> None:
        message = "POST /oauth/token 503 JWKS refresh failed: upstream timeout after 5000 ms"
        self.request(
            25, _clock(25, "09:14:03"), "auth-service", "ERROR", "POST", "/oauth/token", 503, 5004, message
        )

    def etl(self) -> None:
        trace = {day: self.trace() for day in (24, 25, 26)}
        for day, hms, level, message, duration in _ETL:
            extra = {"duration_ms": duration} if duration else {}
            self.log(
                day, _clock(day, hms) + 0.25, "etl-exporter", level, message, trace_id=trace[day], **extra
            )


def _doc_id(index: str, n: int) -> str:
    """A 20-character id shaped like the ones Elasticsearch generates."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"{index}#{n}".encode()).digest())[:20].decode()


def seed() -> dict[str, list[dict[str, Any]]]:
    """A fresh copy of every index: name -> documents ({"_id", "_source"}) in @timestamp order."""
    gen = _Gen()
    for day in (24, 25, 26):
        for service, count, warn_at in _TRAFFIC:
            gen.traffic(service, day, count, warn_at)
    gen.incident()
    gen.auth_error()
    gen.etl()
    indices: dict[str, list[dict[str, Any]]] = {name: [] for name in INDICES}
    for source in sorted(gen.docs, key=lambda d: d["@timestamp"]):
        index = "logs-" + source["@timestamp"][:10].replace("-", ".")
        indices[index].append({"_id": _doc_id(index, len(indices[index])), "_source": source})
    return indices
