"""The picture of a trial execution (`sweeps.pictures`): the plot each task gets (a 2-D classifier's decision
boundary, a 1-D regression's fitted curve, an embedding's scatter, a multi-class model's reliability diagram),
drawn as PNG bytes of the figure's size, and none for inputs a picture cannot show."""

import struct

import numpy as np
import pytest

from sweeps import datasets, pictures

PNG = b"\x89PNG\r\n\x1a\n"


def _size(png):
    """(width, height) from a PNG's header."""
    assert png[:8] == PNG and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _data(task, features, y):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(y), features)).astype("float32")
    return datasets.Dataset("toy", task, x, y, x, y, "toy", classes=int(np.max(y)) + 1)


def _logits(outputs):
    weights = np.random.default_rng(1).normal(size=(outputs,))
    return lambda x: (x[:, :1] * weights).astype("float32")


@pytest.mark.parametrize(
    ("task", "features", "chosen"),
    [("binary", 2, "decision_boundary"), ("regression", 1, "fitted_curve"), ("embedding", 5, "embedding_scatter"),
     ("multiclass", 3, "reliability")],
)  # fmt: skip
def test_each_task_gets_its_own_picture(monkeypatch, task, features, chosen):
    for name in ("decision_boundary", "fitted_curve", "embedding_scatter", "reliability"):
        monkeypatch.setattr(pictures, name, lambda data, predict, name=name: name)
    assert pictures.picture(_data(task, features, np.arange(30) % 3 % 2), _logits(1)) == chosen


@pytest.mark.parametrize(("task", "features"), [("binary", 3), ("binary", 1), ("regression", 2)])
def test_inputs_a_picture_cannot_show_get_none(task, features):
    assert pictures.picture(_data(task, features, np.arange(30) % 2), _logits(1)) is None


def test_the_decision_boundary_is_drawn_from_the_model_on_a_grid_around_the_test_points():
    data = _data("binary", 2, np.arange(60) % 2)
    asked = []

    def predict(x):
        asked.append(x)
        return x[:, :1] - x[:, 1:]

    assert _size(pictures.picture(data, predict)) == (288, 288)  # 4 x 4 inches at 72 dpi
    (grid,) = asked
    assert grid.shape == (120 * 120, 2) and grid.dtype == np.float32
    np.testing.assert_allclose(grid.min(axis=0), data.x_test.min(axis=0) - 0.3, rtol=1e-6)
    np.testing.assert_allclose(grid.max(axis=0), data.x_test.max(axis=0) + 0.3, rtol=1e-6)


@pytest.mark.parametrize(
    ("task", "features", "outputs", "size"),
    [("regression", 1, 1, (360, 252)), ("embedding", 5, 4, (288, 288)), ("embedding", 2, 2, (288, 288)),
     ("multiclass", 3, 3, (288, 288))],
)  # fmt: skip
def test_each_picture_is_a_png_of_its_figures_size(task, features, outputs, size):
    data = _data(task, features, np.arange(60) % 3)
    assert _size(pictures.picture(data, _logits(outputs))) == size
