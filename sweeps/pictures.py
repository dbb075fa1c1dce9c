"""One picture per trial execution, where a picture says more than a number: the decision boundary of a
2-D classifier, the fitted curve of a regression, the test embedding (its first two principal axes), or
the reliability diagram of a multi-class model. Each an RGBA uint8 image (height, width, 4), drawn off-screen
at 72 dpi, which TensorBoard's image summary encodes once.

The decision boundary is drawn every trial of a 2-D binary sweep, so it is drawn cheaply: its frame (axes,
ticks and title, which are most of matplotlib's drawing time) once per dataset, and each trial's
probabilities, boundary and test points into the frame's pixels with NumPy."""

import functools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps

GRID = 120  # the decision boundary's model evaluations per axis
DPI = 72


def _image(figure):
    figure.set_dpi(DPI)
    figure.canvas.draw()
    image = np.array(figure.canvas.buffer_rgba())  # a copy: the buffer goes with the figure
    plt.close(figure)
    return image


@functools.lru_cache(maxsize=16)
def _boundary_frame(low, high):
    """The decision boundary's empty axes over [low, high] (x and y): (RGBA image, the plotting area's pixel
    rows and columns, inside the spines), drawn once per range."""
    figure, axis = plt.subplots(figsize=(4, 4), dpi=DPI)
    axis.set_xlim(low[0], high[0])
    axis.set_ylim(low[1], high[1])
    axis.set_title("P(class 1) and the 0.5 boundary")
    figure.canvas.draw()
    box = axis.get_window_extent()  # display pixels, origin bottom left
    image = _image(figure)
    height = image.shape[0]
    rows = (int(np.ceil(height - box.y1)) + 1, int(np.floor(height - box.y0)) - 1)
    columns = (int(np.ceil(box.x0)) + 1, int(np.floor(box.x1)) - 1)
    image.setflags(write=False)
    return image, rows, columns


def _bilinear(values, rows, columns):
    """`values` (GRID x GRID, row 0 at the bottom) resampled to rows x columns pixels (row 0 at the top)."""
    y = np.linspace(values.shape[0] - 1, 0, rows)  # the top pixel row is the grid's last row
    x = np.linspace(0, values.shape[1] - 1, columns)
    y0, x0 = np.minimum(y.astype(int), values.shape[0] - 2), np.minimum(x.astype(int), values.shape[1] - 2)
    wy, wx = (y - y0)[:, None], (x - x0)[None, :]
    top = values[y0][:, x0] * (1 - wx) + values[y0][:, x0 + 1] * wx
    bottom = values[y0 + 1][:, x0] * (1 - wx) + values[y0 + 1][:, x0 + 1] * wx
    return top * (1 - wy) + bottom * wy


def decision_boundary(data, predict):
    """P(class 1) over a GRID x GRID grid around the test points (0.3 beyond them), its 0.5 contour in black
    and the test points coloured by class, in a frame drawn once per dataset."""
    low = tuple(float(v) for v in data.x_test.min(axis=0) - 0.3)
    high = tuple(float(v) for v in data.x_test.max(axis=0) + 0.3)
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype("float32")
    p = 0.5 * (1 + np.tanh(0.5 * predict(grid).reshape(gx.shape).astype(np.float64)))
    frame, (top, bottom), (left, right) = _boundary_frame(low, high)
    image = frame.copy()
    area = _bilinear(p, bottom - top, right - left)
    colours = 0.6 * colormaps["RdBu_r"](area)[..., :3] + 0.4  # the colour map at 60% over white
    above = area >= 0.5
    edge = np.zeros_like(above)
    edge[:-1] |= above[:-1] != above[1:]
    edge[:, :-1] |= above[:, :-1] != above[:, 1:]
    colours[edge] = 0.0  # the 0.5 boundary, one pixel wide
    # The test points: 2 x 2 pixels each, in the colour map's colour of their class (0 blue, 1 red).
    x = (data.x_test[:, 0] - low[0]) / (high[0] - low[0]) * (right - left - 2)
    y = (high[1] - data.x_test[:, 1]) / (high[1] - low[1]) * (bottom - top - 2)
    point = colormaps["RdBu_r"]((np.asarray(data.y_test).reshape(-1) > 0).astype(np.float64))[:, :3]
    for dy in (0, 1):
        for dx in (0, 1):
            colours[y.astype(int) + dy, x.astype(int) + dx] = point
    image[top:bottom, left:right, :3] = np.round(255 * colours)
    return image


def fitted_curve(data, predict):
    order = np.argsort(data.x_test[:, 0])
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.scatter(data.x_train[:, 0], data.y_train, s=4, c="0.6", label="training targets")
    axis.plot(data.x_test[order, 0], data.y_test[order], "k--", label="clean target")
    axis.plot(data.x_test[order, 0], predict(data.x_test)[order, 0], "C3", label="model")
    axis.set_ylim(-2, 2)
    axis.legend(fontsize=7)
    return _image(figure)


def embedding_scatter(data, predict):
    z = predict(data.x_test)
    centred = z - z.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2] if z.shape[1] > 2 else np.eye(2)
    xy = centred @ axes.T
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.scatter(*xy.T, c=data.y_test, cmap="tab10", s=5, edgecolors="none")
    axis.set_title("test embedding, first two principal axes")
    return _image(figure)


def reliability(data, predict):
    z = predict(data.x_test).astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == data.y_test
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
    accuracy = [correct[which == b].mean() if np.any(which == b) else np.nan for b in range(10)]
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.bar(edges[:-1] + 0.05, accuracy, width=0.09, color="C0", label="accuracy")
    axis.plot([0, 1], [0, 1], "k--", label="calibrated")
    axis.set_xlabel("confidence")
    axis.legend(fontsize=7)
    return _image(figure)


def picture(data, predict):
    """The task's picture as an RGBA uint8 image (None for inputs a picture cannot show)."""
    if data.task == "binary" and data.x_test.shape[1] == 2:
        return decision_boundary(data, predict)
    if data.task == "regression" and data.x_test.shape[1] == 1:
        return fitted_curve(data, predict)
    if data.task == "embedding":
        return embedding_scatter(data, predict)
    if data.task == "multiclass":
        return reliability(data, predict)
    return None
