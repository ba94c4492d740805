"""Pave policy runtime for Python enforcement points.

    import pave
    bundle = pave.Bundle.open("acme.pvb", public_keys=[open("key.pub.pem").read()])
    d = bundle.decide({"type": "CloudRole", "principal": {...}, "request": {...},
                       "context": {"time": "2026-11-27T10:00:00Z"}})
    if d.decision == "allow": ...

A Bundle is immutable and thread-safe: share one between threads. Deciding releases the GIL.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native

__all__ = ["Bundle", "Decision", "BundleError", "version"]
__version__ = "0.1.0"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class BundleError(ValueError):
    """A bundle that does not load: bad signature, wrong key, corrupt or tampered bytes.
    The message is the runtime's."""


def version() -> str:
    """The runtime library's version."""
    return _native.version()


def _keys_text(public_keys: Optional[Sequence[Union[str, bytes, "os.PathLike[str]"]]]) -> Optional[str]:
    if public_keys is None:
        return None
    if isinstance(public_keys, (str, bytes)):
        public_keys = [public_keys]
    parts: List[str] = []
    for k in public_keys:
        if isinstance(k, bytes):
            parts.append(k.decode("utf-8"))
        elif isinstance(k, os.PathLike):
            with open(k, encoding="utf-8") as f:
                parts.append(f.read())
        else:
            parts.append(k)
    # No key at all is an error (the runtime rejects the empty text), never "unchecked".
    return "\n".join(parts)


class Decision:
    """One decision (SPEC §7.4). `decision` is "allow", "approval" or "deny"; the other
    attributes are read from the decision JSON (`raw`) the first time one is used."""

    __slots__ = ("raw", "decision", "_parsed")

    def __init__(self, raw: str) -> None:
        self.raw: str = raw
        # The JSON always starts with {"decision":"<outcome>"
        self.decision: str = raw[13:raw.index('"', 13)]
        self._parsed: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        """The whole decision as parsed JSON."""
        if self._parsed is None:
            self._parsed = json.loads(self.raw)
        return self._parsed

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    @property
    def request_type(self) -> Optional[str]:
        return self.to_dict().get("request_type")

    @property
    def rules(self) -> List[str]:
        return self.to_dict()["rules"]

    @property
    def deny_rules(self) -> List[str]:
        return self.to_dict()["deny_rules"]

    @property
    def exceptions(self) -> List[Dict[str, Any]]:
        return self.to_dict()["exceptions"]

    @property
    def approvals(self) -> List[Dict[str, Any]]:
        return self.to_dict()["approvals"]

    @property
    def grants(self) -> Dict[str, Any]:
        return self.to_dict()["grants"]

    @property
    def reasons(self) -> List[str]:
        return self.to_dict()["reasons"]

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return self.to_dict()["errors"]

    @property
    def bundle(self) -> Dict[str, Any]:
        return self.to_dict()["bundle"]

    @property
    def trace(self) -> Optional[List[Dict[str, Any]]]:
        return self.to_dict().get("trace")

    def __repr__(self) -> str:
        return f"Decision({self.decision!r}, raw={self.raw[:80]!r}...)"


class Bundle:
    """A loaded, verified policy bundle. Open with Bundle.open(); use as a context manager
    or call close(). Thread-safe; deciding on a closed bundle raises ValueError."""

    __slots__ = ("_native", "_info", "_lock", "__weakref__")

    def __init__(self, native: "_native.NativeBundle") -> None:
        self._native = native
        self._info: Optional[Dict[str, Any]] = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, source: Union[str, bytes, bytearray, memoryview, "os.PathLike[str]"],
             public_keys: Optional[Sequence[Union[str, bytes, "os.PathLike[str]"]]] = None) -> "Bundle":
        """Loads and verifies a bundle from a path or from its bytes.

        public_keys: PEM texts (str or bytes) or paths (os.PathLike) of Ed25519 public keys;
        the bundle must be signed by one of them (several keys: rotation). None: signatures
        are not checked. An empty list or a text without a key is an error.

        Raises FileNotFoundError (or OSError) when the file cannot be read and BundleError
        (a ValueError) when the bundle does not verify, with the runtime's message."""
        keys = _keys_text(public_keys)
        try:
            if isinstance(source, (bytes, bytearray, memoryview)):
                native = _native.NativeBundle.open_bytes(bytes(source), keys)
            else:
                native = _native.NativeBundle.open_file(os.fspath(source), keys)
        except _native.OpenError as e:
            msg = str(e)
            if not isinstance(source, (bytes, bytearray, memoryview)) and msg.startswith("cannot open "):
                path = os.fspath(source)  # type: ignore[arg-type]
                cls_ = FileNotFoundError if not os.path.exists(path) else OSError
                raise cls_(msg) from None
            raise BundleError(msg) from None
        return cls(native)

    def decide(self, input: Union[Mapping[str, Any], str, bytes], explain: bool = False) -> Decision:
        """Decides one input: a dict (serialized to JSON) or JSON text (str or bytes).
        Invalid input is not an exception: it yields a deny whose `errors` say why."""
        if not isinstance(input, (str, bytes)):
            input = _dumps(input)
        return Decision(self._native.decide(input, explain))

    @property
    def info(self) -> Dict[str, Any]:
        """digest, signed, signer_key, name, revision, compiler_version, sources_digest,
        rules (count), request_types, principal_types."""
        if self._info is None:
            self._info = json.loads(self._native.info())
        return self._info

    @property
    def digest(self) -> str:
        return self.info["digest"]

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        """Frees the bundle once running decisions finished; later decisions raise
        ValueError. Closing twice is harmless."""
        self._native.close()

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
