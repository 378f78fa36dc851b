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
from collections.abc import Callable
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
    return _decoder(cls)(data)  # type: ignore[no-any-return]


def dumps(value: Any) -> str:
    """Canonical JSON text of a result object (sorted keys, no spaces): hash-stable."""
    return json.dumps(encode(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, vars(module))


def _decode(hint: Any, data: Any) -> Any:
    return _decoder(hint)(data)


@functools.cache
def _decoder(hint: Any) -> Callable[[Any], Any]:
    """A function reading JSON data as `hint`, built once per type (hot path of a read)."""
    if hint is Any or hint is object:
        return _same
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(arms) == 1:
            inner = _decoder(arms[0])
            return lambda data: None if data is None else inner(data)
        return lambda data: None if data is None else _decode_union(arms, data)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(v) for v in data)
        parts = [_decoder(a) for a in args]
        return lambda data: tuple(f(v) for f, v in zip(parts, data, strict=True))
    if origin is list:
        (arg,) = typing.get_args(hint)
        item = _decoder(arg)
        return lambda data: [item(v) for v in data]
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        value = _decoder(value_hint)
        return lambda data: {_decode_key(key_hint, k): value(v) for k, v in data.items()}
    if origin is typing.Literal:
        return _same
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _dataclass_decoder(hint)
        return functools.partial(_decode_plain, hint)
    raise TypeError(f"cannot read a {hint!r} from a release")


def _same(data: Any) -> Any:
    return data


def _dataclass_decoder(cls: type) -> Callable[[Any], Any]:
    hints = _hints(cls)
    fields = dataclasses.fields(cls)
    readers = [(f.name, f.init, _decoder(hints[f.name])) for f in fields]
    late = any(not init for _, init, _ in readers)

    def read(data: Any) -> Any:
        values = {name: reader(data[name]) for name, init, reader in readers
                  if name in data and init}
        made = cls(**values)
        if late:  # fields outside __init__ (init=False) are set as stored
            for name, init, reader in readers:
                if not init and name in data:
                    object.__setattr__(made, name, reader(data[name]))
        return made

    return read


def _decode_plain(hint: type, data: Any) -> Any:
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
