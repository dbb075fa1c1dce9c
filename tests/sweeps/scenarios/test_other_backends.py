"""The proxy-loss and two-view sweeps' trials on the JAX and PyTorch backends: a proxy loss's model (the encoder, then
`kerasloss.CosineProxies`) and a two-view loss's (the encoder on each view) are plain functional Keras
models, trained by fit on the harness's tf.data batches and measured through keras.ops on each backend."""

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.sweeps.support import ROOT

TRIALS = (
    ("arcface_cosface_digits", {"loss": "ArcFace", "scale": 4.0, "margin": 0.35}),
    ("arcface_cosface_digits", {"loss": "CosFace", "scale": 4.0, "margin": 0.35}),
    ("self_supervised_digits", {"loss": "BarlowTwins", "redundancy_weight": 1.0}),
    ("self_supervised_digits", {"loss": "VICReg", "invariance": 5.0}),
)
ON_A_BACKEND = """
import keras, numpy as np
from sweeps import sources, hypermodel, spec as specs
for name, values in {trials!r}:
    spec = specs.load(name)
    built = hypermodel.build(spec, values, 1, sources.load(spec.data_source))
    history = built.model.fit(built.train, epochs=1, verbose=0, shuffle=False)
    metrics = built.evaluate()
    assert np.isfinite(history.history["loss"][0]) and 0 < metrics["val_recall_at_1"] <= 1, (values, history.history)
    embedding = built.predict(built.dataset.x_test[:5])
    print(keras.backend.backend(), values["loss"], built.model.output_shape[1:], embedding.shape)
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_proxy_and_two_view_trials_train_and_are_measured_on_the_other_backends(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (make test-backends installs it)")
    env = {**os.environ, "KERAS_BACKEND": backend}
    code = ON_A_BACKEND.format(trials=TRIALS)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        f"{backend} ArcFace (10,) (5, 16)",
        f"{backend} CosFace (10,) (5, 16)",
        f"{backend} BarlowTwins (2, 16) (5, 16)",
        f"{backend} VICReg (2, 16) (5, 16)",
    ]
