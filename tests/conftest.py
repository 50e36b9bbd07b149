"""Shared fixtures: every async test runs on asyncio through anyio's pytest plugin."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL (Debian's package) for the whole run; started on first use."""
    from postgres_server import running_postgres

    with running_postgres() as url:
        yield url
