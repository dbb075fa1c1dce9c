"""The registry behind `kerasloss.get`, and the shared hyperparameter checks."""

import keras
import pytest

import kerasloss
from kerasloss import base


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("focal", kerasloss.FocalLoss),
        ("FocalLoss", kerasloss.FocalLoss),
        ("focal_loss", kerasloss.FocalLoss),
        ("sparse-focal", kerasloss.SparseCategoricalFocalLoss),
        ("bce", kerasloss.BinaryCrossentropy),
        ("scce", kerasloss.SparseCategoricalCrossentropy),
        ("mse", kerasloss.MeanSquaredError),
        ("huber", kerasloss.Huber),
        ("kld", kerasloss.KLDivergence),
        ("distillation", kerasloss.DistillationLoss),
        ("cost_sensitive", kerasloss.CostSensitiveBinaryCrossentropy),
        ("multitask", kerasloss.MultiTaskLoss),
    ],
)
def test_get_resolves_names_and_aliases(name, cls):
    assert type(kerasloss.get(name)) is cls


def test_get_passes_hyperparameters():
    loss = kerasloss.get("focal", gamma=3.0, alpha=None)
    assert (loss.gamma, loss.alpha) == (3.0, None)


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Unknown kerasloss loss 'focall'. Valid names \(case, '_' and '-' ignored\): .*focal.*huber"
    ):
        kerasloss.get("focall")


def test_get_rejects_unknown_hyperparameters():
    with pytest.raises(TypeError, match="gama"):
        kerasloss.get("focal", gama=2.0)


def test_get_accepts_a_config_and_an_instance():
    loss = kerasloss.FocalLoss(gamma=1.0)
    assert kerasloss.get(loss) is loss
    rebuilt = kerasloss.get(keras.saving.serialize_keras_object(loss))
    assert rebuilt.get_config() == loss.get_config()
    with pytest.raises(ValueError, match="instance and hyperparameters"):
        kerasloss.get(loss, gamma=2.0)


def test_every_public_loss_is_registered_under_the_kerasloss_package():
    losses = [getattr(kerasloss, n) for n in kerasloss.__all__]
    losses = [c for c in losses if isinstance(c, type) and issubclass(c, base.Loss) and c is not base.Loss]
    assert len(losses) == 19
    for cls in losses:
        assert keras.saving.get_registered_name(cls) == f"kerasloss>{cls.__name__}"
        assert cls.__name__ in kerasloss.available()


def test_registering_a_taken_name_fails_loudly():
    with pytest.raises(RuntimeError, match="taken"):

        @base.register("focal")
        class Impostor(base.Loss):
            pass


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: base.check_non_negative("gamma", v), -1e-9),
        (lambda v: base.check_positive("temperature", v), 0.0),
        (lambda v: base.check_unit_interval("alpha", v), 1.0001),
        (base.check_label_smoothing, 1.0),
        (base.check_alpha, True),
        (base.check_alpha, "0.5"),
        (lambda v: base.check_bool("from_logits", v), 1),
    ],
)
def test_checks_reject_with_argument_and_value(check, value):
    with pytest.raises(ValueError, match=r"Invalid value for argument `\w+`\. Expected .*Received: \w+="):
        check(value)


def test_checks_normalise_values():
    assert base.check_alpha([0, 1]) == (0.0, 1.0)
    assert base.check_alpha(None) is None
    assert base.check_label_smoothing(0) == 0.0
