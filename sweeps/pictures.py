"""One picture per trial execution, where a picture says more than a number: the decision boundary of a
2-D classifier, the fitted curve of a regression, the test embedding (its first two principal axes), or
the reliability diagram of a multi-class model. PNG bytes, drawn off-screen."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    plt.close(figure)
    return buffer.getvalue()


def decision_boundary(data, predict):
    low, high = data.x_test.min(axis=0) - 0.3, data.x_test.max(axis=0) + 0.3
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 120), np.linspace(low[1], high[1], 120))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype("float32")
    p = 0.5 * (1 + np.tanh(0.5 * predict(grid).reshape(gx.shape)))
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    axis.contour(gx, gy, p, levels=[0.5], colors="k")
    axis.scatter(*data.x_test.T, c=data.y_test, cmap="RdBu_r", s=4, edgecolors="none")
    axis.set_title("P(class 1) and the 0.5 boundary")
    return _png(figure)


def fitted_curve(data, predict):
    order = np.argsort(data.x_test[:, 0])
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.scatter(data.x_train[:, 0], data.y_train, s=4, c="0.6", label="training targets")
    axis.plot(data.x_test[order, 0], data.y_test[order], "k--", label="clean target")
    axis.plot(data.x_test[order, 0], predict(data.x_test)[order, 0], "C3", label="model")
    axis.set_ylim(-2, 2)
    axis.legend(fontsize=7)
    return _png(figure)


def embedding_scatter(data, predict):
    z = predict(data.x_test)
    centred = z - z.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2] if z.shape[1] > 2 else np.eye(2)
    xy = centred @ axes.T
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.scatter(*xy.T, c=data.y_test, cmap="tab10", s=5, edgecolors="none")
    axis.set_title("test embedding, first two principal axes")
    return _png(figure)


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
    return _png(figure)


def picture(data, predict):
    """The task's picture as PNG bytes (None for inputs a picture cannot show)."""
    if data.task == "binary" and data.x_test.shape[1] == 2:
        return decision_boundary(data, predict)
    if data.task == "regression" and data.x_test.shape[1] == 1:
        return fitted_curve(data, predict)
    if data.task == "embedding":
        return embedding_scatter(data, predict)
    if data.task == "multiclass":
        return reliability(data, predict)
    return None
