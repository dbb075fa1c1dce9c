"""`.keras` files written by an older kerasloss load in a fresh process after `import kerasloss`.

tests/saved_models/ holds one file per family (every loss of the family compiled on it, with the layers and
models kerasloss defines), written by tests/generators/write_saved_models.py: five before the modules moved into
packages: the registered names find the classes wherever their modules now live.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.generators.write_saved_models import FAMILIES, FOLDER

ROOT = Path(__file__).resolve().parent.parent

_LOAD = """
import json, sys
import keras, numpy as np
import kerasloss
from tests.generators.write_saved_models import INPUT, _as_lists, losses_of

model = keras.models.load_model(sys.argv[1])
print(json.dumps({"predictions": _as_lists(model(INPUT)), "losses": losses_of(model)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_file_saved_by_an_earlier_version_loads_in_a_fresh_process(family):
    path = ROOT / FOLDER / f"{family}.keras"
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    expected = json.loads((ROOT / FOLDER / f"{family}.json").read_text())
    assert loaded["losses"] == expected["losses"]
    _assert_close(loaded["predictions"], expected["predictions"])


def _assert_close(actual, expected):
    import numpy as np

    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected)
        for name in expected:
            np.testing.assert_allclose(actual[name], expected[name], rtol=1e-6, atol=1e-6, err_msg=name)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def test_every_registered_loss_is_in_a_saved_file():
    import kerasloss.core.registry

    saved = set()
    for family in FAMILIES:
        losses = json.loads((ROOT / FOLDER / f"{family}.json").read_text())["losses"]
        saved |= {class_name for class_name, _ in losses.values()}
    assert {cls.__name__ for cls in kerasloss.core.registry.registered()} <= saved
