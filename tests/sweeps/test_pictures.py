"""The picture of a trial execution (`sweeps.pictures`): the plot each task gets (a 2-D classifier's decision
boundary, a 1-D regression's fitted curve, an embedding's scatter, a multi-class model's reliability diagram),
drawn as RGBA images of the figure's size, and none for inputs a picture cannot show."""

import numpy as np
import pytest

from sweeps import datasets, pictures


def _size(image):
    """(width, height) of an RGBA uint8 image."""
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4
    return image.shape[1], image.shape[0]


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


def test_the_decision_boundary_colours_each_side_and_draws_the_boundary_where_p_is_one_half():
    """Logits x0: P(class 1) > 0.5 right of x0 = 0 (red), < 0.5 left (blue), the boundary a black column at
    the pixel column of x0 = 0; the frame (axes, ticks, title) is drawn once per range and stays unchanged."""
    y = np.arange(60) % 2
    data = _data("binary", 2, y)
    data.x_test[:, 0] = np.where(y == 1, 0.5, -0.5) + 0.1 * data.x_test[:, 0]  # two columns of points
    image = pictures.picture(data, lambda x: 20 * x[:, :1])
    frame, (top, bottom), (left, right) = pictures._boundary_frame(
        tuple(float(v) for v in data.x_test.min(axis=0) - 0.3), tuple(float(v) for v in data.x_test.max(axis=0) + 0.3)
    )
    outside = np.ones(image.shape[:2], bool)
    outside[top:bottom, left:right] = False
    np.testing.assert_array_equal(image[outside], frame[outside])  # the frame is untouched
    middle = image[(top + bottom) // 2, left:right, :3].astype(int)
    red, blue = middle[-3], middle[2]  # the right and left edges of the plotting area
    assert red[0] > red[2] + 30 and blue[2] > blue[0] + 30
    low, high = data.x_test[:, 0].min() - 0.3, data.x_test[:, 0].max() + 0.3
    zero = round(-low / (high - low) * (right - left - 1))
    black = np.flatnonzero(middle.sum(axis=1) == 0)
    assert black.size and np.all(np.abs(black - zero) <= 2)


@pytest.mark.parametrize(
    ("task", "features", "outputs", "size"),
    [("regression", 1, 1, (360, 252)), ("embedding", 5, 4, (288, 288)), ("embedding", 2, 2, (288, 288)),
     ("multiclass", 3, 3, (288, 288))],
)  # fmt: skip
def test_each_picture_is_an_image_of_its_figures_size(task, features, outputs, size):
    data = _data(task, features, np.arange(60) % 3)
    assert _size(pictures.picture(data, _logits(outputs))) == size


def test_a_picture_reaches_tensorboard_as_the_same_pixels(tmp_path):
    """The image a trial writes (`tensorboard.Session.image`) reads back from the event file, decoded from
    its PNG, pixel for pixel."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from sweeps import tensorboard

    image = pictures.picture(_data("binary", 2, np.arange(60) % 2), lambda x: x[:, :1] - x[:, 1:])
    session = tensorboard.Session(str(tmp_path / "sweep"), str(tmp_path / "staging"), "run", {}, "toy", "0")
    session.image("picture", image, 3)
    session.commit()
    events = EventAccumulator(str(tmp_path / "sweep" / "run"), size_guidance={"tensors": 0}).Reload()
    (written,) = events.Tensors("picture")
    width, height, png = written.tensor_proto.string_val
    assert (int(width), int(height), written.step) == (288, 288, 3)
    np.testing.assert_array_equal(tf.io.decode_png(png, channels=4).numpy(), image)
