"""Class proxies: a trainable layer of L2-normalized class vectors whose output, the cosine of each
embedding with each class, is what the proxy and margin losses take as `y_pred`.

A `keras.losses.Loss` cannot train a variable (`fit` updates only the model's), so the proxies live in
`CosineProxies`, last in the training model; the embedding model before it is used alone at inference.
The losses over its cosines: `ProxyAnchor` and `ProxyNCA` here, `ArcFace` and `CosFace` in margins.py.
"""

import keras
from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import hyperparameters, integer, non_negative, positive
from kerasloss.core.inputs import sparse_ids, valid_class_ids
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import PACKAGE, register
from kerasloss.metric_learning.pairwise import accurate_matmul, l2_normalize, log_one_plus_sum_exp

__all__ = ["CosineProxies", "ProxyAnchor", "ProxyNCA", "proxy_anchor", "proxy_nca"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class CosineProxies(keras.layers.Layer):
    """Trainable class proxies; outputs the cosine of each embedding with each class's proxy.

    Holds `num_classes x sub_centers` proxy vectors, L2-normalizes them and the input embeddings, and
    returns their cosine similarities, shape `(batch, num_classes)`. With `sub_centers = K > 1` each class
    has K proxies and its cosine is the largest of the K (sub-center ArcFace, Deng et al. 2020): a class
    with several modes, or noisy labels, need not pull all its examples to one point. The proxy matrix
    `proxies` has shape `(dim, num_classes * K)`, class c's sub-centers in columns c K ... c K + K - 1
    (pytorch-metric-learning's `W` layout with K = 1).

    Put it last in the training model and give its output to `ArcFace`, `CosFace`, `ProxyAnchor` or
    `ProxyNCA` with integer labels; `fit` trains the proxies with the network. The embedding model without
    this layer is the one to use at inference. The layer's dtype is float32 unless given (so under a
    mixed policy too): a float16 cosine is 1e-3 off, 0.06 of a logit at ArcFace's scale of 64.

    Args:
        num_classes: The number of classes C, an integer >= 1.
        sub_centers: Proxies per class K, an integer >= 1. Defaults to `1`.
        initializer: The proxies' initializer. Defaults to `"glorot_normal"`.
        **kwargs: Other `keras.layers.Layer` arguments, e.g. `name`.

    Call arguments:
        inputs: Embeddings of shape `(batch, dim)`.

    Returns:
        Cosines of shape `(batch, num_classes)`, float32.

    References:
        Deng, Guo, Xue & Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
        CVPR 2019. https://arxiv.org/abs/1801.07698
        Deng, Guo, Liu, Lu & Zafeiriou, "Sub-center ArcFace", ECCV 2020.
        https://doi.org/10.1007/978-3-030-58621-8_43

    Example:

    >>> encoder = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model = keras.Sequential([encoder, kerasloss.CosineProxies(num_classes=3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.ArcFace(scale=16.0, margin=0.3))
    >>> x, y = np.random.default_rng(0).normal(size=(32, 8)), np.arange(32) % 3
    >>> history = model.fit(x, y, epochs=1, verbose=0)
    >>> tuple(model(x[:2]).shape)  # cosines with the 3 classes; encoder(x) is the embedding
    (2, 3)
    """

    def __init__(self, num_classes, sub_centers=1, initializer="glorot_normal", **kwargs):
        # float32 unless a dtype is given: under a mixed policy Keras would hand call() float16 proxies.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for argument, value in (("num_classes", num_classes), ("sub_centers", sub_centers)):
            value = integer(argument, value)
            if value < 1:
                raise invalid_argument(argument, "an integer >= 1", value)
        self.num_classes = int(num_classes)
        self.sub_centers = int(sub_centers)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"CosineProxies expects embeddings of shape (batch, dim). Received: input_shape={tuple(input_shape)}"
            )
        self.proxies = self.add_weight(
            shape=(input_shape[-1], self.num_classes * self.sub_centers),
            initializer=self.initializer,
            dtype="float32",
            name="proxies",
        )

    def call(self, inputs):
        embeddings = l2_normalize(ops.cast(inputs, "float32"))
        proxies = _unit_columns(ops.cast(self.proxies, "float32"))  # (dim, C K)
        cosines = accurate_matmul(embeddings, proxies)
        if self.sub_centers == 1:
            return cosines
        return ops.max(ops.reshape(cosines, (-1, self.num_classes, self.sub_centers)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.num_classes)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((*inputs.shape[:-1], self.num_classes), dtype="float32")

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "sub_centers": self.sub_centers,
            "initializer": keras.initializers.serialize(self.initializer),
        }


