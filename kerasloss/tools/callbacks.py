"""Training diagnostics as Keras callbacks.

`GradientNormLogger` logs the gradient norm of each layer per epoch (to TensorBoard and to `history`):
it shows, for one, that cross-entropy gives larger gradients than MSE while the model is uncertain.

`LossMonitor` watches a training run for common failure modes and says what it sees in plain words, as
it happens:

- ``nan``: the loss became NaN or infinite, with the first bad batch;
- ``constant``: the model predicts one value for every input. Both must hold for `patience` epochs in a
  row, on the binary labels of `data`: (1) the model's loss there, under the compiled loss itself (focal,
  cross-entropy, MSE, ...), is no lower than (1 - `tolerance`) times the best constant prediction's under
  that same loss (`constant_predictor_loss`: cross-entropy's best constant is the base rate, focal loss's
  is not); (2) its predictions barely vary: their log-odds have a standard deviation under `min_spread`.
  Accuracy plays no part (on imbalanced labels it sits at the majority rate for healthy models too);
- ``exploding``: the epoch loss grew past `explode_factor` times the lowest seen;
- ``collapse``: an embedding collapsed: the spread of its directions (`embedding_spread` of the
  L2-normalized embeddings) or its scale (RMS norm) fell below `collapse_ratio` of its value before
  training, so every input maps to nearly the same point (or to nearly zero).

Both work on every backend (TensorBoard output needs TensorFlow installed).
"""

import importlib.util
import math
from dataclasses import dataclass

import keras
import numpy as np  # diagnostics summarise fetched values on the host; no loss math here

from kerasloss.core.errors import invalid_argument

__all__ = ["GradientNormLogger", "LossMonitor", "constant_predictor_loss"]

# What a loss declares it takes (`Loss.inputs`) that makes y_pred an embedding the monitor can watch for
# collapse: class-labelled embeddings, views of one example (SimSiam's with their predictions), pairs.
EMBEDDING_INPUTS = ("embeddings", "views", "predicted_views", "pairs")


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
            raise invalid_argument("every", "an integer >= 1", every)
        if log_dir is not None and importlib.util.find_spec("tensorflow") is None:
            raise ImportError(
                "GradientNormLogger(log_dir=...) writes TensorBoard scalars with TensorFlow's summary writer, "
                "which is not installed: pip install 'kerasloss[tensorflow]' (or leave log_dir=None and read "
                "`history`)."
            )
        self.data, self.log_dir, self.every, self.batch_size, self.prefix = data, log_dir, every, batch_size, prefix
        self.history, self.epochs = {}, []
        self._writer = None

    def _log(self, epoch):
        norms = layer_gradient_norms(self.model, self.data, self.batch_size)
        self.epochs.append(epoch)
        for name, value in norms.items():
            self.history.setdefault(name, []).append(value)
        if self.log_dir is not None:
            import tensorflow as tf  # TensorBoard's writer (checked for at construction)

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


def _single_loss(loss):
    """The one loss of what `model.compile(loss=...)` was given, names resolved as Keras resolves them."""
    if isinstance(loss, dict | list | tuple):
        losses = list(loss.values() if isinstance(loss, dict) else loss)
        if len(losses) != 1:
            raise ValueError(f"one loss is needed; received {len(losses)}")
        loss = losses[0]
    if isinstance(loss, str):
        # Keras picks the form of "crossentropy" / "ce" by the labels; these are binary.
        loss = keras.losses.get("binary_crossentropy" if loss.lower() in ("crossentropy", "ce") else loss)
    if not callable(loss):
        raise ValueError(f"a loss object, function or name is needed; received {type(loss).__name__}")
    return loss


def _declared_from_logits(loss):
    """The loss's own `from_logits` (Keras' and kerasloss' losses keep it in their config); None where it
    does not say (a function, MSE)."""
    value = loss.get_config().get("from_logits") if isinstance(loss, keras.losses.Loss) else None
    return value if isinstance(value, bool) else None


def _values(loss, y_true, y_pred):
    """`loss` on (n, 1) labels and predictions, as float64: one value per example (a loss object's reduction
    is left out), or one for all (a function that reduces by itself)."""
    call = loss.call if isinstance(loss, keras.losses.Loss) else loss
    values = call(keras.ops.convert_to_tensor(y_true, "float32"), keras.ops.convert_to_tensor(y_pred, "float32"))
    values = keras.ops.convert_to_numpy(values).astype(np.float64).reshape(-1)
    if values.size not in (1, len(y_true)):
        raise ValueError(f"the loss gave {values.size} values for {len(y_true)} examples; expected 1 or {len(y_true)}")
    return values


