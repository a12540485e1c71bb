"""Exact, pickle-free wire format for the results the Serve backend returns.

JSON with tags: numpy arrays travel as raw bytes (base64) with dtype and shape, so float32
weights arrive bit for bit; Python floats use JSON's shortest round-trip repr (exact);
tuples, dicts with any keys, lmcore dataclasses and NamedTuples are tagged. Only classes defined in
`lmcore` modules are rebuilt, so a response can never name an arbitrary class.

    decode(encode(result)) == result   # number for number
"""
from __future__ import annotations

import base64
import dataclasses
import json
from importlib import import_module

import numpy as np

ALLOWED_PREFIX = "lmcore."


def to_wire(value: object) -> object:
    """A JSON-ready tree for `value` (dataclasses, numpy, tuples, dicts, lists, scalars)."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {"__nd__": base64.b64encode(array.tobytes()).decode("ascii"),
                "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return {"__np__": to_wire(np.asarray(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__dc__": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):  # a NamedTuple
        cls = type(value)
        return {"__nt__": f"{cls.__module__}:{cls.__qualname__}", "items": [to_wire(v) for v in value]}
    if isinstance(value, tuple):
        return {"__t__": [to_wire(v) for v in value]}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {"__d__": [[to_wire(k), to_wire(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} over the inference wire")


def _lmcore_class(path: str) -> type:
    module, _, name = path.partition(":")
    if not module.startswith(ALLOWED_PREFIX):
        raise ValueError(f"refusing to rebuild {path}: not an lmcore class")
    cls = import_module(module)
    for part in name.split("."):
        cls = getattr(cls, part)
    if not isinstance(cls, type):
        raise ValueError(f"{path} is not a class")
    return cls


def _dataclass(path: str) -> type:
    cls = _lmcore_class(path)
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"{path} is not a dataclass")
    return cls


def _named_tuple(path: str) -> type:
    cls = _lmcore_class(path)
    if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise ValueError(f"{path} is not a NamedTuple")
    return cls


def from_wire(tree: object) -> object:
    """The value `to_wire` encoded (frozen dataclasses rebuilt field by field)."""
    if isinstance(tree, list):
        return [from_wire(v) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__nd__" in tree:
        raw = base64.b64decode(tree["__nd__"])
        return np.frombuffer(raw, dtype=np.dtype(tree["dtype"])).reshape(tree["shape"]).copy()
    if "__np__" in tree:
        return from_wire(tree["__np__"])[()]
    if "__t__" in tree:
        return tuple(from_wire(v) for v in tree["__t__"])
    if "__nt__" in tree:
        return _named_tuple(tree["__nt__"])(*(from_wire(v) for v in tree["items"]))
    if "__d__" in tree:
        return {from_wire(k): from_wire(v) for k, v in tree["__d__"]}
    if "__dc__" in tree:
        cls = _dataclass(tree["__dc__"])
        obj = object.__new__(cls)
        for name, value in tree["fields"].items():
            object.__setattr__(obj, name, from_wire(value))
        return obj
    raise ValueError("unknown wire tag")


def dumps(value: object) -> bytes:
    """`value` as UTF-8 JSON bytes."""
    return json.dumps(to_wire(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> object:
    return from_wire(json.loads(data.decode("utf-8")))
