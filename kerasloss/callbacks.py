"""Training diagnostics as Keras callbacks.

`GradientNormLogger` logs the gradient norm of each layer per epoch (to TensorBoard and to `history`):
the lesson's check that cross-entropy gives larger gradients than MSE while the model is uncertain.

`LossMonitor` watches a training run for the failure modes the lesson describes and says what it sees in
plain words, as it happens:

- ``nan``: the loss became NaN or infinite, with the first bad batch;
- ``constant``: the loss sits at a constant predictor's value (binary cross-entropy H(p), ln 2 at 50/50;
  MSE p(1 - p), 0.25 at 50/50) while accuracy sits at the base rate: the model predicts one value for
  every input;
- ``exploding``: the epoch loss grew past `explode_factor` times the lowest seen;
- ``collapse``: an embedding collapsed: the spread of its directions (`embedding_spread` of the
  L2-normalized embeddings) or its scale (RMS norm) fell below `collapse_ratio` of its value before
  training, so every input maps to nearly the same point (or to nearly zero).

Both work on every backend (TensorBoard output needs TensorFlow installed).
"""

import math
from dataclasses import dataclass

import keras
import numpy as np  # diagnostics summarise fetched values on the host; no loss math here

EMBEDDING_LOSSES = ("TripletLoss", "NTXent", "InfoNCE", "SupervisedContrastive", "ContrastiveLoss")


def embedding_spread(embeddings):
    """Mean distance of the embeddings to their centroid over their root-mean-square norm: about 1 for a
    spread-out embedding, 0 when every input maps to one point. Any leading axes are flattened."""
    e = np.asarray(embeddings, np.float64)
    e = e.reshape(-1, e.shape[-1])
    scale = math.sqrt(float(np.mean(np.sum(e**2, axis=1)))) + 1e-12
    return float(np.mean(np.linalg.norm(e - e.mean(axis=0), axis=1)) / scale)


def _collapse_measures(embeddings):
    """(spread of the directions, RMS norm) of a batch of embeddings; leading axes flattened."""
    e = np.asarray(embeddings, np.float64)
    e = e.reshape(-1, e.shape[-1])
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    return embedding_spread(e / np.maximum(norms, 1e-12)), math.sqrt(float(np.mean(norms**2)))


def _batches(data, batch_size):
    x, y, *rest = data
    weights = rest[0] if rest else None
    n = len(y)
    for start in range(0, n, batch_size):
        end = min(start + batch_size, n)
        yield x[start:end], y[start:end], None if weights is None else weights[start:end]


def _gradients(model, x, y, sample_weight):
    """The compiled loss's gradients with respect to `model.trainable_variables`, at the current weights."""
    backend = keras.backend.backend()
    variables = model.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf  # each backend differentiates its own way: a tape here, jax.grad below

        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        return tape.gradient(loss, variables)
    if backend == "jax":
        import jax

        fixed = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]

        def loss_of(trainable):
            y_pred, _ = model.stateless_call(trainable, fixed, x, training=False)
            loss, _ = model.stateless_compute_loss(
                trainable, fixed, metrics, x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
            )
            return loss

        return jax.grad(loss_of)([v.value for v in variables])
    if backend == "torch":
        for v in variables:
            v.value.grad = None
        y_pred = model(x, training=False)
        model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False).backward()
        return [v.value.grad for v in variables]
    raise NotImplementedError(f"gradient norms are not implemented for the {backend} backend")


def layer_gradient_norms(model, data, batch_size=256):
    """{layer name: L2 norm of the loss gradient over that layer's trainable weights}, averaged over the
    batches of `data` ((x, y) or (x, y, sample_weight)) at the model's current weights. The loss is the
    compiled one (`model.compile(loss=...)`), regularization included."""
    owners = [(layer.name, {id(v) for v in layer.trainable_variables}) for layer in model.layers]
    owners = [(name, ids) for name, ids in owners if ids]
    totals = dict.fromkeys((name for name, _ in owners), 0.0)
    count = 0
    for x, y, weights in _batches(data, batch_size):
        grads = _gradients(model, x, y, weights)
        squared = {}
        for variable, grad in zip(model.trainable_variables, grads, strict=True):
            if grad is not None:
                squared[id(variable)] = float(np.sum(np.square(keras.ops.convert_to_numpy(grad).astype(np.float64))))
        for name, ids in owners:
            totals[name] += math.sqrt(sum(squared.get(i, 0.0) for i in ids))
        count += 1
    return {name: total / max(count, 1) for name, total in totals.items()}


