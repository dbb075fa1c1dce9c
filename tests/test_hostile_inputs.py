"""Inputs an attack tried on the losses: names that are not names, dicts that are not configs, configs with
keys no loss takes, pair labels that do not match the pairs, rows of all-zero probabilities."""

import json
import re

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import numpy


@pytest.mark.parametrize("name", ["../../focal", "FOCAL!!!", "focal loss", "focal\n", "fo.cal"])
def test_names_match_by_case_underscore_and_dash_only(name):
    with pytest.raises(ValueError, match=r"Unknown kerasloss loss .*case, '_' and '-' ignored"):
        kerasloss.get(name)


def test_documented_spellings_resolve():
    for name in ("focal", "FOCAL", "Focal_Loss", "focal-loss", "FocalLoss"):
        assert isinstance(kerasloss.get(name), kerasloss.FocalLoss)


def test_a_huge_name_is_not_echoed_whole():
    with pytest.raises(ValueError) as raised:
        kerasloss.get("x" * 10_000_000)
    assert len(str(raised.value)) < 2_000


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": "Dense", "config": {}},
        {"class_name": ["FocalLoss"]},
        {"anything": 1},
        {"class_name": "FocalLoss", "config": 3},
    ],
)
def test_dicts_that_are_not_kerasloss_configs_are_refused(config):
    with pytest.raises(ValueError, match=r"a dict must be a serialized kerasloss loss"):
        kerasloss.get(config)


def test_a_config_with_a_key_the_loss_does_not_take_names_it():
    config = keras.saving.serialize_keras_object(kerasloss.FocalLoss(gamma=3.0))
    assert kerasloss.get(config).get_config()["gamma"] == 3.0
    config["config"]["gama"] = 2.0
    with pytest.raises(ValueError, match=r"FocalLoss config has the key\(s\) \['gama'\]"):
        kerasloss.get(config)


def test_a_keras_file_with_an_extra_loss_key_names_it(tmp_path):
    import zipfile

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(loss=kerasloss.FocalLoss(from_logits=True))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    config["compile_config"]["loss"]["config"]["injected"] = 1
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "edited.keras", "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    with pytest.raises(Exception, match=r"injected"):
        keras.models.load_model(tmp_path / "edited.keras")


@pytest.mark.parametrize(("labels", "pairs"), [(2, 1), (1, 4), (3, 4)])
def test_pair_labels_must_match_the_pairs(labels, pairs):
    y_pred = np.random.default_rng(0).normal(size=(pairs, 2, 5)).astype("float32")
    with pytest.raises(ValueError, match=r"one 0/1 label per pair, of shape \(batch,\)"):
        kerasloss.ContrastiveLoss()(np.ones(labels, "float32"), y_pred)


@pytest.mark.parametrize(
    "make",
    [kerasloss.CategoricalCrossentropy, kerasloss.KLDivergence, kerasloss.CategoricalFocalLoss],
    ids=["cce", "kld", "categorical_focal"],
)
def test_a_row_of_all_zero_probabilities_is_finite(make):
    y_pred = np.array([[0.0, 0.0, 0.0], [0.2, 0.3, 0.5]], "float32")
    y_true = np.eye(3, dtype="float32")[[0, 2]]
    value = float(numpy(make()(y_true, y_pred)))
    assert np.isfinite(value) and value > 5.0  # the clipped floor: a large, finite loss


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: kerasloss.Huber(delta=1e39), "delta"),
        (lambda: kerasloss.FocalLoss(gamma=1e39), "gamma"),
        (lambda: kerasloss.NTXent(temperature=1e-40), "temperature"),
        (lambda: kerasloss.DistillationLoss(temperature=1e308), "temperature"),
        (lambda: kerasloss.TripletLoss(margin=1e39), "margin"),
        (lambda: kerasloss.CostSensitiveBinaryCrossentropy(positive_weight=1e39), "positive_weight"),
        (lambda: kerasloss.Huber(delta=1000.0, dtype="float16"), "delta"),
        (lambda: kerasloss.ContrastiveLoss(margin=10**400), "margin"),
    ],
)
def test_hyperparameters_that_overflow_the_compute_dtype_are_refused_naming_them(make, argument):
    with pytest.raises(ValueError, match=rf"Invalid value for argument `{argument}`"):
        make()


@pytest.mark.parametrize("dtype", ["int32", "bool", "string"])
def test_a_loss_must_compute_in_floating_point(dtype):
    with pytest.raises(ValueError, match=r"Invalid value for argument `dtype`. Expected a floating dtype"):
        kerasloss.FocalLoss(dtype=dtype)


def test_values_inside_the_range_are_kept():
    assert kerasloss.Huber(delta=100.0, dtype="float16").delta == 100.0
    assert kerasloss.NTXent(temperature=1e-3, dtype="mixed_float16").temperature == 1e-3