def _unit_columns(proxies):
    """The proxy matrix's columns at unit length, a zero column left zero. Unlike `l2_normalize`, which first
    divides by the largest magnitude (against float16 overflow and the underflow of tiny vectors) and so
    holds that scaled copy of the whole (dim, classes) matrix for the gradient, the squares are summed from
    the float32 variable itself: the gradient needs only the variable and the result, one (dim, classes)
    matrix fewer held through the step (measured in `make bench`, suite arcface). Proxies are float32
    variables at an initializer's scale, far from float32's overflow (1.8e19) and underflow (1e-19)."""
    squared = ops.sum(ops.square(proxies), axis=0, keepdims=True)
    return proxies * ops.rsqrt(ops.where(squared > 0, squared, 1.0))


def cosines_and_labels(y_true, y_pred, loss_name):
    """(cosines (B, C) in their dtype, int32 labels (B,), in_range (B,)): y_pred must be the (batch,
    num_classes) output of `CosineProxies` (or any cosines), y_true one class id per row."""
    if len(y_pred.shape) != 2:
        raise ValueError(
            f"{loss_name} expects y_pred of shape (batch, num_classes): the cosines of kerasloss.CosineProxies. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels = sparse_ids(y_true, y_pred, loss_name)
    classes = y_pred.shape[-1] if y_pred.shape[-1] is not None else ops.shape(y_pred)[-1]
    return y_pred, labels, valid_class_ids(labels, classes, loss_name)


@hyperparameters(alpha=positive, delta=non_negative)
@computed_in_float32
def proxy_anchor(y_true, y_pred, *, alpha: float = 32.0, delta: float = 0.1):
    r"""Proxy-anchor loss (Kim et al. 2020, eq. 4), from the cosines $s(x, p)$ of embeddings and proxies:

    $$
    \begin{split}
    \mathrm{loss} &= \frac{1}{\lvert P^{+} \rvert} \sum_{p \in P^{+}}
    \log\Bigl(1 + \sum_{x \in X_p^{+}} e^{-\alpha (s(x, p) - \delta)}\Bigr) \\
    &\quad + \frac{1}{\lvert P \rvert} \sum_{p \in P}
    \log\Bigl(1 + \sum_{x \in X_p^{-}} e^{\alpha (s(x, p) + \delta)}\Bigr)
    \end{split}
    $$

    $P$ all $C$ proxies, $P^{+}$ those with an example of their class in the batch, $X_p^{+}$ / $X_p^{-}$ the
    batch's examples of $p$'s class / of other classes, $\alpha$ = alpha and $\delta$ = delta:
    pytorch-metric-learning 2.9's `ProxyAnchorLoss(margin=delta, alpha)`. The loss is the batch's, not a sum over
    examples (each proxy's log-sum-exp runs over the batch): every example carries the batch's value, so Keras' mean
    is the loss itself.

    Args:
        alpha: the scale, > 0. Defaults to 32.0.
        delta: the margin, >= 0. Defaults to 0.1.

    Returns:
        The batch's loss repeated per example, shape `(batch,)`.

    References:
        Kim, Kim, Cho & Kwak, "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020.
        https://arxiv.org/abs/2003.13911
    """
    cosines, labels, in_range = cosines_and_labels(y_true, y_pred, "proxy_anchor")
    classes = ops.shape(cosines)[1]
    positive_mask = ops.logical_and(
        ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(ops.arange(classes), 0)), ops.expand_dims(in_range, 1)
    )
    negative_mask = ops.logical_and(ops.logical_not(positive_mask), ops.expand_dims(in_range, 1))
    pull = log_one_plus_sum_exp(-alpha * (cosines - delta), positive_mask, axis=0)  # (C,)
    push = log_one_plus_sum_exp(alpha * (cosines + delta), negative_mask, axis=0)
    with_positive = ops.cast(ops.any(positive_mask, axis=0), cosines.dtype)
    total = ops.sum(pull) / ops.maximum(ops.sum(with_positive), 1.0) + ops.mean(push)
    # An out-of-range id is no class: NaN for its example (as the sparse losses), the rest keep the value.
    return ops.where(in_range, total, float("nan")) + ops.zeros_like(cosines[:, 0])