def _mean_loss(loss, y_true, y_pred, weights=None):
    """Mean of `loss` over (n, 1) labels and predictions, weighted per example where it gives one value each."""
    values = _values(loss, y_true, y_pred)
    return float(np.average(values, weights=weights if values.size == len(y_true) else None))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _grid_minimum(mean_loss, transform):
    """(min, argmin) of mean_loss(transform(z)) over z: 161 points over [-20, 20], then twice 161 points 40
    times closer around the best so far (final spacing 1.6e-4 in z, so the minimum is off by ~1e-9)."""
    centre, step = 0.0, 0.25
    for _ in range(3):
        z = centre + step * np.arange(-80, 81)
        values = mean_loss(transform(z))
        best = int(np.nanargmin(values))  # a constant where the loss is undefined (NaN) is passed over
        centre, step = z[best], step / 40
    return float(values[best]), float(transform(z[best]))


def constant_predictor_loss(loss, y_true, sample_weight=None):
    """The best constant prediction on binary labels under `loss`: the lowest mean loss of predicting one
    value c for every example, and that c.

    Formula, with r the (weighted) share of ones in `y_true` and L the loss of one example:
        loss(c) = (1 - r) L(0, c) + r L(1, c),   minimised over c
    (A function that reduces by itself, one value for all examples, is scored on `y_true` directly,
    unweighted.) For cross-entropy the optimum is the base rate (c = r, or log(r / (1 - r)) as a logit)
    with loss H(r), ln 2 at 50/50; for MSE c = r with loss r (1 - r). For focal loss it is elsewhere (the
    modulation (1 - p_t)^gamma depends on c), so c is searched: over logits c = z if the loss declares
    `from_logits=True`, over probabilities c = sigmoid(z) if it declares False, over both if it does not
    say (a function, MSE); z on a grid over [-20, 20], refined twice around its best point.

    Args:
        loss: what `model.compile(loss=...)` takes: a loss object (its reduction is left out), a function
            (one loss per example, or one for all), a Keras loss name, or a one-entry dict or list of these.
        y_true: labels in {0, 1}, any shape.
        sample_weight: a weight per label, or None. Defaults to None.

    Returns:
        (loss, c) as two floats.

    Raises:
        ValueError: `loss` is not one loss, or gives neither one value per example nor one in all.

    `constant_predictor_loss(kerasloss.FocalLoss(from_logits=True), y)`
    """
    loss = _single_loss(loss)
    weights = None if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1)
    rate = float(np.average(np.asarray(y_true, np.float64).reshape(-1), weights=weights))

    def mean_loss(constants):
        c = np.asarray(constants, np.float32).reshape(-1, 1)
        labels = np.repeat(np.array([[0.0], [1.0]], np.float32), len(c), axis=0)
        values = _values(loss, labels, np.concatenate([c, c]))  # every constant against a 0 and a 1, at once
        if values.size == len(labels):
            negative, positive = values.reshape(2, -1)
            return (1.0 - rate) * negative + rate * positive
        # A loss that reduces by itself cannot be split by label: score each constant on the labels.
        y = np.asarray(y_true, np.float32).reshape(-1, 1)
        return np.array([_mean_loss(loss, y, np.full_like(y, value)) for value in c.reshape(-1)])

    declared = _declared_from_logits(loss)
    spaces = {True: [lambda z: z], False: [_sigmoid], None: [lambda z: z, _sigmoid]}[declared]
    return min(_grid_minimum(mean_loss, transform) for transform in spaces)


def _log_odds_spread(y_pred, from_logits):
    """Standard deviation of the predictions as log-odds: logits as they are; probabilities (every value
    in [0, 1], unless the loss declares logits) as log(p / (1 - p)), clipped to [1e-7, 1 - 1e-7] as Keras'
    cross-entropy clips them, so outputs saturated alike count as equal; anything else as it is."""
    p = np.asarray(y_pred, np.float64).reshape(-1)
    if not from_logits and p.min() >= 0 and p.max() <= 1:
        p = np.clip(p, 1e-7, 1 - 1e-7)
        p = np.log(p) - np.log1p(-p)
    return float(np.std(p))


def _loss_name(loss):
    """How the message names the compiled loss: its `name`, the name it was given as, or its function's."""
    if isinstance(loss, dict | list | tuple) and len(loss) == 1:
        return _loss_name(next(iter(loss.values() if isinstance(loss, dict) else loss)))
    return loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", "loss"))