@pytest.mark.parametrize(
    "make",
    [
        lambda dtype: kerasloss.TripletLoss(dtype=dtype),
        lambda dtype: kerasloss.TripletLoss(mining="all", dtype=dtype),
        lambda dtype: kerasloss.SupervisedContrastive(distance="dot", temperature=100.0, dtype=dtype),
        lambda dtype: kerasloss.MultiSimilarity(dtype=dtype),
        lambda dtype: kerasloss.SoftNearestNeighbor(temperature=200.0, dtype=dtype),
    ],
    # Not here: LiftedStructure's squared hinge of distances near 400, and MultiSimilarity's with dot products
    # near 2e4, are values past float16's 65504 themselves (Keras reduces in the loss dtype).
    ids=["triplet", "triplet_all", "supcon_dot", "multi_similarity", "soft_nearest_neighbor"],
)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_pairwise_losses_in_half_precision_survive_large_embeddings(make, dtype):
    """Embeddings of scale 25 in 128 dimensions: squared distances near 3e5 overflow float16 (65504)."""
    rng = np.random.default_rng(0)
    labels = np.arange(16) % 4
    embeddings = (25.0 * rng.normal(size=(16, 128))).astype("float32")
    exact = float(numpy(make("float32")(labels, embeddings)))
    low = float(numpy(make(dtype)(labels, embeddings)))
    assert np.isfinite(low) and abs(low - exact) <= 0.02 * abs(exact) + 0.05, (low, exact)


def test_distillation_at_a_high_temperature_in_float16_matches_float64():
    from tests.backend import BACKEND, graph

    rng = np.random.default_rng(1)
    teacher, student = (
        (3.0 * rng.normal(size=(8, 10))).astype("float32"),
        (3.0 * rng.normal(size=(8, 10))).astype("float32"),
    )
    reference = float(numpy(kerasloss.DistillationLoss(temperature=100.0, dtype="float64")(teacher, student)))
    loss = kerasloss.DistillationLoss(temperature=100.0, dtype="float16")
    eager = float(numpy(loss(teacher, student)))
    assert abs(eager - reference) <= 0.02 * reference, (eager, reference)
    if BACKEND == "tensorflow":
        traced = float(numpy(graph(lambda t, s: loss(t, s))(teacher, student)))
        assert abs(traced - eager) <= 0.01 * reference, (traced, eager)


EMPTY_BATCH = [
    (kerasloss.NTXent, {}, (0, 2, 4)),
    (kerasloss.NTXent, {"global_negatives": True}, (0, 2, 4)),
    (kerasloss.InfoNCE, {}, (0, 2, 4)),
    (kerasloss.InfoNCE, {"symmetric": True}, (0, 2, 4)),
    (kerasloss.InfoNCE, {}, (0, 5, 4)),
    (kerasloss.SupervisedContrastive, {}, (0, 4)),
    (kerasloss.SupervisedContrastive, {}, (0, 2, 4)),
    (kerasloss.ContrastiveLoss, {}, (0, 2, 4)),
    *[(kerasloss.TripletLoss, {"mining": mining}, (0, 4)) for mining in ("semi-hard", "hard", "all", "random")],
    (kerasloss.MultiSimilarity, {}, (0, 4)),
    (kerasloss.MultiSimilarity, {"epsilon": 0.1}, (0, 4)),
    (kerasloss.LiftedStructure, {}, (0, 4)),
    (kerasloss.SoftNearestNeighbor, {}, (0, 4)),
]


@pytest.mark.parametrize("cls, kwargs, shape", EMPTY_BATCH, ids=lambda value: str(value))
@pytest.mark.parametrize("mode", ["eager", "graph", "compiled"])
def test_an_empty_batch_gives_an_empty_loss_in_every_mode(cls, kwargs, shape, mode):
    """Keras' own losses return a (0,) result for an empty batch (its reduction passes it through); the
    pairwise losses do the same eagerly, in a tf.function graph and under XLA, with a zero gradient."""
    from tests.backend import compiled, graph, value_and_grad

    loss = cls(**kwargs)
    labels, embeddings = np.zeros((0,), "int32"), np.zeros(shape, "float32")
    run = {"eager": lambda f: f, "graph": graph, "compiled": compiled}[mode](lambda y, p: loss(y, p))
    result = numpy(run(labels, embeddings))
    assert result.shape == (0,) and result.dtype == np.float32
    if mode == "eager":
        value, gradient = value_and_grad(lambda p: keras.ops.sum(loss(labels, p)), embeddings)
        assert value == 0 and gradient.shape == shape


@pytest.mark.parametrize(
    "make, embeddings",
    [
        (kerasloss.SupervisedContrastive, (32, 16)),
        (kerasloss.SupervisedContrastive, (32, 2, 16)),
        (kerasloss.TripletLoss, (32, 16)),
        (kerasloss.MultiSimilarity, (32, 16)),
        (kerasloss.LiftedStructure, (32, 16)),
        (kerasloss.SoftNearestNeighbor, (32, 16)),
    ],
    ids=["supcon", "supcon_views", "triplet", "multi_similarity", "lifted", "soft_nearest_neighbor"],
)
def test_one_hot_labels_to_a_pairwise_loss_show_the_shapes_passed(make, embeddings):
    """The error names the shapes the user passed (it said y_pred.shape=(32, 1) for a (32, 16) input)."""
    one_hot = np.eye(10, dtype="float32")[np.arange(32) % 10]
    expected = rf"y_true.shape=\(32, 10\), y_pred.shape={re.escape(str(embeddings))}\. One-hot labels\?"
    with pytest.raises(ValueError, match=expected):
        make()(one_hot, np.zeros(embeddings, "float32"))


def test_a_shape_mismatch_reports_the_shapes_as_passed():
    """(32, 3) labels against (32, 3, 1) predictions: Keras' rank alignment squeezes one; the message
    must still show what the user passed."""
    with pytest.raises(ValueError, match=r"y_true.shape=\(32, 4\), y_pred.shape=\(32, 3, 1\)"):
        kerasloss.BinaryCrossentropy()(np.zeros((32, 4)), np.zeros((32, 3, 1), "float32"))
