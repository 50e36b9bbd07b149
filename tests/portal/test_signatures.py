import mcp_types as types
import pytest

from portal.signatures import is_wrapped_output, one_line_doc, render_signature, schema_type


def tool(
    input_schema: dict, output_schema: dict | None = None, description: str = "Log of one CI job."
) -> types.Tool:
    return types.Tool(
        name="get_job_log", description=description, input_schema=input_schema, output_schema=output_schema
    )


def test_a_tool_renders_as_a_typed_signature_with_defaults_and_a_one_line_doc() -> None:
    schema = {
        "type": "object",
        "properties": {
            "project": {"type": "string"},
            "job_id": {"type": "integer"},
            "tail_lines": {"type": "integer", "default": 200},
        },
        "required": ["project", "job_id"],
    }
    output = {"type": "object", "properties": {"result": {"type": "string"}}, "required": ["result"]}
    assert render_signature("gitlab", tool(schema, output)) == (
        "gitlab.get_job_log(project: str, job_id: int, tail_lines: int = 200) -> str  # Log of one CI job"
    )


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "enum": ["opened", "closed"]}, 'Literal["opened", "closed"]'),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "int | None"),
        ({"type": "array", "items": {"type": "string"}}, "list[str]"),
        ({"type": ["string", "null"]}, "str | None"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, "dict[str, float]"),
        ({"type": "object", "properties": {"a": {}}}, "dict"),
        ({"$ref": "#/$defs/State"}, 'Literal["a"]'),
        ({}, "Any"),
        ("not a schema", "Any"),
    ],
)
def test_json_schema_maps_to_python_types(schema: object, expected: str) -> None:
    assert schema_type(schema, {"State": {"type": "string", "enum": ["a"]}}) == expected


def test_optional_parameters_follow_required_ones_whatever_the_schema_order() -> None:
    schema = {
        "type": "object",
        "properties": {"page": {"type": "integer", "default": 1}, "project": {"type": "string"}},
        "required": ["project"],
    }
    assert (
        render_signature("gitlab", tool(schema), with_doc=False)
        == "gitlab.get_job_log(project: str, page: int = 1) -> Any"
    )


def test_an_object_output_renders_as_a_named_shape_and_is_not_treated_as_wrapped() -> None:
    output = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    assert not is_wrapped_output(output)
    assert render_signature("x", tool({"type": "object"}, output), with_doc=False).endswith(
        "-> GetJobLogResult"
    )


def test_the_doc_is_the_first_sentence_and_is_shortened() -> None:
    assert one_line_doc("List projects. Paged with page and per_page.") == "List projects"
    assert one_line_doc("") == ""
    assert len(one_line_doc("word " * 100)) <= 120


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (
            "Get one merge request by iid: description, assignees, reviewers, labels, merge status, "
            "merged_at/merged_by, and its head pipeline",
            "Get one merge request by iid: description, assignees, reviewers, labels, merge status, "
            "merged_at/merged_by…",
        ),
        (
            "The jobs of a pipeline in stage order: id (use with get_job_log), name, stage, status, "
            "failure_reason (e.g. script_failure), duration",
            "The jobs of a pipeline in stage order: id (use with get_job_log), name, stage, status…",
        ),
        ("word " * 40, ("word " * 24).strip() + "…"),
    ],
)
def test_a_long_doc_is_cut_at_its_last_clause_or_word_boundary_never_mid_word(
    description: str, expected: str
) -> None:
    doc = one_line_doc(description)
    assert doc == expected
    assert len(doc) <= 120


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": [["a"], {"b": 1}, "a"]},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": "a"},
        {"type": "object", "properties": ["a", "b"], "required": ["a"]},
    ],
)
def test_a_malformed_upstream_input_schema_still_renders(schema: dict) -> None:
    """An upstream's `required` holding lists or objects used to crash the catalog rebuild."""
    from portal.tool_errors import argument_problem

    tool = types.Tool(name="odd", description="Odd.", input_schema=schema)
    assert render_signature("x", tool).startswith("x.odd(")
    assert argument_problem(schema, {}) in (None, "missing required argument a")