@hyperparameters(scale=positive)
@computed_in_float32
def proxy_nca(y_true, y_pred, *, scale: float = 1.0):
    r"""Proxy-NCA loss (Movshovitz-Attias et al. 2017) as pytorch-metric-learning 2.9 computes it
    (`ProxyNCALoss(softmax_scale=scale)`), from the cosines of embeddings and proxies, with $s$ = scale:

    $$
    \mathrm{loss}_i = -\log \operatorname{softmax}_c\bigl(-s \lVert x_i - p_c \rVert^2\bigr)_{y_i}
    $$

    which is the cross-entropy of the logits $2 s \cos$ ($\lVert x - p \rVert^2 = 2 - 2 \cos$ for normalized
    vectors; the constant cancels). The softmax runs over all
    proxies, the positive included; the paper's denominator leaves it out (its NCA form). Per example.

    Args:
        scale: the softmax scale, > 0. Defaults to 1.0.

    Returns:
        The per-example loss, shape `(batch,)`.

    References:
        Movshovitz-Attias, Toshev, Leung, Ioffe & Singh, "No Fuss Distance Metric Learning using
        Proxies", ICCV 2017. https://arxiv.org/abs/1703.07464
    """
    cosines, labels, in_range = cosines_and_labels(y_true, y_pred, "proxy_nca")
    logits = 2.0 * scale * cosines
    target = ops.take_along_axis(logits, ops.expand_dims(ops.where(in_range, labels, 0), 1), axis=1)[:, 0]
    return ops.where(in_range, ops.logsumexp(logits, axis=1) - target, float("nan"))


