"""A spec plus one trial's hyperparameter values -> a compiled model, its training data, and the
function that measures it on the validation and test parts. The loss is built through `kerasloss.get`
only."""

import warnings
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

import kerasloss
from sweeps import datasets, derived, metrics, models, sources
from sweeps.spec import PROXY_LOSSES, TRAINING_PARAMETERS, VIEW_LOSSES

PREDICT_BATCH = 8192  # rows per forward pass when evaluating: a large test set is not one giant batch


@dataclass
class Built:
    model: keras.Model  # what fit trains: the predictor, or it with two views in or class proxies out
    train: object  # a tf.data.Dataset, or a kerasloss.ClassBalancedBatches (a keras.utils.PyDataset)
    predictor: keras.Model  # x -> logits, estimates or embeddings: what a user keeps
    predict: object  # x -> the predictor's outputs as NumPy
    evaluate: object  # () -> {val_NAME: ..., test_NAME: ...}; raises metrics.DivergedError on NaN outputs
    dataset: datasets.Dataset


def build_loss(spec, values, data=None):
    """The trial's loss: the searched or fixed name, with the searched arguments that apply to it, and what it
    takes from the training part (`sweeps.derived`: class counts, class-balanced weights from `beta`)."""
    name = values.get("loss", spec.loss)
    searched = {k: v for k, v in values.items() if k != "loss" and k not in TRAINING_PARAMETERS}
    arguments = {**spec.loss_args, **searched}
    counts = None
    if derived.uses_counts(name, arguments):
        if data is None:
            raise ValueError(f"{name} is built from the training part's class counts: pass the trial's data")
        counts = derived.training_counts(data, f"sweep {spec.name!r}")
    arguments = derived.resolve(name, arguments, counts)
    with warnings.catch_warnings():  # the from_logits it warns about is decided on the next line
        warnings.simplefilter("ignore", kerasloss.FromLogitsWarning)
        loss = kerasloss.get(name, **arguments)
    if "from_logits" in loss.get_config() and "from_logits" not in arguments:
        loss = kerasloss.get(name, **arguments, from_logits=True)  # the heads output logits
    return loss


def outputs(spec, data):
    """How many outputs the model has: 1 logit (binary), one per class, one per regression target, or
    the embedding's dimension."""
    if data.task == "multiclass":
        return data.classes
    if data.task == "embedding":
        return spec.model.get("embedding_dim", models.DEFAULTS["embedding_dim"])
    return data.y_train.shape[1] if data.y_train.ndim == 2 else 1


def network(spec, data, model_function=None):
    """The trial's network: the user's model function or the built-in MLP."""
    shape = data.x_train.shape[1:]
    if "function" in spec.model:
        function = model_function or sources.import_function(spec.model["function"], spec.base)
        logits = data.task in ("binary", "multiclass")
        return models.from_function(function, shape, outputs(spec, data), spec.model["function"], logits=logits)
    if data.task == "embedding":
        return models.encoder(shape, spec.model)
    return models.head(data.task, shape, outputs(spec, data), spec.model)


def _augment(data):
    """Two random views of each example: a 1-pixel shift plus noise for images, noise otherwise."""
    noise = 0.1 if data.image_shape else 0.3 * float(np.std(data.x_train))

    def view(x):
        if data.image_shape:
            h, w = data.image_shape
            image = tf.pad(tf.reshape(x, (h, w, 1)), [[1, 1], [1, 1], [0, 0]])
            x = tf.reshape(tf.image.random_crop(image, (h, w, 1)), (-1,))
        return x + noise * tf.random.normal(tf.shape(x))

    return lambda x, y: (tf.stack([view(x), view(x)], axis=0), y)


_TENSORS = {}  # the last dataset's training arrays as tensors: made once, shared by every trial


def _tensors(data, teacher):
    """The training features and targets as tensors: the labels (a column for binary and regression), or
    the teacher's logits for distillation."""
    key = (id(data), teacher)
    if key not in _TENSORS:
        targets = data.y_train
        if teacher:
            if data.teacher is None:
                raise ValueError(
                    "DistillationLoss needs a teacher's logits; only the built-in 'multiclass' data has them"
                )
            targets = data.teacher
        elif data.task in ("binary", "regression") and targets.ndim == 1:
            targets = targets.reshape(-1, 1).astype("float32")
        _TENSORS.clear()
        _TENSORS[key] = (data, tf.constant(data.x_train), tf.constant(targets))
    return _TENSORS[key][1:]