class GradientNormLogger(keras.callbacks.Callback):
    """Log each layer's gradient norm before training and after every `every` epochs.

    The norm of a layer is the L2 norm of the loss gradient over all its trainable weights, averaged over
    the batches of `data` (a fixed probe set: (x, y) or (x, y, sample_weight)) at that moment's weights.
    Values go to `history` ({layer: [norm per logged epoch]}, with `epochs` the matching epoch numbers,
    0 = before training) and, with `log_dir`, to TensorBoard as `gradient_norm/<layer>` scalars.

    `GradientNormLogger(data=(x_val, y_val), log_dir="logs/grad")`
    """

    def __init__(self, data, log_dir=None, every=1, batch_size=256, prefix="gradient_norm"):
        super().__init__()
        if every < 1:
            raise ValueError(f"`every` must be >= 1, got every={every}")
        self.data, self.log_dir, self.every, self.batch_size, self.prefix = data, log_dir, every, batch_size, prefix
        self.history, self.epochs = {}, []
        self._writer = None

    def _log(self, epoch):
        norms = layer_gradient_norms(self.model, self.data, self.batch_size)
        self.epochs.append(epoch)
        for name, value in norms.items():
            self.history.setdefault(name, []).append(value)
        if self.log_dir is not None:
            import tensorflow as tf  # TensorBoard's writer; available beside every backend here

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                for name, value in norms.items():
                    tf.summary.scalar(f"{self.prefix}/{name}", value, step=epoch)
            self._writer.flush()

    def on_train_begin(self, logs=None):
        self._log(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._log(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # "nan", "constant", "exploding" or "collapse"
    epoch: int  # 1-based, as Keras prints it
    batch: int | None  # for "nan": the first bad batch (0-based)
    message: str


def _constant_losses(base_rate):
    """A constant predictor's best losses on labels with this share of ones: BCE H(p), MSE p(1 - p)."""
    p = min(max(base_rate, 1e-12), 1 - 1e-12)
    return {"binary cross-entropy": -(p * math.log(p) + (1 - p) * math.log(1 - p)), "MSE": p * (1 - p)}


class LossMonitor(keras.callbacks.Callback):
    """Recognise the lesson's failure modes while training and report them in plain words.

    Args:
        data: (x, y) held-out or training samples, for the checks that look at predictions (constant
            predictions on binary labels, embedding collapse). Without it only ``nan`` and ``exploding``
            are checked.
        patience: epochs the loss must sit at a constant predictor's value before ``constant`` is said.
        tolerance: how near (absolute) that value counts as "at" it.
        explode_factor: ``exploding`` when an epoch's loss exceeds this times the lowest so far.
        collapse_ratio: ``collapse`` when the embedding spread falls below this share of its value before
            training.
        stop_on: kinds that also stop training (`model.stop_training`); default: NaN only.
        verbose: print each diagnosis when it is made (each kind once per `fit`).

    `diagnoses` lists what was found, as `Diagnosis(kind, epoch, batch, message)`.
    """

    KINDS = ("nan", "constant", "exploding", "collapse")

    def __init__(
        self,
        data=None,
        *,
        patience=3,
        tolerance=0.01,
        explode_factor=10.0,
        collapse_ratio=0.05,
        stop_on=("nan",),
        verbose=True,
        batch_size=1024,
    ):
        super().__init__()
        unknown = set(stop_on) - set(self.KINDS)
        if unknown:
            raise ValueError(f"`stop_on` must name kinds among {self.KINDS}, got {sorted(unknown)}")
        if patience < 1:
            raise ValueError(f"`patience` must be >= 1, got patience={patience}")
        if explode_factor <= 1:
            raise ValueError(f"`explode_factor` must be > 1, got explode_factor={explode_factor}")
        if not 0 < collapse_ratio < 1:
            raise ValueError(f"`collapse_ratio` must be in (0, 1), got collapse_ratio={collapse_ratio}")
        self.data, self.patience, self.tolerance = data, patience, tolerance
        self.explode_factor, self.collapse_ratio = explode_factor, collapse_ratio
        self.stop_on, self.verbose, self.batch_size = tuple(stop_on), verbose, batch_size
        self.diagnoses = []

    # ---- bookkeeping ----

    def _say(self, kind, message, batch=None):
        if any(d.kind == kind for d in self.diagnoses):
            return
        diagnosis = Diagnosis(kind, self._epoch + 1, batch, message)
        self.diagnoses.append(diagnosis)
        if self.verbose:
            print(f"LossMonitor [{kind}] epoch {diagnosis.epoch}: {message}", flush=True)
        if kind in self.stop_on:
            self.model.stop_training = True

    def _predict(self):
        x = self.data[0]
        return np.asarray(self.model.predict(x, batch_size=self.batch_size, verbose=0), np.float64)

    def _task(self):
        loss = self.model.loss
        if type(loss).__name__ in EMBEDDING_LOSSES:
            return "embedding"
        if self.data is None:
            return None
        y = np.asarray(self.data[1]).reshape(-1)
        outputs = self.model.outputs[0].shape[-1] if getattr(self.model, "outputs", None) else None
        if outputs in (1, None) and len(y) and np.isin(y, (0, 1)).all():
            return "binary"
        return None

    # ---- callbacks ----

    def on_train_begin(self, logs=None):
        self.diagnoses, self._epoch, self._losses, self._stuck = [], 0, [], 0
        self._task_kind = self._task()
        self._initial = None
        if self._task_kind == "embedding" and self.data is not None:
            self._initial = _collapse_measures(self._predict())

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._say(
                "nan",
                f"the loss became {float(loss)} at batch {batch} (the first bad batch of this run). Usual causes: "
                "a learning rate too high, log(0) from probabilities of exactly 0 or 1 (give the loss logits: "
                "from_logits=True), or NaN/Inf in that batch's inputs or targets.",
                batch=batch,
            )

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or not math.isfinite(float(loss)):
            return
        loss = float(loss)
        if self._losses and loss > self.explode_factor * min(self._losses):
            self._say(
                "exploding",
                f"the loss grew to {loss:.4g}, over {self.explode_factor:g}x its lowest so far "
                f"({min(self._losses):.4g}). "
                "Lower the learning rate, clip gradients (clipnorm=1.0 on the optimizer) or check for unscaled "
                "inputs or targets.",
            )
        self._losses.append(loss)
        if self._task_kind == "binary":
            self._check_constant(loss)
        elif self._task_kind == "embedding" and self._initial:
            self._check_collapse()

    def _check_collapse(self):
        (spread_before, scale_before), (spread, scale) = self._initial, _collapse_measures(self._predict())
        if spread < self.collapse_ratio * spread_before:
            what = f"the spread of its directions fell from {spread_before:.3g} to {spread:.3g}"
        elif scale < self.collapse_ratio * scale_before:
            what = f"its scale (RMS norm) fell from {scale_before:.3g} to {scale:.3g}"
        else:
            return
        self._say(
            "collapse",
            f"the embedding collapsed: {what}, so nearly every input maps to the same point. Negatives are not "
            "pushing apart: raise the margin (with a margin of 0 nothing stops the collapse), lower the "
            "temperature, use semi-hard or hard mining, or normalize the embeddings.",
        )

    def _check_constant(self, loss):
        y = np.asarray(self.data[1], np.float64).reshape(-1)
        base_rate = float(y.mean())
        p = self._predict().reshape(-1)
        threshold = 0.5 if p.min() >= 0 and p.max() <= 1 else 0.0  # probabilities or logits
        accuracy = float(np.mean((p > threshold) == (y > 0.5)))
        majority = max(base_rate, 1 - base_rate)
        near = {
            name: value for name, value in _constant_losses(base_rate).items() if abs(loss - value) <= self.tolerance
        }
        self._stuck = self._stuck + 1 if near and abs(accuracy - majority) <= 0.01 else 0
        if self._stuck >= self.patience:
            name, value = next(iter(near.items()))
            self._say(
                "constant",
                f"the loss has sat at {loss:.4f} for {self._stuck} epochs, a constant predictor's {name} at this "
                f"base rate ({value:.4f}), while accuracy stays at the base rate ({accuracy:.3f}): the model "
                "predicts the same value for every input. With a sigmoid output and MSE the gradient vanishes "
                "there: use binary cross-entropy on logits. Also check for dead ReLUs (initialization, a large "
                "negative bias) and the learning rate.",
            )
