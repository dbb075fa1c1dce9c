"""The one message shape for a refused argument, Keras' own (no dependency: `python -m kerasloss recommend`
runs without Keras)."""


def invalid_argument(argument, expected, value):
    """``Invalid value for argument `alpha`. Expected a value in [0, 1]. Received: alpha=2`` as a ValueError."""
    return ValueError(f"Invalid value for argument `{argument}`. Expected {expected}. Received: {argument}={value!r}")
