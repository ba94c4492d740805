"""Python binding timings for bench/bindings_bench.sh: ns per decision from a dict and from
a JSON string, over the inputs (JSON lines) cycled, in process CPU time (on a loaded machine
the time spent waiting for a core does not count)."""
import json
import sys
import time

import pave

bundle_path, inputs_path, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [l for l in open(inputs_path).read().splitlines() if l.strip()]
dicts = [json.loads(t) for t in texts]
b = pave.Bundle.open(bundle_path)
n = len(texts)
for form, items in (("json-string", texts), ("native", dicts)):
    for i in range(n):
        b.decide(items[i])
    decide = b.decide
    seq = [items[i % n] for i in range(iters)]
    t0 = time.process_time_ns()
    for x in seq:
        decide(x)
    t1 = time.process_time_ns()
    print(f"python {form} {(t1 - t0) / iters:.0f}")
# With the outcome and grants read (the lazy parse included).
seq = [texts[i % n] for i in range(iters)]
t0 = time.process_time_ns()
for x in seq:
    d = b.decide(x)
    d.grants
t1 = time.process_time_ns()
print(f"python json-string+parsed {(t1 - t0) / iters:.0f}")
