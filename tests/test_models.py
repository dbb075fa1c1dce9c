"""Every loss inside real models: saved to `.keras` and reloaded in a fresh process without
`custom_objects` (safe_mode=True) where it keeps training, and trained under mixed precision."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tests.backend import numpy
from tests.cases import CASES

FEATURES = 4


def _model(case, y_pred):
    """A small network whose output has y_pred's shape: (batch, units) or (batch, views, dim)."""
    layers = [keras.Input((FEATURES,)), keras.layers.Dense(8, activation="relu")]
    layers.append(keras.layers.Dense(int(np.prod(y_pred.shape[1:])), activation=case.activation))
    if y_pred.ndim > 2:
        layers.append(keras.layers.Reshape(y_pred.shape[1:]))
    return keras.Sequential(layers)


def _data(case, seed=0):
    y_true, y_pred = case.data(np.random.default_rng(seed))
    x = np.random.default_rng(seed + 1).normal(size=(len(y_pred), FEATURES)).astype("float32")
    return x, y_true, y_pred


# The save-and-reload test runs its cases in shards, a fresh process each, and the mixed-precision test one
# case at a time, so that pytest-xdist spreads them over its processes (each compiles a model per case).
SHARDS = 4


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_loss_survives_save_and_load_in_a_fresh_process(tmp_path, shard):
    manifest = {}
    for case in CASES[shard::SHARDS]:
        x, y_true, y_pred = _data(case)
        keras.utils.set_random_seed(0)
        model = _model(case, y_pred)
        model.compile(optimizer="adam", loss=case.make(name=f"loss_{case.id}".replace("-", "_")))
        model.fit(x, y_true, epochs=1, verbose=0)
        model.save(tmp_path / f"{case.id}.keras")
        np.save(tmp_path / f"{case.id}-x.npy", x)
        np.save(tmp_path / f"{case.id}-y.npy", y_true)
        manifest[case.id] = {
            "class": case.cls.__name__,
            "config": model.loss.get_config(),
            "loss": float(numpy(model.evaluate(x, y_true, verbose=0))),
        }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    script = textwrap.dedent(
        f"""
        import json, keras, numpy as np
        import kerasloss
        d = {str(tmp_path)!r}
        manifest = json.load(open(d + "/manifest.json"))
        for case_id, expected in manifest.items():
            model = keras.models.load_model(d + f"/{{case_id}}.keras", safe_mode=True)
            assert type(model.loss).__name__ == expected["class"], (case_id, model.loss)
            assert model.loss.get_config() == expected["config"], (case_id, model.loss.get_config())
            x, y = np.load(d + f"/{{case_id}}-x.npy"), np.load(d + f"/{{case_id}}-y.npy")
            before = model.evaluate(x, y, verbose=0)
            np.testing.assert_allclose(before, expected["loss"], rtol=1e-5)
            after = model.fit(x, y, epochs=3, verbose=0).history["loss"][-1]
            assert np.isfinite(after), case_id
            print("OK", case_id)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    reloaded = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("OK ")}
    assert reloaded == set(manifest), result.stderr[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_loss_trains_finite_under_mixed_precision(case, policy):
    keras.mixed_precision.set_global_policy(policy)
    x, y_true, y_pred = _data(case, seed=3)
    keras.utils.set_random_seed(0)
    model = _model(case, y_pred)
    assert model.layers[-1].compute_dtype == policy.split("_")[1]
    model.compile(optimizer="adam", loss=case.make())
    losses = model.fit(x, y_true, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert all(np.all(np.isfinite(numpy(w))) for w in model.trainable_weights)
