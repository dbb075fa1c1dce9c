"""Every registered loss declares what it takes (`Loss.inputs`): the callbacks and the harness read the
declaration, so a loss that declares nothing, or something unknown, would be silently misread."""

import keras
import pytest

from kerasloss.core.loss import INPUTS
from kerasloss.core.registry import registered

LOSSES = registered()


@pytest.mark.parametrize("cls", LOSSES, ids=lambda cls: cls.__name__)
def test_every_registered_loss_declares_what_it_takes(cls):
    assert cls.inputs in INPUTS, f"{cls.__name__}.inputs = {cls.inputs!r}; declare one of {sorted(INPUTS)}"


@pytest.mark.parametrize("cls", LOSSES, ids=lambda cls: cls.__name__)
def test_losses_over_class_ids_say_their_labels_are_ids(cls):
    """Ids are never cast to the loss dtype (`labels_are_ids`): every loss whose y_true holds class ids."""
    takes_ids = cls.inputs in ("class_ids", "embeddings", "cosines") or cls.__name__ == "SupervisedContrastive"
    assert cls.labels_are_ids == takes_ids


def test_the_declarations_cover_the_families():
    declared = {cls.__name__: cls.inputs for cls in LOSSES}
    assert declared["BarlowTwins"] == declared["VICReg"] == declared["NTXent"] == "views"
    assert declared["SimSiam"] == "predicted_views" and declared["DistillationLoss"] == "teacher_logits"
    assert declared["ArcFace"] == declared["ProxyNCA"] == "cosines"
    assert declared["TripletLoss"] == declared["MultiSimilarity"] == "embeddings"
    assert declared["ContrastiveLoss"] == "pairs" and declared["FocalLoss"] == "targets"
    assert all(issubclass(cls, keras.losses.Loss) for cls in LOSSES)
