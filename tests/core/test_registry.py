"""The registry: kerasloss.get by name, alias, config or instance; every loss registered under the kerasloss
package; a taken name refused (registering nothing); the from_logits warning."""

import keras
import pytest

import kerasloss
from kerasloss.core import registry
from kerasloss.core.loss import Loss


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
    losses = [c for c in losses if isinstance(c, type) and issubclass(c, Loss) and c is not Loss]
    assert len(losses) == 37
    for cls in losses:
        assert keras.saving.get_registered_name(cls) == f"kerasloss>{cls.__name__}"
        assert cls.__name__ in kerasloss.available()


def test_registering_a_taken_name_fails_loudly():
    with pytest.raises(RuntimeError, match="taken"):

        @registry.register("focal")
        class Impostor(Loss):
            pass

    assert "impostor" not in registry._REGISTRY  # a refused class registers nothing, with us or with Keras
    assert keras.saving.get_registered_object("kerasloss>Impostor") is None


def test_get_warns_when_from_logits_matters_and_was_not_given():
    import warnings

    with pytest.warns(kerasloss.FromLogitsWarning, match=r"from_logits=False: y_pred must be probabilities"):
        loss = kerasloss.get("focal")
    assert loss.from_logits is False  # Keras' default, unchanged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kerasloss.get("focal", from_logits=True).from_logits is True
        assert kerasloss.get("bce", from_logits=False).from_logits is False
        kerasloss.get("mse")  # no from_logits to forget
        kerasloss.get("triplet")
        kerasloss.FocalLoss()  # the classes keep Keras' convention: no warning


def test_no_from_logits_warning_where_the_default_is_logits_or_the_search_sets_it():
    import warnings

    import keras_tuner

    with warnings.catch_warnings():
        warnings.simplefilter("error", kerasloss.FromLogitsWarning)
        assert kerasloss.get("multitask").from_logits is True  # its default is logits: nothing to warn of
        loss = kerasloss.search_space(keras_tuner.HyperParameters(), "focal", gamma=(0.5, 5.0), from_logits=True)
    assert loss.from_logits is True


def test_loss_class_resolves_a_name_without_building_the_loss():
    assert registry.loss_class("LDAM") is kerasloss.LDAM  # its class_counts is required: get would fail
    assert registry.loss_class("sparse_focal") is kerasloss.SparseCategoricalFocalLoss
    with pytest.raises(ValueError, match=r"Unknown kerasloss loss 'ldamm'. Valid names .*ldam"):
        registry.loss_class("ldamm")
    for not_a_name in (None, 5, kerasloss.LDAM):
        with pytest.raises(ValueError, match=r"loss_class expects a loss name \(a string\); received"):
            registry.loss_class(not_a_name)
