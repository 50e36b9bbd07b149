"""The fixture's handlers; every expected value is quoted from the suite's scenario text."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from pydantic import BaseModel

__all__ = ["TOOLS", "Settings", "build_server"]

Ctx = ServerRequestContext[Any, Any]

# A 1x1 red PNG and a tiny silent WAV: the scenarios ask for "a minimal test image/audio".
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}


def _tool(name: str, description: str, schema: dict[str, Any] | None = None, **extra: Any) -> types.Tool:
    return types.Tool(name=name, description=description, input_schema=schema or _NO_ARGS, **extra)


def _string_args(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {n: {"type": "string", "description": f"The {n}"} for n in names},
        "required": list(names),
    }


TOOLS = [
    _tool("test_simple_text", "Returns simple text content"),
    _tool("test_image_content", "Returns image content"),
    _tool("test_audio_content", "Returns audio content"),
    _tool("test_embedded_resource", "Returns an embedded resource"),
    _tool("test_multiple_content_types", "Returns text, image and resource content"),
    _tool("test_tool_with_logging", "Sends three log messages while it runs"),
    _tool("test_tool_with_progress", "Reports progress 0, 50, 100 of 100"),
    _tool("test_error_handling", "Always fails with a tool error"),
    _tool("test_sampling", "Asks the client's LLM to answer a prompt", _string_args("prompt")),
    _tool("test_elicitation", "Asks the user for a username and email", _string_args("message")),
    _tool("test_elicitation_sep1034_defaults", "Elicitation with defaults for every primitive type"),
    _tool("test_elicitation_sep1330_enums", "Elicitation with the five enum schema variants"),
    _tool("test_reconnection", "Closes its SSE stream mid-call, then answers after the client resumes"),
    _tool(
        "json_schema_2020_12_tool",
        "Tool with JSON Schema 2020-12 features",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        },
    ),
    _tool("test_slow", "Logs, reports progress 1 of 2, then waits 30 s unless cancelled"),
    _tool("test_cancelled_count", "How many calls of test_slow were cancelled"),
    _tool("test_notify_changes", "Sends tools/list_changed, and resources/updated for the watched resource"),
    _tool(
        "test_structured_output",
        "Adds two numbers and returns the sum as structured content",
        {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
        title="Structured sum",
        output_schema={"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]},
        annotations=types.ToolAnnotations(read_only_hint=True, destructive_hint=False),
        icons=[types.Icon(src="data:image/png;base64," + PNG, mime_type="image/png")],
    ),
]

RESOURCES = [
    types.Resource(
        uri="test://static-text",
        name="static-text",
        description="A static text resource",
        mime_type="text/plain",
    ),
    types.Resource(
        uri="test://static-binary", name="static-binary", description="A static PNG", mime_type="image/png"
    ),
    types.Resource(
        uri="test://watched-resource",
        name="watched-resource",
        description="A resource clients may subscribe to",
        mime_type="text/plain",
    ),
]
TEMPLATES = [
    types.ResourceTemplate(
        uri_template="test://template/{id}/data",
        name="template-data",
        description="Data for one id",
        mime_type="application/json",
    )
]
PROMPTS = [
    types.Prompt(name="test_simple_prompt", description="A prompt without arguments"),
    types.Prompt(
        name="test_prompt_with_arguments",
        description="A prompt with two arguments",
        arguments=[
            types.PromptArgument(name="arg1", description="First test argument", required=True),
            types.PromptArgument(name="arg2", description="Second test argument", required=True),
        ],
    ),
    types.Prompt(
        name="test_prompt_with_embedded_resource",
        description="A prompt embedding a resource",
        arguments=[types.PromptArgument(name="resourceUri", description="URI to embed", required=True)],
    ),
    types.Prompt(name="test_prompt_with_image", description="A prompt with an image"),
]
RESOURCE_NOT_FOUND = -32002  # the spec's code for an unknown resource URI
_TEMPLATE_URI = re.compile(r"^test://template/([^/]+)/data$")


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _result(*content: Any, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), is_error=is_error)


class _Fixture:
    def __init__(self) -> None:
        self.level = "debug"
        self.subscriptions: set[str] = set()
        self.cancelled = 0

    async def list_tools(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=TOOLS)

    async def call_tool(self, ctx: Ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        handler = self._tools().get(params.name)
        if handler is None:
            return _result(_text(f"Unknown tool {params.name!r}"), is_error=True)
        return await handler(ctx, params.arguments or {})

    def _tools(self) -> dict[str, Callable[[Ctx, dict[str, Any]], Awaitable[types.CallToolResult]]]:
        return {
            "test_simple_text": self._simple_text,
            "test_image_content": self._image,
            "test_audio_content": self._audio,
            "test_embedded_resource": self._embedded,
            "test_multiple_content_types": self._mixed,
            "test_tool_with_logging": self._logging,
            "test_tool_with_progress": self._progress,
            "test_error_handling": self._error,
            "test_sampling": self._sampling,
            "test_elicitation": self._elicitation,
            "test_elicitation_sep1034_defaults": self._defaults,
            "test_elicitation_sep1330_enums": self._enums,
            "test_reconnection": self._reconnection,
            "json_schema_2020_12_tool": self._schema_tool,
            "test_structured_output": self._structured,
            "test_notify_changes": self._notify_changes,
            "test_slow": self._slow,
            "test_cancelled_count": self._cancelled_count,
        }

    async def _simple_text(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return _result(_text("This is a simple text response for testing."))

    async def _image(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return _result(types.ImageContent(type="image", data=PNG, mime_type="image/png"))

    async def _audio(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return _result(types.AudioContent(type="audio", data=WAV, mime_type="audio/wav"))

    async def _embedded(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        resource = types.TextResourceContents(
            uri="test://embedded-resource",
            mime_type="text/plain",
            text="This is an embedded resource content.",
        )
        return _result(types.EmbeddedResource(type="resource", resource=resource))

    async def _mixed(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        resource = types.TextResourceContents(
            uri="test://mixed-content-resource",
            mime_type="application/json",
            text=json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
        )
        return _result(
            _text("Multiple content types test:"),
            types.ImageContent(type="image", data=PNG, mime_type="image/png"),
            types.EmbeddedResource(type="resource", resource=resource),
        )

    async def _log(self, ctx: Ctx, level: str, data: str) -> None:
        if LEVELS.index(level) >= LEVELS.index(self.level):
            await ctx.session.send_log_message(level, data, "conformance_fixture", ctx.request_id)  # type: ignore[arg-type]

    async def _logging(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        await self._log(ctx, "info", "Tool execution started")
        await anyio.sleep(0.05)  # the scenario asks for ~50 ms between messages
        await self._log(ctx, "info", "Tool processing data")
        await anyio.sleep(0.05)
        await self._log(ctx, "info", "Tool execution completed")
        return _result(_text("Tool with logging executed successfully"))

    async def _progress(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        for step in (0, 50, 100):
            await ctx.session.report_progress(step, 100)
            if step < 100:
                await anyio.sleep(0.05)
        return _result(_text("Tool with progress executed successfully"))

    async def _error(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return _result(_text("This tool intentionally returns an error for testing"), is_error=True)

    async def _sampling(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        if not ctx.session.check_client_capability(
            types.ClientCapabilities(sampling=types.SamplingCapability())
        ):
            return _result(_text("The client does not support sampling"), is_error=True)
        message = types.SamplingMessage(role="user", content=_text(str(args.get("prompt", ""))))
        answer = await ctx.session.create_message(
            [message], max_tokens=100, related_request_id=ctx.request_id
        )
        content = answer.content
        text = content.text if isinstance(content, types.TextContent) else str(content)
        return _result(_text(f"LLM response: {text}"))

    async def _elicit(self, ctx: Ctx, message: str, schema: dict[str, Any]) -> types.ElicitResult:
        return await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)  # type: ignore[arg-type]

    async def _elicitation(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        if not ctx.session.check_client_capability(
            types.ClientCapabilities(elicitation=types.ElicitationCapability())
        ):
            return _result(_text("The client does not support elicitation"), is_error=True)
        schema = {
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"},
            },
            "required": ["username", "email"],
        }
        answer = await self._elicit(ctx, str(args.get("message", "")), schema)
        return _result(_text(f"User response: action={answer.action}, content={json.dumps(answer.content)}"))

    async def _defaults(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        schema = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "User name", "default": "John Doe"},
                "age": {"type": "integer", "description": "User age", "default": 30},
                "score": {"type": "number", "description": "User score", "default": 95.5},
                "status": {
                    "type": "string",
                    "description": "User status",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active",
                },
                "verified": {"type": "boolean", "description": "Verification status", "default": True},
            },
            "required": [],
        }
        answer = await self._elicit(
            ctx, "Test client default value handling - please accept with defaults", schema
        )
        return _result(
            _text(f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content)}")
        )

    async def _enums(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        titled = [{"const": f"value{i}", "title": t} for i, t in enumerate(("First", "Second", "Third"), 1)]
        schema = {
            "type": "object",
            "properties": {
                "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                "titledSingle": {
                    "type": "string",
                    "oneOf": [{**o, "title": f"{o['title']} Option"} for o in titled],
                },
                "legacyEnum": {
                    "type": "string",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"],
                },
                "untitledMulti": {
                    "type": "array",
                    "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
                },
                "titledMulti": {
                    "type": "array",
                    "items": {"anyOf": [{**o, "title": f"{o['title']} Choice"} for o in titled]},
                },
            },
            "required": [],
        }
        answer = await self._elicit(ctx, "Test enum schema variants", schema)
        return _result(
            _text(f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content)}")
        )

    async def _reconnection(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        if ctx.close_sse_stream is not None:  # only over Streamable HTTP with an event store
            await ctx.close_sse_stream()
            await anyio.sleep(0.2)  # the client reconnects after the retry interval, then gets the answer
        return _result(_text("Reconnection test completed successfully"))

    async def _schema_tool(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return _result(_text(f"Received: {json.dumps(args, sort_keys=True)}"))

    async def _structured(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        total = float(args.get("a", 0)) + float(args.get("b", 0))
        return types.CallToolResult(
            content=[_text(json.dumps({"sum": total}))], structured_content={"sum": total}
        )

    async def _slow(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        await self._log(ctx, "warning", "slow call started")
        await ctx.session.report_progress(1, 2, "halfway")
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        return _result(_text("slow call done"))

    async def _cancelled_count(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        return types.CallToolResult(
            content=[_text(str(self.cancelled))], structured_content={"count": self.cancelled}
        )

    async def _notify_changes(self, ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
        if "test://watched-resource" in self.subscriptions:
            await ctx.session.send_resource_updated("test://watched-resource")
        await ctx.session.send_tool_list_changed()
        return _result(_text("notified"))

    async def list_resources(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=RESOURCES)

    async def list_templates(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)

    async def read_resource(
        self, ctx: Ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        contents: types.TextResourceContents | types.BlobResourceContents
        if uri == "test://static-text":
            contents = types.TextResourceContents(
                uri=uri, mime_type="text/plain", text="This is the content of the static text resource."
            )
        elif uri == "test://static-binary":
            contents = types.BlobResourceContents(uri=uri, mime_type="image/png", blob=PNG)
        elif uri == "test://watched-resource":
            contents = types.TextResourceContents(
                uri=uri, mime_type="text/plain", text="Watched resource content"
            )
        elif match := _TEMPLATE_URI.match(uri):
            data = {"id": match.group(1), "templateTest": True, "data": f"Data for ID: {match.group(1)}"}
            contents = types.TextResourceContents(
                uri=uri, mime_type="application/json", text=json.dumps(data, separators=(",", ":"))
            )
        else:
            from mcp.shared.exceptions import MCPError

            raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri}")
        return types.ReadResourceResult(contents=[contents])

    async def subscribe(self, ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        self.subscriptions.add(str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(self, ctx: Ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self.subscriptions.discard(str(params.uri))
        return types.EmptyResult()

    async def list_prompts(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=PROMPTS)

    async def get_prompt(self, ctx: Ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        args = params.arguments or {}
        user = "user"
        if params.name == "test_simple_prompt":
            messages = [types.PromptMessage(role=user, content=_text("This is a simple prompt for testing."))]
        elif params.name == "test_prompt_with_arguments":
            text = f"Prompt with arguments: arg1='{args.get('arg1', '')}', arg2='{args.get('arg2', '')}'"
            messages = [types.PromptMessage(role=user, content=_text(text))]
        elif params.name == "test_prompt_with_embedded_resource":
            resource = types.TextResourceContents(
                uri=args.get("resourceUri", "test://example"),
                mime_type="text/plain",
                text="Embedded resource content for testing.",
            )
            messages = [
                types.PromptMessage(
                    role=user, content=types.EmbeddedResource(type="resource", resource=resource)
                ),
                types.PromptMessage(role=user, content=_text("Please process the embedded resource above.")),
            ]
        elif params.name == "test_prompt_with_image":
            messages = [
                types.PromptMessage(
                    role=user, content=types.ImageContent(type="image", data=PNG, mime_type="image/png")
                ),
                types.PromptMessage(role=user, content=_text("Please analyze the image above.")),
            ]
        else:
            from mcp.shared.exceptions import MCPError

            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt {params.name!r}")
        return types.GetPromptResult(messages=messages)

    async def complete(self, ctx: Ctx, params: types.CompleteRequestParams) -> types.CompleteResult:
        choices = {"arg1": ["paris", "park", "party"], "arg2": ["world", "word"], "id": ["1", "2", "123"]}
        values = [v for v in choices.get(params.argument.name, []) if v.startswith(params.argument.value)]
        return types.CompleteResult(
            completion=types.Completion(values=values, total=len(values), has_more=False)
        )

    async def set_level(self, ctx: Ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
        self.level = params.level
        return types.EmptyResult()


class _Server(Server[Any]):
    """Announces listChanged for every list, as a server whose lists can change does."""

    def create_initialization_options(
        self, notification_options: NotificationOptions | None = None, *a: Any, **k: Any
    ):  # type: ignore[no-untyped-def]
        options = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        return super().create_initialization_options(notification_options or options, *a, **k)


class Settings(BaseModel):
    """Nothing to set: present so the portal can mount the fixture in-process (a module transport)."""


def build_server(settings: Settings | None = None) -> Server[Any]:
    fixture = _Fixture()
    return _Server(
        "conformance-fixture",
        version="1.0.0",
        on_list_tools=fixture.list_tools,
        on_call_tool=fixture.call_tool,
        on_list_resources=fixture.list_resources,
        on_list_resource_templates=fixture.list_templates,
        on_read_resource=fixture.read_resource,
        on_subscribe_resource=fixture.subscribe,
        on_unsubscribe_resource=fixture.unsubscribe,
        on_list_prompts=fixture.list_prompts,
        on_get_prompt=fixture.get_prompt,
        on_completion=fixture.complete,
        on_set_logging_level=fixture.set_level,
    )
