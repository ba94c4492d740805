"""Loading (signatures, errors), bundle info, threads and closing."""
import json
import os
import pathlib
import threading

import pytest

import pave


def signed_inputs(manifest):
    s = manifest["signed"]
    return [open(p).read() for p in s["inputs"]], open(s["expected"]).read().splitlines()


def test_signed_bundle_with_right_key_loads_and_decides(manifest):
    s = manifest["signed"]
    key = open(s["key"]).read()
    inputs, expected = signed_inputs(manifest)
    with pave.Bundle.open(s["bundle"], public_keys=[key]) as b:
        assert [b.decide(i).raw for i in inputs] == expected
        assert b.info["signed"] is True
        assert b.info["signer_key"].startswith("sha256:")
        assert b.digest == json.loads(expected[0])["bundle"]["digest"]
        assert b.info["rules"] > 0 and "acme.CloudRole" in b.info["request_types"]


def test_key_rotation_and_key_forms(manifest):
    s = manifest["signed"]
    for keys in ([open(s["rotation"]).read()],                         # one text, two keys
                 [open(s["other_key"]).read(), open(s["key"]).read()],  # a list
                 [pathlib.Path(s["key"])],                              # a path
                 [open(s["key"], "rb").read()]):                        # bytes
        pave.Bundle.open(s["bundle"], public_keys=keys).close()


def test_wrong_key_raises_bundle_error(manifest):
    s = manifest["signed"]
    with pytest.raises(pave.BundleError, match="signature verification failed"):
        pave.Bundle.open(s["bundle"], public_keys=[open(s["other_key"]).read()])
    assert issubclass(pave.BundleError, ValueError)


def test_tampered_bytes_raise_bundle_error(manifest):
    s = manifest["signed"]
    key = open(s["key"]).read()
    with pytest.raises(pave.BundleError, match="digest mismatch"):
        pave.Bundle.open(s["tampered"], public_keys=[key])
    with pytest.raises(pave.BundleError, match="digest mismatch"):
        pave.Bundle.open(open(s["tampered"], "rb").read(), public_keys=[key])
    with pytest.raises(pave.BundleError):
        pave.Bundle.open(b"not a bundle")


def test_missing_file_raises_file_not_found(tmp_path):
    missing = tmp_path / "missing.pvb"
    with pytest.raises(FileNotFoundError, match="cannot open .*missing.pvb"):
        pave.Bundle.open(missing)


def test_no_key_is_an_error_not_unchecked(manifest):
    s = manifest["signed"]
    with pytest.raises(pave.BundleError):
        pave.Bundle.open(s["bundle"], public_keys=[])
    with pytest.raises(pave.BundleError):
        pave.Bundle.open(s["bundle"], public_keys=[""])
    b = pave.Bundle.open(s["bundle"])  # None: not checked
    assert b.info["signer_key"] is None
    b.close()


def test_invalid_input_is_a_deny_not_an_exception(manifest):
    with pave.Bundle.open(manifest["signed"]["bundle"]) as b:
        d = b.decide("{not json")
        assert d.decision == "deny"
        assert d.errors and d.errors[0]["code"] == "malformed-json"
        assert b.decide([1, 2]).errors  # JSON, but not an input object: a deny
        with pytest.raises(TypeError):
            b.decide({"type": object()})  # not JSON-serializable


def test_explain_adds_a_trace(manifest):
    inputs, _ = signed_inputs(manifest)
    with pave.Bundle.open(manifest["signed"]["bundle"]) as b:
        assert b.decide(inputs[0]).trace is None
        assert b.decide(inputs[0], explain=True).trace


def test_eight_threads_give_the_same_results_as_one(manifest):
    work = []
    for c in manifest["cases"]:
        spec = json.load(open(c["case"]))
        work += [(c, d["input"]) for d in spec["decisions"]]
    bundles = {c["name"]: pave.Bundle.open(c["bundle"]) for c in manifest["cases"]}
    single = [bundles[c["name"]].decide(i, explain=c["explain"]).raw for c, i in work]
    results = [None] * 8
    errors = []

    def worker(n):
        try:
            out = []
            for _ in range(20):
                out.append([bundles[c["name"]].decide(i, explain=c["explain"]).raw for c, i in work])
            results[n] = out
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        assert r is not None and all(run == single for run in r)
    for b in bundles.values():
        b.close()


def test_closing_idle_bundle_and_using_it_after(manifest):
    inputs, expected = signed_inputs(manifest)
    b = pave.Bundle.open(manifest["signed"]["bundle"])
    assert b.decide(inputs[0]).raw == expected[0]
    b.close()
    assert b.closed
    b.close()  # twice: harmless
    with pytest.raises(ValueError, match="closed"):
        b.decide(inputs[0])
    with pytest.raises(ValueError, match="closed"):
        b.info


def test_close_while_threads_decide_never_crashes(manifest):
    inputs, expected = signed_inputs(manifest)
    b = pave.Bundle.open(manifest["signed"]["bundle"])
    outcomes = []

    def worker():
        while True:
            try:
                assert b.decide(inputs[0]).raw == expected[0]
            except ValueError:
                outcomes.append("closed")
                return

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    b.decide(inputs[0])
    b.close()
    for t in threads:
        t.join()
    assert outcomes == ["closed"] * 8


def test_version_and_typing_files():
    assert pave.version() == pave.__version__
    pkg = os.path.dirname(pave.__file__)
    assert os.path.exists(os.path.join(pkg, "py.typed"))
    assert os.path.exists(os.path.join(pkg, "_native.pyi"))
