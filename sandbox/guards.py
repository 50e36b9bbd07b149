"""The runtime guards RestrictedPython's compiled code calls.

RestrictedPython rewrites `a.b` to `_getattr_(a, "b")`, `a.b = v` to
`_write_(a).b = v`, `x += y` to `x = _inplacevar_("+=", x, y)`, and so on.
These functions are the checks behind those hooks; `sandbox.environment`
installs them. Denials raise ForbiddenAttributeError (an AttributeError, so
ordinary `except AttributeError` still works) reported as ForbiddenAttribute.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Final

from sandbox import policy


class ForbiddenAttributeError(AttributeError):
    """An attribute read or write the sandbox denies."""


class UserClass(type):
    """Metaclass of every class the code defines, so the write guard can tell
    the code's own objects (writable) from everything else (read-only)."""


# Builtin containers the code may mutate in place.
_WRITABLE_TYPES: Final = frozenset({dict, list, set, bytearray})

_MISSING: Final = object()

_INPLACE: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def exact_name(name: Any) -> str:
    """`name` as an exact str: a str subclass could lie in startswith/__eq__/__hash__."""
    if type(name) is str:
        return name
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    return str.__str__(name)  # an exact copy, whatever the subclass overrides


def check_attribute_name(obj: Any, name: Any) -> None:
    """Raise unless code may touch attribute `name` of `obj` (call with an exact str)."""
    if type(name) is not str:
        raise TypeError("attribute name must be an exact str")
    if name.startswith("_"):
        raise ForbiddenAttributeError(
            f"Attribute '{name}' is not accessible in the sandbox: names starting with '_' are private. "
            "Use the object's public attributes and methods."
        )
    if name in policy.FORBIDDEN_ATTRIBUTES:
        raise ForbiddenAttributeError(
            f"Attribute '{name}' is not accessible in the sandbox. "
            "For strings use f-strings or %-formatting instead of .format()."
        )


def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """`_getattr_` and the code's `getattr` builtin."""
    name = exact_name(name)
    check_attribute_name(obj, name)
    if default is _MISSING:
        return getattr(obj, name)
    return getattr(obj, name, default)


def guarded_hasattr(obj: Any, name: str) -> bool:
    """`hasattr` that reports denied attributes as absent."""
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_type(*args: Any) -> type:
    """``type(x)``: the class of a value, never the metaclass and never a new class (policy.py)."""
    if len(args) != 1:
        raise TypeError(
            "type() takes exactly one argument in the sandbox (the value whose type you want); "
            "to make a class, write a `class Name:` statement"
        )
    found = type(args[0])
    if issubclass(found, type):
        raise TypeError("type() of a class is not available in the sandbox: compare classes directly")
    return found


def is_writable(obj: Any) -> bool:
    """Builtin containers, and classes (and their instances) defined by the code."""
    return type(obj) in _WRITABLE_TYPES or isinstance(obj, UserClass) or isinstance(type(obj), UserClass)


def guarded_write(obj: Any) -> Any:
    """`_write_`: the target of an attribute or item assignment/deletion."""
    if is_writable(obj):
        return obj
    raise ForbiddenAttributeError(
        f"Objects of type '{type(obj).__name__}' cannot be modified in the sandbox. "
        "Copy the data into a dict or list, or a class defined in your code, and change that."
    )


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    """The code's `setattr` builtin."""
    name = exact_name(name)
    check_attribute_name(obj, name)
    setattr(guarded_write(obj), name, value)


def guarded_delattr(obj: Any, name: str) -> None:
    """The code's `delattr` builtin."""
    name = exact_name(name)
    check_attribute_name(obj, name)
    delattr(guarded_write(obj), name)


def inplace(op: str, target: Any, value: Any) -> Any:
    """`_inplacevar_`: `x op= y` on a plain name."""
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise ForbiddenAttributeError(f"operator {op} is not supported in the sandbox") from None


def apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`_apply_`: calls written with *args or **kwargs."""
    return func(*args, **kwargs)


def getitem(obj: Any, key: Any) -> Any:
    """`_getitem_`: item access is safe because it cannot reach `_` attributes."""
    return obj[key]
