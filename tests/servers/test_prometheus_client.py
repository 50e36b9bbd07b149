"""Pure parts of the Prometheus client: times, steps, and the error messages (no Prometheus needed)."""

import pytest

from demo.prometheus.fake import PrometheusNotInstalled, start
from servers.prometheus.client import _auto_step, api_error_message, status_message
from servers.prometheus.timeparse import TimeFormatError, parse_duration, parse_time, rfc3339

NOW = 1770976800.0  # 2026-02-13T10:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-1h", NOW - 3600),
        ("now-30m", NOW - 1800),
        ("-1h30m", NOW - 5400),
        ("-2d", NOW - 172800),
        ("2026-02-13T09:00:00Z", NOW - 3600),
        ("2026-02-13T11:00:00+02:00", NOW - 3600),
        ("2026-02-13T09:00:00.500Z", NOW - 3599.5),
        ("1770973200", NOW - 3600),
    ],
)
def test_times_are_read_as_rfc3339_unix_seconds_or_relative_to_now(text, expected):
    assert parse_time(text, NOW) == expected


def test_an_unreadable_time_names_the_parameter_and_the_accepted_forms():
    with pytest.raises(TimeFormatError) as caught:
        parse_time("yesterday", NOW, "start")
    assert str(caught.value) == (
        "Cannot read start='yesterday': use RFC3339 like 2026-02-13T10:00:00Z, unix seconds, 'now', "
        "or a relative time like -1h or now-30m"
    )


def test_durations_use_prometheus_units_and_reject_anything_else():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("250ms") == 0.25
    with pytest.raises(TimeFormatError):
        parse_duration("5 minutes")


def test_rfc3339_drops_fractions_only_when_there_are_none():
    assert rfc3339(NOW) == "2026-02-13T10:00:00Z"
    assert rfc3339(NOW + 0.25) == "2026-02-13T10:00:00.250Z"


@pytest.mark.parametrize(
    ("span", "max_points", "expected"),
    [(3600, 61, 60.0), (3600, 120, 60.0), (600, 1000, 1.0), (86400, 120, 900.0)],
)
def test_the_automatic_step_is_the_smallest_nice_step_that_fits_max_points(span, max_points, expected):
    assert _auto_step(span, max_points) == expected


def test_a_parse_error_is_explained_in_promql_terms():
    message = api_error_message(
        "bad_data",
        'invalid parameter "query": 1:6: parse error: expected type range vector in call to function '
        '"rate", got instant vector',
        "the query",
    )
    assert message == (
        'Invalid PromQL: 1:6: parse error: expected type range vector in call to function "rate", got '
        "instant vector. Fix: this function takes a range vector: add a range to the selector, "
        "e.g. rate(http_requests_total[5m])"
    )


def test_a_query_timeout_from_prometheus_says_how_to_make_the_query_cheaper():
    message = api_error_message("timeout", "query timed out in expression evaluation", "the range query")
    assert message == (
        "Prometheus gave up evaluating the range query (timeout): query timed out in expression "
        "evaluation. Fix: narrow the time range, raise step, filter with label matchers or aggregate "
        "(sum by (...))"
    )


def test_a_very_long_prometheus_error_is_cut_with_a_marker():
    message = api_error_message("execution", "x" * 1000, "the query")
    assert "x" * 400 + "… [truncated: 600 more characters]" in message
    assert len(message) < 500


@pytest.mark.parametrize(
    ("code", "retry_after", "expected"),
    [
        (
            403,
            None,
            "Prometheus answered 403 Forbidden for the query: the token lacks permission for this API",
        ),
        (
            429,
            "7",
            "Prometheus is rate-limiting us (429 Too Many Requests): wait 7 s (Retry-After), then retry",
        ),
        (429, None, "Prometheus is rate-limiting us (429 Too Many Requests): wait a minute, then retry"),
        (502, None, "Prometheus failed with 502 on the query: a server-side error, retry later"),
    ],
)
def test_each_http_status_maps_to_a_message_with_cause_and_fix(code, retry_after, expected):
    assert status_message(code, "the query", retry_after) == expected


def test_starting_prometheus_without_the_binary_names_the_debian_package(tmp_path):
    with pytest.raises(PrometheusNotInstalled) as caught:
        start(binary=str(tmp_path / "prometheus"))
    assert str(caught.value) == (
        f"{tmp_path / 'prometheus'} not found: install Prometheus with `apt-get install -y prometheus` "
        "(Debian package 'prometheus')"
    )
