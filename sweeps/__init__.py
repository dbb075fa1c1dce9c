"""The sweep harness: keras-tuner searches over loss hyperparameters on the exercise datasets or on your
own data and model, with results in TensorBoard's HParams dashboard. `python -m sweeps --help`, or
`sweeps.run(...)` from Python (`sweeps.api.run`)."""

__all__ = ["Result", "Trial", "run"]  # the Python API (docs/reference/harness.md)


def __getattr__(name):
    if name in __all__:  # imported on first use: TensorFlow loads then, not at `import sweeps`
        from sweeps import api

        return getattr(api, name)
    raise AttributeError(f"module 'sweeps' has no attribute {name!r}")
