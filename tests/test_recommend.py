"""The decision guide: each branch of the lesson's guide, the errors, the command line."""

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss import recommend
from kerasloss.__main__ import main


@pytest.mark.parametrize(
    ("task", "options", "expected", "arguments"),
    [
        ("regression", {}, kerasloss.MeanSquaredError, {}),
        ("regression", {"outliers": True}, kerasloss.Huber, {"delta": 1.0}),
        ("binary", {}, kerasloss.BinaryCrossentropy, {"from_logits": True}),
        ("binary", {"imbalance": 9}, kerasloss.BinaryCrossentropy, {"from_logits": True}),  # below 10:1
        ("binary", {"imbalance": 10}, kerasloss.FocalLoss, {"gamma": 2.0, "alpha": 0.75, "from_logits": True}),
        (
            "binary",
            {"imbalance": 50, "minority_class": 0},
            kerasloss.FocalLoss,
            {"gamma": 2.0, "alpha": 0.25, "from_logits": True},
        ),
        ("binary", {"label_noise": True}, kerasloss.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1}),
        ("binary", {"teacher": True}, kerasloss.DistillationLoss, {"temperature": 4.0}),
        ("multiclass", {}, kerasloss.SparseCategoricalCrossentropy, {"from_logits": True}),
        ("multiclass", {"labels": "one_hot"}, kerasloss.CategoricalCrossentropy, {"from_logits": True}),
        (
            "multiclass",
            {"overconfident": True},
            kerasloss.SparseCategoricalCrossentropy,
            {"from_logits": True, "label_smoothing": 0.1},
        ),
        ("multiclass", {"imbalance": 20}, kerasloss.SparseCategoricalFocalLoss, {"gamma": 2.0, "from_logits": True}),
        (
            "multiclass",
            {"imbalance": 20, "label_noise": True},
            kerasloss.CategoricalFocalLoss,
            {"gamma": 2.0, "from_logits": True, "label_smoothing": 0.1},
        ),
        ("multiclass", {"teacher": True, "imbalance": 20}, kerasloss.DistillationLoss, {"temperature": 4.0}),
        ("multilabel", {"imbalance": 30}, kerasloss.FocalLoss, {"gamma": 2.0, "alpha": 0.75, "from_logits": True}),
        ("embedding", {}, kerasloss.TripletLoss, {"margin": 0.5, "mining": "semi-hard"}),
        ("embedding", {"views": True}, kerasloss.NTXent, {"temperature": 0.1}),
    ],
)
def test_the_guide(task, options, expected, arguments):
    choice = recommend(task, **options)
    assert type(choice.loss) is expected
    assert choice.arguments == arguments
    for name, value in arguments.items():
        assert choice.loss.get_config()[name] == value
    rebuilt = eval(choice.code, {"kerasloss": kerasloss})  # the printed code builds the same loss
    assert rebuilt.get_config() == choice.loss.get_config()
    assert len(choice.reason) > 40 and str(choice).startswith(choice.code)


def test_the_reasons_name_the_deciding_facts():
    assert "20:1" in recommend("binary", imbalance=20).reason
    assert "outlier" in recommend("regression", outliers=True).reason
    assert "certainty" in recommend("binary", label_noise=True).reason
    assert "one-hot" in recommend("multiclass", imbalance=20, label_noise=True).reason
    assert "teacher" in recommend("multiclass", teacher=True).reason


def test_a_recommended_loss_trains_a_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x[:, :1] > 1.2).astype("float32")  # about 12% positives
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=recommend("binary", imbalance=7).loss)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: recommend("ranking"), "`task` must be one of regression, binary, multiclass, multilabel, embedding"),
        (lambda: recommend("binary", imbalance=0.5), "imbalance=0.5"),
        (lambda: recommend("regression", imbalance=5), "`imbalance` does not apply to task='regression'"),
        (lambda: recommend("binary", outliers=True), "label_noise=True"),
        (lambda: recommend("embedding", teacher=True), "`teacher` does not apply"),
        (lambda: recommend("regression", views=True), "`views` does not apply"),
        (lambda: recommend("multiclass", labels="dense"), "labels='dense'"),
        (lambda: recommend("binary", minority_class=2), "minority_class=2"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_command_line(capsys):
    assert main(["recommend", "binary", "--imbalance", "20", "--label-noise"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "model.compile(loss=kerasloss.FocalLoss(gamma=2.0, alpha=0.75, from_logits=True, label_smoothing=0.1), ...)"
    )
    assert main(["recommend", "regression", "--imbalance", "3"]) == 2
    assert "does not apply" in capsys.readouterr().err
