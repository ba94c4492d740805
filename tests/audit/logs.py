#!/usr/bin/env python3
"""A producer of decision log records (SPEC §10.1) independent of the code under test:
runs `pave eval BUNDLE -` over inputs and wraps each input and its decision into a record.

    records(pave, bundle, inputs, times, source="eval", client=None) -> list of JSON lines

`inputs` are dicts (or strings: lines that are not JSON, kept as {"raw": ...});
`times` the wall-clock times (datetime) of the records. Ids are UUIDv7-shaped: the
time in milliseconds, then a counter, so they are unique and time-ordered.
"""
import json
import subprocess

_counter = [0]


def uuid7(ms):
    _counter[0] += 1
    n = _counter[0]
    h = f"{ms:012x}"
    return f"{h[:8]}-{h[8:12]}-7{n >> 48 & 0xfff:03x}-{0x8000 | (n >> 32 & 0x3fff):04x}-{n & 0xffffffffffff:012x}"


def decide(pave, bundle, inputs):
    text = "\n".join(i if isinstance(i, str) else json.dumps(i) for i in inputs) + "\n"
    out = subprocess.run([pave, "eval", bundle, "-"], input=text, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == len(inputs), (len(lines), len(inputs))
    return [json.loads(l) for l in lines]


def records(pave, bundle, inputs, times, source="eval", client=None):
    out = []
    for inp, dec, t in zip(inputs, decide(pave, bundle, inputs), times):
        dec.pop("trace", None)
        ms = int(t.timestamp() * 1000)
        rec = {"log_version": 1, "id": uuid7(ms),
               "time": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z",
               "source": source, "client": client,
               "input": {"raw": inp[:4096]} if isinstance(inp, str) else inp,
               "decision": dec, "eval_ns": 700}
        out.append(json.dumps(rec, separators=(",", ":")))
    return out