@register("proxy_anchor")
class ProxyAnchor(Loss):
    r"""Computes the proxy-anchor loss over the cosines of embeddings with trainable class proxies.

    Each proxy (a class) is an anchor: its batch examples are pulled to it and all other examples pushed
    away, each weighted by how hard it is (a log-sum-exp over the batch). Formula (Kim et al. 2020, eq.
    4), with $s$ the cosine, $P$ the $C$ proxies, $P^{+}$ those with an example in the batch, $X_p^{+}$ /
    $X_p^{-}$ the batch's examples of $p$'s class / of other classes, $\alpha$ = `alpha` and
    $\delta$ = `delta`:

    $$
    \begin{split}
    \mathrm{loss} &= \frac{1}{\lvert P^{+} \rvert} \sum_{p \in P^{+}}
    \log\Bigl(1 + \sum_{x \in X_p^{+}} e^{-\alpha (s(x, p) - \delta)}\Bigr) \\
    &\quad + \frac{1}{\lvert P \rvert} \sum_{p \in P}
    \log\Bigl(1 + \sum_{x \in X_p^{-}} e^{\alpha (s(x, p) + \delta)}\Bigr)
    \end{split}
    $$

    This is pytorch-metric-learning 2.9's `ProxyAnchorLoss(margin=delta, alpha=alpha)` on the same proxies
    and embeddings. The loss belongs to the batch, not to single examples: every example carries the
    batch's value, so Keras' mean (the default reduction) is the loss, and `sample_weight` scales it by
    the weights' mean: a zero weight does not take an example out of the proxies' sums, and
    `reduction="sum"` gives B times the loss. Under `tf.distribute` each replica computes the loss of its
    own share of the batch. An out-of-range class id raises where it can be seen (NaN for that example under
    XLA). In float16 and bfloat16 the loss is computed in float32.

    `y_pred` is the output of `kerasloss.CosineProxies(num_classes)`, last in the training model, which
    holds the proxies so that `fit` trains them.

    Args:
        alpha: The scale, a float > 0. Defaults to `32.0`.
        delta: The margin, a float >= 0. Defaults to `0.1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"proxy_anchor"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Cosines with the class proxies, shape `(batch, num_classes)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default; with `reduction=None` the batch's loss
        repeated per example, shape `(batch,)`.

    References:
        Kim, Kim, Cho & Kwak, "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020.
        https://arxiv.org/abs/2003.13911

    Example:

    >>> cosines = np.array([[0.9, 0.1, -0.2], [0.2, 0.8, 0.0], [0.7, 0.3, 0.1]])
    >>> round(float(kerasloss.ProxyAnchor()(np.array([0, 1, 0]), cosines)), 4)
    9.6144

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.ProxyAnchor())
    """

    function = staticmethod(proxy_anchor)
    inputs = "cosines"
    labels_are_ids = True

    def __init__(self, alpha=32.0, delta=0.1, *, reduction="sum_over_batch_size", name="proxy_anchor", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, alpha=alpha, delta=delta)


@register("proxy_nca")
class ProxyNCA(Loss):
    r"""Computes the proxy-NCA loss: a softmax over the distances of each embedding to the class proxies.

    Formula, with $x$ and the proxies $p_c$ L2-normalized, $y_i$ the class id and $s$ = `scale`
    (pytorch-metric-learning 2.9's `ProxyNCALoss(softmax_scale=scale)`):

    $$
    \mathrm{loss}_i = -\log \frac{e^{-s \lVert x_i - p_{y_i} \rVert^2}}{\sum_c e^{-s \lVert x_i - p_c \rVert^2}}
    $$

    which, since $\lVert x - p \rVert^2 = 2 - 2 \cos$, is the cross-entropy of the logits `2 * scale * cos`. The
    denominator includes the positive proxy, as pytorch-metric-learning computes it; Movshovitz-Attias et
    al. leave it out (their NCA form), which makes the loss unbounded below. At large scales
    pytorch-metric-learning drops the examples whose float32 softmax underflows to 0 (at scale 64 its
    value can be 15% lower); this keeps them, with their exact log-softmax. Per example; an out-of-range
    class id raises where it can be seen (NaN for that example under XLA). In float16 and bfloat16 the
    loss is computed in float32.

    `y_pred` is the output of `kerasloss.CosineProxies(num_classes)`, last in the training model.

    Args:
        scale: The softmax scale, a float > 0. Defaults to `1.0`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"proxy_nca"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Cosines with the class proxies, shape `(batch, num_classes)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Movshovitz-Attias, Toshev, Leung, Ioffe & Singh, "No Fuss Distance Metric Learning using
        Proxies", ICCV 2017. https://arxiv.org/abs/1703.07464

    Example:

    >>> cosines = np.array([[0.9, 0.1, -0.2], [0.2, 0.8, 0.0], [0.7, 0.3, 0.1]])
    >>> round(float(kerasloss.ProxyNCA(scale=4.0)(np.array([0, 1, 0]), cosines)), 4)
    0.0198

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.ProxyNCA(scale=8.0))
    """

    function = staticmethod(proxy_nca)
    inputs = "cosines"
    labels_are_ids = True

    def __init__(self, scale=1.0, *, reduction="sum_over_batch_size", name="proxy_nca", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, scale=scale)