class LossMonitor(keras.callbacks.Callback):
    """Recognise common training failures while training and report them in plain words.

    ``constant`` means the model predicts one value for every input. It is said when, for `patience`
    epochs in a row, at the end of each epoch on `data` (binary labels, one output):

    - the model's mean loss, under the compiled loss itself (a kerasloss or Keras loss object, a function
      or a name; focal losses included), is at least (1 - `tolerance`) times the best constant
      prediction's under that same loss on the same labels (`constant_predictor_loss`): the model does no
      better than predicting one value; and
    - its predictions barely vary: the standard deviation of their log-odds (logits as they are,
      probabilities as log(p / (1 - p))) is under `min_spread`.

    Either alone misleads: a weak but real model can sit near the constant's loss on rare positives, and
    near-identical predictions can still rank well. Accuracy is not used: on imbalanced labels it sits at
    the majority rate for healthy models too. The loss is the compiled one evaluated on `data`, not the
    epoch's training loss, so that both sides are scored on the same labels without regularization. Where
    the compiled loss cannot be evaluated there (several losses, a function that fails outside the training
    step) the check is skipped: no diagnosis rather than a guess.

    Args:
        data: (x, y) or (x, y, sample_weight), held-out or training samples, for the checks that look at
            predictions (constant predictions on binary labels, embedding collapse). Without it only
            ``nan`` and ``exploding`` are checked.
        patience: epochs in a row both conditions of ``constant`` must hold. Defaults to 3.
        tolerance: relative gain over the best constant's loss below which the model counts as doing no
            better than it. Defaults to 0.01 (1%).
        min_spread: standard deviation of the predictions' log-odds below which they count as one value.
            Defaults to 0.05 (the odds vary by about 5% across inputs).
        explode_factor: ``exploding`` when an epoch's loss exceeds this times the lowest so far.
        collapse_ratio: ``collapse`` when the embedding spread falls below this share of its value before
            training.
        stop_on: kinds that also stop training (`model.stop_training`); default: NaN only.
        verbose: print each diagnosis when it is made (each kind once per `fit`).
        batch_size: for predicting on `data`. Defaults to 1024.

    `diagnoses` lists what was found, as `Diagnosis(kind, epoch, batch, message)`.
    """

    KINDS = ("nan", "constant", "exploding", "collapse")

    def __init__(
        self,
        data=None,
        *,
        patience=3,
        tolerance=0.01,
        min_spread=0.05,
        explode_factor=10.0,
        collapse_ratio=0.05,
        stop_on=("nan",),
        verbose=True,
        batch_size=1024,
    ):
        super().__init__()
        if set(stop_on) - set(self.KINDS):
            raise invalid_argument("stop_on", f"kinds among {self.KINDS}", tuple(stop_on))
        if patience < 1:
            raise invalid_argument("patience", "an integer >= 1", patience)
        if not 0 <= tolerance < 1:
            raise invalid_argument("tolerance", "a value in [0, 1)", tolerance)
        if not min_spread > 0:
            raise invalid_argument("min_spread", "a value > 0", min_spread)
        if explode_factor <= 1:
            raise invalid_argument("explode_factor", "a value > 1", explode_factor)
        if not 0 < collapse_ratio < 1:
            raise invalid_argument("collapse_ratio", "a value in (0, 1)", collapse_ratio)
        self.data, self.patience, self.tolerance, self.min_spread = data, patience, tolerance, min_spread
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
        if getattr(loss, "inputs", None) in EMBEDDING_INPUTS:
            return "embedding"
        if self.data is None:
            return None
        y = np.asarray(self.data[1]).reshape(-1)
        outputs = self.model.outputs[0].shape[-1] if getattr(self.model, "outputs", None) else None
        # Labels of one class make a constant the best possible predictor: nothing to diagnose.
        if outputs in (1, None) and np.isin(y, (0, 1)).all() and 0 < y.sum() < len(y):
            return "binary"
        return None

    # ---- callbacks ----

    def on_train_begin(self, logs=None):
        self.diagnoses, self._epoch, self._losses, self._stuck = [], 0, [], 0
        self._task_kind = self._task()
        self._initial = self._constant = None
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
            self._check_constant()
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

    def _check_constant(self):
        try:
            evidence = self._constant_evidence()
        except Exception:  # a loss that cannot be scored outside training: skip the check, never guess
            self._task_kind = None
            return
        loss, (best, constant), spread, from_logits = evidence
        at_constant = loss >= best - self.tolerance * abs(best)
        self._stuck = self._stuck + 1 if at_constant and spread < self.min_spread else 0
        if self._stuck >= self.patience:
            name = _loss_name(self.model.loss)
            what = {True: "the logit ", False: "the probability ", None: ""}[from_logits]
            self._say(
                "constant",
                f"for {self._stuck} epochs the {name} on `data` ({loss:.4g}) has been no lower than that of the "
                f"best constant prediction ({best:.4g}, predicting {what}{constant:.4g} for every input), and the "
                f"predictions barely vary (their log-odds have a standard deviation of {spread:.2g}): the model "
                "predicts the same value for every input. With a sigmoid output and MSE the gradient vanishes "
                "there: use binary cross-entropy on logits. Also check for dead ReLUs (initialization, a large "
                "negative bias) and the learning rate.",
            )

    def _constant_evidence(self):
        """(the model's mean loss on `data`, (the best constant's loss, that constant), the spread of its
        predictions' log-odds, the loss's `from_logits`); the best constant depends only on the labels and
        the loss, so it is found once."""
        y = np.asarray(self.data[1], np.float32).reshape(-1, 1)
        weights = np.asarray(self.data[2], np.float64).reshape(-1) if len(self.data) > 2 else None
        loss = _single_loss(self.model.loss)
        if self._constant is None:
            self._constant = constant_predictor_loss(loss, y, weights)
        p = self._predict().reshape(-1, 1)
        from_logits = _declared_from_logits(loss)
        return _mean_loss(loss, y, p, weights), self._constant, _log_odds_spread(p, from_logits), from_logits