def pipeline(data, batch_size, seed, views, teacher=False):
    """Shuffled batches, reshuffled every epoch. The shuffle runs over row indices and each batch is one
    gather, so a million-row dataset is neither copied per element nor copied again per trial."""
    x, y = _tensors(data, teacher)
    rows = tf.data.Dataset.range(len(data.x_train)).shuffle(len(data.x_train), seed=seed, reshuffle_each_iteration=True)
    if views:  # per-example augmentation (random crops differ per example)
        examples = rows.map(lambda i: (tf.gather(x, i), tf.gather(y, i)))
        train = examples.map(_augment(data), num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    else:
        train = rows.batch(batch_size).map(lambda i: (tf.gather(x, i), tf.gather(y, i)))
    return train.prefetch(tf.data.AUTOTUNE)


def class_balanced(spec, values, data, seed):
    """Class-balanced training batches: `classes_per_batch` (P) distinct classes x `examples_per_class` (K)
    examples in each, about one pass over the training data per epoch, drawn anew each epoch from `seed`.
    It is the `keras.utils.PyDataset` itself that `fit` gets (not its tf.data form), so it runs on every
    backend."""
    return kerasloss.ClassBalancedBatches(
        data.x_train,
        data.y_train,
        classes_per_batch=int(values.get("classes_per_batch", spec.classes_per_batch)),
        examples_per_class=int(values.get("examples_per_class", spec.examples_per_class)),
        seed=seed,
    )


def proxy_classes(data):
    """How many class proxies a proxy loss trains: one per class id (ids are 0 ... classes - 1)."""
    return max(int(data.classes), int(np.max(data.y_train)) + 1)


def build(spec, values, seed, data, model_function=None):
    """Seed everything from `seed`, then build the trial's model and data pipeline. With class-balanced
    batches every loss sees one view of each example: the batch's K examples of a class are each other's
    positives (SupCon takes them from the labels, as triplet and multi-similarity losses do).

    What `fit` trains: for a two-view loss (NT-Xent, Barlow Twins, VICReg; SupCon unless the batches are
    class-balanced) the predictor applied to each of two augmented views; for a proxy loss (ArcFace,
    CosFace, ProxyAnchor, ProxyNCA) the predictor followed by `kerasloss.CosineProxies`, whose cosines
    the loss takes; otherwise the predictor. The metrics measure the predictor alone: the embedding,
    without the class proxies."""
    keras.backend.clear_session()  # the last trial's graphs and layers are not kept alive
    keras.utils.set_random_seed(seed)
    batch_size = int(values.get("batch_size", spec.batch_size))
    learning_rate = float(values.get("learning_rate", spec.learning_rate))
    loss = build_loss(spec, values, data)
    views = data.task == "embedding" and not spec.class_balanced and isinstance(loss, VIEW_LOSSES)
    proxies = data.task == "embedding" and isinstance(loss, PROXY_LOSSES)
    predictor = network(spec, data, model_function)
    model = predictor
    if views:
        model = models.two_view(predictor, data.x_train.shape[1:])
    elif proxies:
        model = models.with_proxies(predictor, data.x_train.shape[1:], proxy_classes(data))

    teacher = data.task == "multiclass" and loss.inputs == "teacher_logits"  # the teacher's logits as targets
    if spec.class_balanced:
        train = class_balanced(spec, values, data, seed)
    else:
        train = pipeline(data, batch_size, seed, views, teacher)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=False)
    # The optimizer's variables made now, not inside the first step: a tf.function that creates variables is
    # traced twice, and that second trace was half of a trial execution's build-and-compile time (0.75 s).
    model.optimizer.build(model.trainable_variables)

    def predict(x):
        chunks = [predictor(x[i : i + PREDICT_BATCH], training=False) for i in range(0, len(x), PREDICT_BATCH)]
        return np.concatenate([keras.ops.convert_to_numpy(c) for c in chunks])  # torch: detached

    def evaluate():
        val = (data.y_val, predict(data.x_val))
        test = (data.y_test, predict(data.x_test))
        return metrics.measure(data.task, val, test, spec.min_precision, names=spec.metrics)

    return Built(model, train, predictor, predict, evaluate, data)
