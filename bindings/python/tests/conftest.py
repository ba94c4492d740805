import json
import os

import pytest


@pytest.fixture(scope="session")
def manifest():
    path = os.environ.get("PAVE_BINDINGS_FIXTURES")
    if not path:
        pytest.fail("PAVE_BINDINGS_FIXTURES is not set: run bindings/testdata/prepare.py "
                    "(scripts/bindings-test.sh does) and point it at the output directory")
    with open(os.path.join(path, "manifest.json")) as f:
        return json.load(f)
