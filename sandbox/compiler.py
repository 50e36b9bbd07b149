"""Turn model-written source into restricted code objects, or say why not.

Steps: parse (SyntaxError), measure nesting (CodeTooComplex), refuse the
constructs `policy.DENIED_SYNTAX` lists (RestrictedCode), refuse imports
outside the allowlist early (ForbiddenImport; the runtime `__import__` guard is
still the enforcement), split off a final expression for notebook semantics,
then compile both parts with RestrictedPython (RestrictedCode, with its
messages). Anything RestrictedPython does not know is denied by it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec

from sandbox import errors, policy
from sandbox.modules import forbidden_import_message
from sandbox.types import ErrorInfo


@dataclass(frozen=True)
class CompiledCode:
    """The statements to exec, and the final expression to eval (if any)."""

    body: CodeType
    final: CodeType | None


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus `a[k] += v` / `a.b += v` on simple targets.

    RestrictedPython refuses augmented assignment to items and attributes
    because the target would be evaluated twice. When the container is a plain
    name and the key a name or constant, evaluating twice has no side effects,
    so rewrite to `a[k] = a[k] + v`, which then passes the normal guards.
    """

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Subscript | ast.Attribute) and _is_simple(target):
            load = _as_load(target)
            assign = ast.Assign(targets=[target], value=ast.BinOp(left=load, op=node.op, right=node.value))
            ast.copy_location(assign, node)
            ast.fix_missing_locations(assign)
            return self.visit(assign)
        return super().visit_AugAssign(node)


def _is_simple(target: ast.Subscript | ast.Attribute) -> bool:
    if not isinstance(target.value, ast.Name):
        return False
    return isinstance(target, ast.Attribute) or isinstance(target.slice, ast.Name | ast.Constant)


def _as_load(target: ast.Subscript | ast.Attribute) -> ast.expr:
    value = ast.Name(id=target.value.id, ctx=ast.Load())  # type: ignore[attr-defined]
    if isinstance(target, ast.Attribute):
        load: ast.expr = ast.Attribute(value=value, attr=target.attr, ctx=ast.Load())
    else:
        load = ast.Subscript(value=value, slice=target.slice, ctx=ast.Load())
    return ast.copy_location(load, target)


# SyntaxError messages CPython gives for nesting, not for wrong syntax.
_NESTING_MESSAGES = (
    "too many nested",
    "too many statically nested",
    "too complex",
    "too many levels of indentation",
)


def compile_code(source: str, importable: Collection[str], max_depth: int = 100) -> CompiledCode | ErrorInfo:
    """Compile `source`; `importable` names the modules the import guard serves."""
    try:
        tree = ast.parse(source, filename=policy.CODE_FILENAME)
    except SyntaxError as exc:
        if any(text in str(exc.msg) for text in _NESTING_MESSAGES):
            return _too_complex(max_depth)
        return ErrorInfo(errors.SYNTAX_ERROR, _syntax_message(exc))
    except (RecursionError, MemoryError):
        return _too_complex(max_depth)
    except ValueError as exc:  # e.g. a NUL byte in the source
        return ErrorInfo(errors.SYNTAX_ERROR, f"The code cannot be parsed ({exc}): fix it.")
    if not _plainly_allowed(tree, importable, max_depth):
        # Something to refuse (or a walrus to judge in context): the detailed
        # checks find the first problem in their order and word it.
        if _depth(tree) > max_depth:
            return _too_complex(max_depth)
        refused = _denied_syntax(tree) or _forbidden_import(tree, importable)
        if refused is not None:
            return refused
    try:
        return _restrict(tree)
    except (RecursionError, MemoryError):
        return _too_complex(max_depth)


def _plainly_allowed(tree: ast.AST, importable: Collection[str], max_depth: int) -> bool:
    """One pass over the tree: True when the detailed checks below would all pass.

    False if the tree nests deeper than `max_depth` (counted as `_depth` does),
    holds a construct `policy.DENIED_SYNTAX` lists, a walrus (allowed or not
    depending on context), a class with keywords, or an import outside
    `importable`. A fast path only: a False sends the tree through the
    detailed checks, which decide and word the refusal.
    """
    denied = policy.DENIED_SYNTAX
    ast_type, list_type = ast.AST, list
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, level = pop()
        if level > max_depth:
            return False
        kind = type(node)
        if kind.__name__ in denied or kind is ast.NamedExpr:
            return False
        if kind is ast.ClassDef and node.keywords:  # type: ignore[attr-defined]
            return False
        if kind is ast.Import and any(alias.name not in importable for alias in node.names):  # type: ignore[attr-defined]
            return False
        if kind is ast.ImportFrom and (node.level or node.module not in importable):  # type: ignore[attr-defined]
            return False
        level += 1
        for field in kind._fields:
            value = getattr(node, field, None)
            if type(value) is list_type:
                for item in value:
                    if isinstance(item, ast_type):
                        push((item, level))
            elif isinstance(value, ast_type):
                push((value, level))
    return True


