"""The real python-gitlab, through our client.py, against the fake GitLab."""

import socket

import pytest

from demo.gitlab.fake import TOKEN
from servers.gitlab import Settings
from servers.gitlab.client import BackendError, GitLabClient, status_message


def test_the_client_lists_the_seeded_projects_most_recent_first(gitlab_settings):
    projects = GitLabClient(gitlab_settings).list_projects(None, 1, 20)
    assert [p["path"] for p in projects] == ["data/etl", "platform/auth", "infra/web", "infra/api"]


def test_a_project_is_found_by_its_url_encoded_path_and_by_its_id(gitlab_settings):
    client = GitLabClient(gitlab_settings)
    assert client.get_project("infra/api")["id"] == 4201
    assert client.get_project("4201")["path"] == "infra/api"


def test_the_file_content_is_decoded_from_base64(gitlab_settings):
    file = GitLabClient(gitlab_settings).get_file_content("infra/api", "src/api/settings.py", "main")
    assert file["content"] == "RETRY_BUDGET = 3\nREQUEST_TIMEOUT_SECONDS = 5\n"
    assert file["size"] == 45


def test_the_job_log_tail_keeps_the_last_lines_without_colour_codes(gitlab_settings):
    log = GitLabClient(gitlab_settings).get_job_log("infra/api", 770012, 0)
    assert log.splitlines()[0] == "Running with gitlab-runner 18.4.0 (8e2e5a6f)"
    assert "\x1b" not in log


def test_commits_of_a_feature_branch_include_its_own_commit(gitlab_settings):
    commits = GitLabClient(gitlab_settings).list_commits("infra/api", "feature/rounding", 1, 2)
    assert [c["title"] for c in commits] == ["Document settings", "Add rounding to totals"]


def test_commits_from_a_sha_are_that_commit_and_its_ancestors(gitlab_settings):
    client = GitLabClient(gitlab_settings)
    commits = client.list_commits("infra/api", "9937cbaee14243fb86d2b552d7fd585eb588987c", 1, 3)
    assert [c["short_id"] for c in commits] == ["9937cbae", "2c9ee17b", "dcb64306"]
    assert client.list_commits("infra/api", "9937cbae", 1, 1)[0]["title"] == "Add rounding to totals"
    assert client.list_commits("infra/api", "abcdef0123", 1, 5) == []


def test_a_refused_connection_becomes_a_backend_error_naming_the_setting_not_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed as soon as the block ends: nothing listens there
    client = GitLabClient(Settings(url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=2))
    with pytest.raises(BackendError) as caught:
        client.list_projects(None, 1, 20)
    assert str(caught.value) == "Cannot connect to GitLab: check GITLAB_URL and that the server is up"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (403, "GitLab answered 403 for project 'x': the token lacks permission (writes need the api scope)"),
        (429, "GitLab is rate-limiting this token (429 Too Many Requests): wait a minute, then retry"),
        (502, "GitLab failed with 502 on project 'x': a server-side error, retry later"),
    ],
)
def test_each_http_status_maps_to_a_message_with_cause_and_fix(code, expected):
    assert status_message(code, "", "project 'x'", "hint") == expected


@pytest.mark.parametrize(
    ("project", "fix"),
    [
        ("infra/ap", "list candidates with list_projects(search='ap')"),
        ("4201", "list the projects and their ids with list_projects()"),
    ],
)
def test_a_missing_project_is_named_with_a_search_that_finds_its_candidates(project, fix):
    message = status_message(404, "404 Project Not Found", f"pipelines of '{project}'", "hint", project)
    assert message == f"GitLab has no project '{project}' (404): {fix}"
