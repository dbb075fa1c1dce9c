"""Writes tests/saved_models/: one small `.keras` file per family, each compiled with every loss of its family.

Run from the repository root: `python -m tests.generators.write_saved_models FAMILY ...` writes the families
named (all of them when none is). The first five files were written by the commit that added this script, before
the modules moved into packages; tests/test_saved_models.py loads them in a fresh process to show that a file
saved by an older kerasloss still loads (the registered names, not the module paths, find the classes). A new
family is written once, when its losses are added (long_tail: the class-imbalance losses); rewrite an old file
only when a saved file's format has to change on purpose.

Beside each file, NAME.json holds the model's predictions on a fixed input and each output's loss config, as
this version computed them.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

import kerasloss

FOLDER = Path("tests/saved_models")
INPUT = np.linspace(-1.0, 1.0, 4 * 6, dtype="float32").reshape(4, 6)


def _outputs_model(losses, width):
    """One Dense head per loss, named after it, each compiled with its loss."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), name="x")
    outputs = {name: keras.layers.Dense(width, name=name)(inputs) for name in losses}
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=losses)
    return model


def per_example():
    losses = {
        "mse": kerasloss.MeanSquaredError(),
        "mae": kerasloss.MeanAbsoluteError(),
        "huber": kerasloss.Huber(delta=0.5),
        "bce": kerasloss.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        "cce": kerasloss.CategoricalCrossentropy(from_logits=True),
        "sparse_cce": kerasloss.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2),
        "cost_sensitive": kerasloss.CostSensitiveBinaryCrossentropy(false_negative_weight=3.0),
        "hinge": kerasloss.Hinge(),
        "focal": kerasloss.FocalLoss(gamma=1.5, alpha=0.3, from_logits=True),
        "categorical_focal": kerasloss.CategoricalFocalLoss(gamma=2.0),
        "sparse_focal": kerasloss.SparseCategoricalFocalLoss(gamma=1.0, from_logits=True),
        "kl": kerasloss.KLDivergence(),
        "distillation": kerasloss.DistillationLoss(temperature=3.0),
        "pinball": kerasloss.Pinball(quantiles=(0.1, 0.5, 0.9)),
        "kappa": kerasloss.WeightedKappa(num_classes=3),
        "multitask": kerasloss.MultiTaskLoss(positive_weight=2.0),
    }
    return _outputs_model(losses, width=3)


def uncertainty_weighted():
    keras.utils.set_random_seed(0)
    network = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)], name="network")
    model = kerasloss.UncertaintyWeightedModel(network, loss=kerasloss.MultiTaskLoss(regression_weight=0.5))
    model.compile(optimizer="adam")
    model(INPUT)
    return model


def metric_learning():
    losses = {
        "contrastive": kerasloss.ContrastiveLoss(margin=0.5),
        "info_nce": kerasloss.InfoNCE(temperature=0.2),
        "nt_xent": kerasloss.NTXent(temperature=0.3),
        "supcon": kerasloss.SupervisedContrastive(temperature=0.1),
        "triplet": kerasloss.TripletLoss(margin=0.3, mining="semi-hard"),
        "multi_similarity": kerasloss.MultiSimilarity(),
        "lifted": kerasloss.LiftedStructure(margin=0.5),
        "snn": kerasloss.SoftNearestNeighbor(temperature=2.0),
        "barlow": kerasloss.BarlowTwins(),
        "vicreg": kerasloss.VICReg(),
        "simsiam": kerasloss.SimSiam(),
    }
    return _outputs_model(losses, width=4)


def proxies_and_margins():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), name="x")
    embeddings = keras.layers.Dense(4)(inputs)
    heads = {
        name: kerasloss.CosineProxies(num_classes=3, sub_centers=sub_centers, name=name)(embeddings)
        for name, sub_centers in (("arcface", 1), ("cosface", 2), ("proxy_anchor", 1), ("proxy_nca", 1))
    }
    model = keras.Model(inputs, heads)
    model.compile(
        optimizer="adam",
        loss={
            "arcface": kerasloss.ArcFace(scale=16.0, margin=0.3),
            "cosface": kerasloss.CosFace(scale=16.0, margin=0.2),
            "proxy_anchor": kerasloss.ProxyAnchor(alpha=16.0),
            "proxy_nca": kerasloss.ProxyNCA(scale=8.0),
        },
    )
    return model


def memory_and_temperature():
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4), kerasloss.LearnableTemperature(initial_temperature=0.5)],
        name="encoder",
    )
    model = kerasloss.CrossBatchMemory(encoder, memory_size=8)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    model.fit(INPUT, np.array([0, 1, 0, 1]), batch_size=4, epochs=1, verbose=0)
    return model


def long_tail():
    counts = [50.0, 10.0, 2.0]
    losses = {
        "logit_adjusted": kerasloss.LogitAdjusted(counts, tau=1.5),
        "balanced_softmax": kerasloss.BalancedSoftmax(counts),
        "ldam": kerasloss.LDAM(counts, max_margin=0.4, scale=10.0, class_weights=[0.2, 0.8, 2.0]),
        "asymmetric": kerasloss.AsymmetricLoss(gamma_positive=1.0, clip=0.1, focusing_gradient=False),
        "poly": kerasloss.PolyLoss(epsilon=2.0, from_logits=True, label_smoothing=0.1),
        "sparse_poly": kerasloss.SparsePolyLoss(epsilon=-0.5, from_logits=True),
        "class_balanced_focal": kerasloss.SparseCategoricalFocalLoss(
            alpha=kerasloss.class_balanced_weights(counts, 0.99).tolist(), from_logits=True
        ),
    }
    return _outputs_model(losses, width=3)


FAMILIES = {
    "per_example": per_example,
    "uncertainty_weighted": uncertainty_weighted,
    "metric_learning": metric_learning,
    "proxies_and_margins": proxies_and_margins,
    "memory_and_temperature": memory_and_temperature,
    "long_tail": long_tail,
}


def _as_lists(outputs):
    if isinstance(outputs, dict):
        return {name: keras.ops.convert_to_numpy(value).tolist() for name, value in outputs.items()}
    return keras.ops.convert_to_numpy(outputs).tolist()


def losses_of(model):
    """Each compiled loss's class name and config, by output (or "loss" for a single one)."""
    loss = model.loss
    if loss is None:
        loss = model.task_loss
    if isinstance(loss, dict):
        return {name: [type(value).__name__, value.get_config()] for name, value in loss.items()}
    return {"loss": [type(loss).__name__, loss.get_config()]}


def main(names=()):
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise SystemExit(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name in names or FAMILIES:
        model = FAMILIES[name]()
        model.save(FOLDER / f"{name}.keras")
        expected = {"predictions": _as_lists(model(INPUT)), "losses": losses_of(model)}
        (FOLDER / f"{name}.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
        print(f"{FOLDER / name}.keras: {(FOLDER / f'{name}.keras').stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
