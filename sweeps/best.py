"""The best model a sweep found, kept in its state: `STATE/NAME/best/model.keras` (the predictor of the
best trial so far: logits, estimates or embeddings, without the class proxies or two-view wrapper a loss
trained it in) and `best.json` (which trial and execution it is, its validation objective and that
execution's own metrics). Disk stays bounded: one model for the sweep, plus one candidate per running
process (`STAGING/candidate.keras`) while a trial runs.

A trial is the best when the mean of its validation objective over its executions beats the recorded
best; of its executions the one with the best validation objective is kept, so the kept model's test
metrics are that execution's (`best.json`'s `metrics`), not the trial's means. Workers of a distributed
sweep share the state folder; an OS file lock makes their offers one at a time."""

import json
import os

from sweeps import results, state

FOLDER = "best"
MODEL = "model.keras"
RECORD = "best.json"


def folder(state_dir, name):
    return os.path.join(state_dir, name, FOLDER)


def save_candidate(built, path):
    """Save a trial execution's predictor to `path`; False (with the reason printed) when the model cannot
    be saved as `.keras`, e.g. a custom layer that is not serializable."""
    import keras

    os.makedirs(os.path.dirname(path), exist_ok=True)
    model = built.predictor
    encoder = built.dataset.encoder
    if encoder is not None:  # a table: the model takes its raw columns, encoded as in training
        preprocessor = encoder.preprocessor()
        model = keras.Model(preprocessor.input, model(preprocessor(preprocessor.input)), name="with_preprocessing")
    try:
        model.save(path)
    except Exception as error:  # a model of the user's that Keras cannot save: the sweep goes on without it
        print(f"warning: the trial's model cannot be saved as .keras ({type(error).__name__}: {error})", flush=True)
        return False
    return True


def record(state_dir, name):
    """What `best.json` says of the kept model, or None when none is kept."""
    path = os.path.join(folder(state_dir, name), RECORD)
    if not os.path.isfile(path):
        return None
    with open(path) as file:
        return json.load(file)


def offer(state_dir, spec, trial_id, execution, objective, candidate, execution_metrics):
    """Keep `candidate` (a saved .keras file, or None when it could not be saved) as the sweep's best model
    when the trial's mean validation `objective` beats the recorded best; returns whether it did."""
    where = folder(state_dir, spec.name)
    sign = results.sign(spec.direction)
    with state.exclusive(where):
        current = record(state_dir, spec.name)
        if current is not None and not sign * objective > sign * current["objective"]:
            return False
        if candidate and not _loads(candidate):
            candidate = None
        entry = {
            "trial_id": trial_id,
            "execution": execution,
            "objective": objective,
            "objective_name": spec.tuner_objective,
            "metrics": execution_metrics,
            "model": MODEL if candidate else None,
        }
        model = os.path.join(where, MODEL)
        if candidate:
            os.replace(candidate, model)
        elif os.path.exists(model):
            os.remove(model)  # the earlier best's model is no longer the best trial's
        with open(os.path.join(where, RECORD + ".partial"), "w") as file:
            json.dump(entry, file, indent=1, default=float)
        os.replace(os.path.join(where, RECORD + ".partial"), os.path.join(where, RECORD))
        return True


def _loads(path):
    """Whether a saved model loads again (in this process, with its code imported): a custom layer without a
    config, or a Lambda (refused by Keras' safe mode), saves but does not load. Checked once per new best."""
    try:
        _load_model(path)
    except Exception as error:  # whatever Keras raises for a model it cannot rebuild
        print(f"warning: the best trial's model saves but does not load ({type(error).__name__}: {error}); "
              "no best model is kept for it", flush=True)  # fmt: skip
        return False
    return True


def path_of(state_dir, name):
    """The kept model's path; raises FileNotFoundError saying why there is none."""
    entry = record(state_dir, name)
    if entry is None:
        raise FileNotFoundError(f"sweep '{name}': no best model in {folder(state_dir, name)}: no trial completed")
    if not entry.get("model"):
        raise FileNotFoundError(
            f"sweep '{name}': the best trial ({entry['trial_id']}) could not be saved as a .keras file that loads "
            "(see the warning printed when it ran)"
        )
    return os.path.join(folder(state_dir, name), entry["model"])


def load(state_dir, name):
    """The sweep's best model as a `keras.Model` (for a table: taking a dict of its raw columns)."""
    return _load_model(path_of(state_dir, name))


def _load_model(path):
    import keras

    import kerasloss  # noqa: F401  (registers the losses and layers a saved model may name)
    from sweeps import tables  # noqa: F401  (registers the table encoding's layers)

    return keras.models.load_model(path, compile=False)
