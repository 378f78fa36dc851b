"""Result dataclasses to JSON and back, generically (a stored release's payload).

`encode(value)` walks `dataclasses.fields` and turns a result object into JSON-ready
values; `decode(cls, data)` reads it back by the fields' type hints, so a field added
to reports/results.py is stored and restored with no change here. No pickle: a stored
release is plain JSON that any tool can read.

Supported hints: dataclasses, `tuple[X, ...]`, `tuple[X, Y]`, `list[X]`, `dict[K, V]`
(keys as text, restored by K), `X | None`, str, int, float, bool, `datetime.date`,
`datetime.datetime`, enums and `Any` (kept as JSON gives it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import json
import sys
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A result object (or any value of the supported hints) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a release")


def _key(key: Any) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise TypeError(f"cannot store a {type(key).__name__} dictionary key in a release")
    return str(key)


def decode(cls: type[T], data: Any) -> T:
    """The object of type `cls` that `encode` turned into `data`."""
    return _decode(cls, data)  # type: ignore[no-any-return]


def dumps(value: Any) -> str:
    """Canonical JSON text of a result object (sorted keys, no spaces): hash-stable."""
    return json.dumps(encode(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, vars(module))


def _decode(hint: Any, data: Any) -> Any:
    if hint is Any or hint is object:
        return data
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        if data is None:
            return None
        if len(arms) == 1:
            return _decode(arms[0], data)
        return _decode_union(arms, data)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is list:
        (arg,) = typing.get_args(hint)
        return [_decode(arg, v) for v in data]
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        return {_decode_key(key_hint, k): _decode(value_hint, v) for k, v in data.items()}
    if origin is typing.Literal:
        return data
    if isinstance(hint, type):
        return _decode_plain(hint, data)
    raise TypeError(f"cannot read a {hint!r} from a release")


def _decode_plain(hint: type, data: Any) -> Any:
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        fields = dataclasses.fields(hint)
        values = {f.name: _decode(hints[f.name], data[f.name]) for f in fields if f.name in data}
        made = hint(**{k: v for k, v in values.items()
                       if next(f for f in fields if f.name == k).init})
        for f in fields:  # fields outside __init__ (init=False) are set as stored
            if not f.init and f.name in values:
                object.__setattr__(made, f.name, values[f.name])
        return made
    if issubclass(hint, enum.Enum):
        return hint(data)
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(data)
    if hint is dt.date:
        return dt.date.fromisoformat(data)
    if hint is float:
        return float(data)
    if hint in (str, int, bool):
        if not isinstance(data, hint) or (hint is int and isinstance(data, bool)):
            raise TypeError(f"expected {hint.__name__} in a release, found {data!r}")
        return data
    raise TypeError(f"cannot read a {hint.__name__} from a release")


def _decode_union(arms: list[Any], data: Any) -> Any:
    """`int | str` and the like: the first arm that reads the value as it is."""
    for arm in arms:
        try:
            return _decode(arm, data)
        except (TypeError, ValueError, KeyError):
            continue
    raise TypeError(f"no type of {arms!r} reads {data!r}")


def _decode_key(hint: Any, key: str) -> Any:
    if hint is int:
        return int(key)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(_decode_key(type(next(iter(hint)).value), key))
    return key
