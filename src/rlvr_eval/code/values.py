"""Values a sandboxed program returned, decoded from the exact-type encoding of sandbox_stub.dump_value.

Decoding builds plain Python objects (never by eval or unpickling); a value of a type the encoding does not
carry becomes `Unsupported`, which equals nothing, so it can never match an expected output.
"""

from __future__ import annotations

import collections
from typing import Any


class Unsupported:
    """A returned object of a type outside the encoding (e.g. a regex match); equal to nothing."""

    def __init__(self, description: str):
        self.description = description

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<unsupported {self.description}>"


_PLAIN = {int, float, str, bool, type(None)}
_DICT_TYPES = {"Counter": collections.Counter, "OrderedDict": collections.OrderedDict,
               "defaultdict": collections.defaultdict}  # equality as in evalplus: Counter == dict by items


def decode(x: Any) -> Any:
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, list):
        if set(map(type, x)) <= _PLAIN:  # JSON gave these their exact types already
            return x
        return [decode(v) for v in x]
    if isinstance(x, dict) and len(x) == 1:
        (tag, v), = x.items()
        if tag == "tuple":
            return tuple(decode(e) for e in v)
        if tag == "set":
            return {decode(e) for e in v}
        if tag == "frozenset":
            return frozenset(decode(e) for e in v)
        if tag == "dict":
            return {decode(k): decode(e) for k, e in v}
        if tag in _DICT_TYPES:  # built from the items only: the program's own class never reaches the parent
            out = _DICT_TYPES[tag]()
            dict.update(out, ((decode(k), decode(e)) for k, e in v))
            return out
        if tag == "int":
            return int(v, 16)
        if tag == "float":
            return float(v)
        if tag == "bytes":
            return bytes.fromhex(v)
        if tag == "complex":
            return complex(decode(v[0]), decode(v[1]))
        if tag == "unsupported":
            return Unsupported(str(v))
    raise ValueError(f"not an encoded value: {str(x)[:100]}")
