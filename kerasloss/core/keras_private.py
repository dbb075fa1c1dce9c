"""The three Keras internals kerasloss uses, reached here only, each where Keras 3 has no public form.

`Loss.__call__` keeps two steps of Keras' own `Loss.__call__` identical by calling Keras' helpers: the mask
that travels on a tensor (`get_keras_mask`) and the weighted reduction (`reduce_weighted_values`);
`ignore_class` masks ignored entries the way Keras' own sparse losses do (`set_keras_mask`). They live in
`keras.src`, which any release may change, so they are imported once, here, and a Keras without them fails
at `import kerasloss` naming the version to install, not inside a training step.

Tested on the Keras versions in `TESTED`: `make test-oldest-keras` runs the library's tests on the oldest (older
releases lack `keras.ops.view`), the other targets on the newest.
"""

import keras

TESTED = ("3.12.0", "3.15.1")

try:
    from keras.src.backend import get_keras_mask, set_keras_mask  # noqa: F401 (used by core.loss, core.inputs)
    from keras.src.losses.loss import reduce_weighted_values  # noqa: F401 (used by core.loss)
except ImportError as error:  # pragma: no cover - only on a Keras this module was not written for
    raise ImportError(
        f"kerasloss needs Keras' get_keras_mask, set_keras_mask and reduce_weighted_values (keras.src), which "
        f"Keras {keras.__version__} does not have ({error}). It is tested on Keras {', '.join(TESTED)}: "
        f"pip install 'keras>={TESTED[0]}'."
    ) from error
