"""What several of the harness's test files share: the repository root, a `python -m sweeps` process whose
output is read while it runs (`start`, `Lines`), and a small sweep through `sweeps.run` on a linear model
(`binary`, `linear`, `run_sweep`)."""

import io
import os
import re
import subprocess
import sys
import threading
import time

import keras
import numpy as np

import sweeps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Lines:
    """A process's stdout, read in the background, searchable while it runs."""

    def __init__(self, process):
        self.process, self.lines = process, []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def finish(self, timeout):
        self.process.wait(timeout=timeout)
        self._thread.join(timeout=10)
        return "\n".join(self.lines)


def start(args, tmp_path):
    command = [
        sys.executable,
        "-m",
        "sweeps",
        *args,
        "--logdir",
        str(tmp_path / "logs"),
        "--state",
        str(tmp_path / "state"),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return Lines(process)


def binary(n, seed, flip=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype("int64")
    x = (rng.normal(size=(n, 4)) + 1.2 * y[:, None]).astype("float32")
    return x, (1 - y if flip else y)


def linear(input_shape, outputs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))


def run_sweep(tmp_path, spec, data, **options):
    out = io.StringIO()
    options.setdefault("model", linear)
    result = sweeps.run(
        spec, data=data, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out, **options
    )
    return result, out.getvalue()