def _too_complex(max_depth: int) -> ErrorInfo:
    return ErrorInfo(
        errors.CODE_TOO_COMPLEX,
        f"The code nests deeper than the sandbox compiles ({max_depth} levels of blocks, "
        "brackets and expressions): split deep expressions into named steps or helper functions.",
    )


def _depth(tree: ast.AST) -> int:
    """Deepest nesting of the tree, without recursion (the tree may be deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _denied_syntax(tree: ast.AST) -> ErrorInfo | None:
    """The first construct the policy refuses, as RestrictedCode with its reason."""
    for node in ast.walk(tree):
        reason = policy.DENIED_SYNTAX.get(type(node).__name__)
        if reason is None:
            reason = _denied_in_context(node)
        if reason is not None:
            line = getattr(node, "lineno", None)
            where = f"Line {line}: " if line else ""
            return ErrorInfo(
                errors.RESTRICTED_CODE, f"{where}The sandbox does not allow this code: {reason}."
            )
    return None


def _denied_in_context(node: ast.AST) -> str | None:
    comprehensions = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    in_comprehension = policy.DENY_WALRUS_IN_COMPREHENSIONS and isinstance(node, comprehensions)
    if in_comprehension and any(isinstance(inner, ast.NamedExpr) for inner in ast.walk(node)):
        return "`:=` inside a comprehension is not supported; assign in a plain loop"
    if policy.DENY_CLASS_KEYWORDS and isinstance(node, ast.ClassDef) and node.keywords:
        return "class keywords (metaclass=...) are not supported; use a plain class"
    return None


def _syntax_message(exc: SyntaxError) -> str:
    where = f"Line {exc.lineno}: " if exc.lineno else ""
    text = f" in `{exc.text.strip()}`" if exc.text and exc.text.strip() else ""
    return f"{where}{exc.msg}{text}. Fix the syntax and run the code again."


def _forbidden_import(tree: ast.Module, importable: Collection[str]) -> ErrorInfo | None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            names = ["." * node.level + (node.module or "")]
        for name in names:
            if name not in importable:
                message = f"Line {node.lineno}: {forbidden_import_message(name)}"
                return ErrorInfo(errors.FORBIDDEN_IMPORT, message)
    return None


def _restrict(tree: ast.Module) -> CompiledCode | ErrorInfo:
    final_expr = None
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body.pop()
        final_expr = ast.Expression(body=last.value)
    body = compile_restricted_exec(tree, filename=policy.CODE_FILENAME, policy=SandboxTransformer)
    problems = list(body.errors)
    final = None
    if final_expr is not None:
        result = compile_restricted_eval(final_expr, filename=policy.CODE_FILENAME, policy=SandboxTransformer)
        problems.extend(result.errors)
        final = result.code
    if problems or body.code is None:
        return ErrorInfo(errors.RESTRICTED_CODE, _restricted_message(problems))
    return CompiledCode(body=body.code, final=final)


def _restricted_message(problems: list[str]) -> str:
    listed = "; ".join(problem.rstrip(".") for problem in problems) or "the code could not be compiled"
    hints = [hint for name, hint in _DUNDER_HINTS.items() if any(f'"{name}"' in p for p in problems)]
    return (
        f"The sandbox does not allow this code: {listed}. "
        "Rewrite those parts (no names starting with '_', no exec/eval, no async, no global/nonlocal)."
        + "".join(f" {hint}" for hint in hints)
    )


# The dunder attributes models reach for most, and what to write instead.
_DUNDER_HINTS = {
    "__name__": "For a value's type, test it with isinstance(x, str) or type(x) is str.",
    "__class__": "For a value's type, use type(x) or isinstance(x, ...).",
    "__dict__": "For an object's fields, return a dict you build, e.g. {'a': obj.a}.",
}
