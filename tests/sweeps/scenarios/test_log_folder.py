"""The log folder is shared: by every sweep in it (one HParams config and its list of sweeps, `_config`),
by the experiments and the report (written at its root), and by runs of one sweep from different states.
A killed or failed replace of the config, a list that cannot be read, a sweep named like something the
harness writes, a second run into the same sweep's runs and a folder that cannot be written are each
reproduced here."""

import dataclasses
import errno
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sweeps
from sweeps import spec as specs
from sweeps import state
from sweeps import tensorboard as board
from tests.sweeps.support import ROOT, start


def _spec(name):
    return dataclasses.replace(specs.load("focal_imbalance"), name=name)


def _registry(logdir):
    return json.loads((logdir / board.CONFIG_RUN / "sweeps.json").read_text())


def _root(logdir):
    return sorted(os.listdir(logdir))


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs, no `except Exception` catches it."""


def test_a_replace_of_the_config_killed_between_its_renames_is_undone_by_the_next(tmp_path, monkeypatch):
    """Killed after `_config` was renamed to `_config.old` and before the new one took its place, a replace
    leaves `.old` and `.partial` and no `_config`: the next sweep used to start an empty list of sweeps and
    drop every other one from the table."""
    logdir, staging = tmp_path / "logs", str(tmp_path / "staging")
    for name in ("a", "b"):
        board.write_config(_spec(name), str(logdir), staging)
    final, rename = str(logdir / board.CONFIG_RUN), os.rename

    def killed_before_the_last_rename(source, target):
        if target == final and source.endswith(".partial"):
            raise Killed
        rename(source, target)

    monkeypatch.setattr(os, "rename", killed_before_the_last_rename)
    with pytest.raises(Killed):
        board.write_config(_spec("c"), str(logdir), staging)
    monkeypatch.setattr(os, "rename", rename)
    assert board.CONFIG_RUN not in _root(logdir)
    assert {"_config.old", "_config.partial"} <= set(_root(logdir))

    board.write_config(_spec("d"), str(logdir), staging)
    assert sorted(_registry(logdir)) == ["a", "b", "d"]  # c was never committed; a and b are kept
    assert [n for n in _root(logdir) if n.startswith(board.CONFIG_RUN)] == [board.CONFIG_RUN]


def test_a_full_disk_while_the_config_is_copied_leaves_it_as_it_was(tmp_path, monkeypatch):
    """The state folder on another file system: the config is copied into the log folder, and a full disk
    used to raise `shutil.Error` and leave `_config.partial` (a second config TensorBoard would read)."""
    logdir, staging = tmp_path / "logs", str(tmp_path / "staging")
    board.write_config(_spec("a"), str(logdir), staging)
    rename = os.rename

    def across_file_systems(source, target):
        if target.endswith(".partial"):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), source)
        rename(source, target)

    def copy_until_full(source, target, **kwargs):
        os.makedirs(target)
        (open(os.path.join(target, "half"), "w")).close()
        raise shutil.Error([(source, target, f"[Errno {errno.ENOSPC}] No space left on device")])

    monkeypatch.setattr(os, "rename", across_file_systems)
    monkeypatch.setattr(shutil, "copytree", copy_until_full)
    with pytest.raises(state.StateError, match=r"_config \(\[Errno 28\] No space left on device\); it is left as"):
        board.write_config(_spec("b"), str(logdir), staging)
    monkeypatch.undo()
    assert _root(logdir) == [".sweeps.lock", board.CONFIG_RUN]
    assert sorted(_registry(logdir)) == ["a"]
    assert os.listdir(staging) == []  # the staged config is not left behind either
    board.write_config(_spec("b"), str(logdir), staging)  # space again: it goes in
    assert sorted(_registry(logdir)) == ["a", "b"]


@pytest.mark.parametrize("content", [b'{"a": {"metrics": [', b"\xff\xfe", b"[]", None], ids=str)
def test_a_list_of_sweeps_that_cannot_be_read_is_an_error_never_an_empty_list(tmp_path, content):
    logdir, staging = tmp_path / "logs", str(tmp_path / "staging")
    board.write_config(_spec("a"), str(logdir), staging)
    path = logdir / board.CONFIG_RUN / "sweeps.json"
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    with pytest.raises(state.StateError, match=rf"{path} cannot be read .*Delete {path.parent} and run each"):
        board.write_config(_spec("b"), str(logdir), staging)
    assert (path.read_bytes() if content is not None else path.exists()) == (content or False)  # left as it was


def _tiny():
    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.3).astype(int)
    x = rng.normal(size=(120, 2)) + y[:, None]
    spec = {"name": "tiny", "task": "binary", "epochs": 1, "tuner": "grid", "objective": {"name": "pr_auc"}}
    return spec | {"space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]}}}, (x, y)


def test_a_list_of_sweeps_that_cannot_be_read_stops_a_sweep_before_its_state_is_recorded(tmp_path):
    logdir, spec, data = tmp_path / "logs", *_tiny()
    (logdir / board.CONFIG_RUN).mkdir(parents=True)
    (logdir / board.CONFIG_RUN / "sweeps.json").write_text("{")
    with pytest.raises(state.StateError, match=r"sweeps.json cannot be read"):
        sweeps.run(spec, data=data, logdir=str(logdir), state=str(tmp_path / "s"), stream=io.StringIO())
    assert not (tmp_path / "s" / "tiny" / "sweep.json").exists()


@pytest.mark.parametrize("name", ["experiments", "Experiments", "experiments.md", "report.md", "tiny-objective.png"])
def test_names_the_harness_writes_at_the_log_root_are_no_sweep_names(tmp_path, name):
    """A sweep named `experiments` used to delete the experiments' output with --overwrite, or mix into it.
    (`_config` and the locks, `.NAME.runs.lock`, start with a character no sweep name starts with.)"""
    logdir, spec, data = tmp_path / "logs", *_tiny()
    (logdir / "experiments" / "focal_recall").mkdir(parents=True)
    (logdir / "experiments.md").write_text("the lesson's table")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    with pytest.raises(specs.SpecError, match=rf"the sweep name '{name}' is reserved: the harness writes LOGDIR/"):
        sweeps.run(spec | {"name": name}, data=data, logdir=str(logdir), state=str(tmp_path / "s"), overwrite=True)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def test_names_beside_the_reserved_ones_are_fine():
    for name in ("experiments_2", "my-experiments", "report", "config", "focal.png"):
        assert board.check_name(name) == name


def _read_only(monkeypatch, folder):
    """A folder whose files and subfolders cannot be created (as on a read-only mount; chmod does not stop root)."""
    folder = os.path.abspath(folder)

    def inside(path):
        path = os.path.abspath(os.fsdecode(path))
        return path == folder or path.startswith(folder + os.sep)  # O_TMPFILE opens the folder itself

    os_open, os_mkdir = os.open, os.mkdir

    def denied_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return os_open(path, flags, *args, **kwargs)

    def denied_mkdir(path, *args, **kwargs):
        if inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return os_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied_open)
    monkeypatch.setattr(os, "mkdir", denied_mkdir)


@pytest.mark.parametrize("how", ["read-only", "a file"])
def test_a_log_folder_that_cannot_be_written_is_refused_before_anything_is_recorded(tmp_path, monkeypatch, how):
    """It used to fail with a traceback after the state record was written."""
    logdir, spec, data = tmp_path / "logs", *_tiny()
    if how == "a file":
        logdir.write_text("not a folder")
    else:
        logdir.mkdir()
        _read_only(monkeypatch, logdir)
    with pytest.raises(state.StateError, match=rf"the log folder {logdir} cannot be written \(.*another --logdir"):
        sweeps.run(spec, data=data, logdir=str(logdir), state=str(tmp_path / "s"), stream=io.StringIO())
    assert not (tmp_path / "s" / "tiny" / "sweep.json").exists()


@pytest.mark.slow
def test_overwrite_from_another_state_stops_at_once_and_keeps_the_running_sweeps_runs(tmp_path):
    """`--overwrite` with another --state used to delete the running sweep's TensorBoard runs (the lock
    covered the state, not LOGDIR/NAME)."""
    first = start(["run", "focal_imbalance", "--trials", "10", "--executions", "1"], tmp_path)
    try:
        first.wait_for(r"\[focal_imbalance\] trial 00 ", timeout=300)
        runs = tmp_path / "logs" / "focal_imbalance"
        before = sorted(os.listdir(runs))
        second = subprocess.run(
            [sys.executable, "-m", "sweeps", "run", "focal_imbalance", "--trials", "2", "--overwrite",
             "--logdir", str(tmp_path / "logs"), "--state", str(tmp_path / "other")],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )  # fmt: skip
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"is already writing its TensorBoard runs in {runs} (pid {first.process.pid} on" in second.stderr
        assert "another --logdir" in second.stderr
        assert set(before) <= set(os.listdir(runs))  # nothing deleted
        assert not (tmp_path / "other" / "focal_imbalance" / "sweep.json").exists()  # nothing recorded
    finally:
        first.process.kill()
        first.finish(timeout=60)
