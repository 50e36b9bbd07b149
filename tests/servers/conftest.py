from collections.abc import Iterator

import pytest

from servers._fakes import RunningFake
from servers.gitlab import Settings
from servers.gitlab import fake as gitlab_fake


@pytest.fixture
def gitlab() -> Iterator[RunningFake]:
    """A fresh fake GitLab per test, so writes never leak between tests."""
    with gitlab_fake.start() as running:
        yield running


@pytest.fixture
def gitlab_settings(gitlab: RunningFake) -> Settings:
    return Settings(**gitlab.settings, timeout=5)
