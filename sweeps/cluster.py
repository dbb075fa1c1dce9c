"""keras-tuner's distributed mode (one chief oracle, workers asking it for trials over gRPC), with the one
thing it lacks: a chief that survives a dead worker.

keras-tuner's own chief (`oracle_chief.start_server`) waits until every worker that ever asked for a
trial has been told to stop and every running trial has ended, so a worker that dies mid-trial leaves it
waiting forever. Here:

- every request a worker sends carries its id (gRPC metadata), and a worker sends a heartbeat every
  `HEARTBEAT_SECONDS` while it lives;
- the chief gives up on a worker it has not heard from in `timeout` seconds, or at once when it started
  the worker itself and saw the process end: the worker's trial goes back to keras-tuner's retry queue
  (as an interrupted trial does when a sweep is resumed) and the next worker that asks runs it. A trial
  whose worker dies twice is ended as FAILED, so a trial that kills its worker cannot loop;
- a worker given up on that was only slow has its result refused (its sessions are not committed) and
  carries on with a new trial;
- a worker is told to stop only when no trial is running anywhere: until then it idles, so a trial
  re-queued late still has a worker to run it.

The gRPC port carries no authentication and no encryption: whoever reaches it can read the search space
and the trials and report results. The chief binds to 127.0.0.1 unless `bind` says otherwise.
"""

import collections
import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time

import grpc

from sweeps.tuner_internals import oracle_chief, protos, retry_queue, synchronized, trial_module

TUNER_ID_KEY = "kerasloss-tuner-id"
HEARTBEAT_SECONDS = 2.0
IDLE_SECONDS = 1.0  # how long the chief holds an idle worker's request before answering "ask again"
DEATHS_BEFORE_FAILED = 2
Status = trial_module.TrialStatus


# ---- chief -------------------------------------------------------------------------------------------


@synchronized
def _create_or_idle(oracle, tuner_id):
    """keras-tuner's create_trial, except that a worker is not stopped while trials run elsewhere."""
    trial = oracle.create_trial(tuner_id)
    if trial.status == Status.STOPPED and oracle.ongoing_trials:
        oracle.tuner_ids.add(tuner_id)  # create_trial forgot it when it said STOPPED
        return trial_module.Trial(oracle.get_space(), status=Status.IDLE)
    return trial


@synchronized
def _owns(oracle, tuner_id, trial_id):
    ongoing = oracle.ongoing_trials.get(tuner_id)
    return ongoing is not None and ongoing.trial_id == trial_id


@synchronized
def _update_if_owned(oracle, tuner_id, trial_id, metrics, step):
    if tuner_id is not None and not _owns(oracle, tuner_id, trial_id):
        return None
    return oracle.update_trial(trial_id, metrics, step=step)


@synchronized
def _end_if_owned(oracle, tuner_id, trial):
    if tuner_id is not None and not _owns(oracle, tuner_id, trial.trial_id):
        return False
    oracle.end_trial(trial)
    return True


@synchronized
def _give_up(oracle, tuner_id, deaths, reason):
    """Forget a dead worker; re-queue its trial, or end it as FAILED if its workers died too often.
    Returns (trial id or None, what happened to it)."""
    oracle.tuner_ids.discard(tuner_id)
    trial = oracle.ongoing_trials.get(tuner_id)
    if trial is None:
        return None, ""
    deaths[trial.trial_id] += 1
    if deaths[trial.trial_id] < DEATHS_BEFORE_FAILED:
        oracle.ongoing_trials.pop(tuner_id)
        retry_queue(oracle).append(trial.trial_id)
        oracle.save()
        return trial.trial_id, "goes back to the queue"
    trial.status = Status.FAILED
    trial.message = f"its worker died {deaths[trial.trial_id]} times (last: {tuner_id}, {reason})"
    oracle.end_trial(trial)
    return trial.trial_id, "is ended as FAILED"


class WorkersLostError(RuntimeError):
    """Every local worker died and none may be restarted; the sweep's state is kept for a re-run."""


class Chief(oracle_chief.OracleServicer):
    """keras-tuner's oracle service plus worker liveness, ownership checks and sweep progress."""

    def __init__(self, oracle, name, metrics, planned, timeout, stream=sys.stdout):
        super().__init__(oracle)
        self.name, self.metrics, self.planned, self.timeout, self.stream = name, metrics, planned, timeout, stream
        self.last_heard = {}
        self.deaths = collections.Counter()
        self.started = time.monotonic()
        self.finished_before = self._finished()
        self.lock = threading.Lock()

    def say(self, text):
        print(f"[{self.name}] {text}", file=self.stream, flush=True)

    def _finished(self):
        return sum(1 for t in self.oracle.trials.values() if t.status in (Status.COMPLETED, Status.FAILED))

    def _heard(self, context, tuner_id=None):
        tuner_id = dict(context.invocation_metadata()).get(TUNER_ID_KEY, tuner_id)
        if tuner_id is not None:
            with self.lock:
                self.last_heard[tuner_id] = time.monotonic()
        return tuner_id

    def CreateTrial(self, request, context):  # noqa: N802 (gRPC names)
        self._heard(context, request.tuner_id)
        trial = _create_or_idle(self.oracle, request.tuner_id)
        if trial.status == Status.STOPPED:
            self.stop_triggered = True
            with self.lock:  # a worker told to stop is not missed when it falls silent
                self.last_heard.pop(request.tuner_id, None)
        elif trial.status == Status.IDLE:
            time.sleep(IDLE_SECONDS)
        else:
            self.say(f"trial {trial.trial_id} -> {request.tuner_id}")
        return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

    def UpdateTrial(self, request, context):  # noqa: N802 (gRPC names)
        tuner_id = self._heard(context)
        trial = _update_if_owned(self.oracle, tuner_id, request.trial_id, request.metrics, request.step)
        if trial is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"trial {request.trial_id} is not {tuner_id}'s")
        return protos.get_service().UpdateTrialResponse(trial=trial.to_proto())

    def EndTrial(self, request, context):  # noqa: N802 (gRPC names)
        tuner_id = self._heard(context)
        trial = trial_module.Trial.from_proto(request.trial)
        if not _end_if_owned(self.oracle, tuner_id, trial):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"trial {trial.trial_id} is not {tuner_id}'s")
        self._progress(trial.trial_id, tuner_id)
        return protos.get_service().EndTrialResponse()

    def GetTrial(self, request, context):  # noqa: N802 (gRPC names)
        """Also the heartbeat: an empty trial id from a worker between trials, or its current trial."""
        tuner_id = self._heard(context)
        if not request.trial_id:
            return protos.get_service().GetTrialResponse()
        if tuner_id is not None and not _owns(self.oracle, tuner_id, request.trial_id):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"trial {request.trial_id} is not {tuner_id}'s")
        return super().GetTrial(request, context)

    def _progress(self, trial_id, tuner_id):
        trial = self.oracle.trials[trial_id]
        done = self._finished()
        ran = done - self.finished_before
        elapsed = time.monotonic() - self.started
        if trial.status == Status.COMPLETED:
            value = trial.metrics.get_last_value(self.metrics[0])
            result = f"{self.metrics[0]} {value:.4g}"
        else:
            result = trial.status
        left = f"~{elapsed / ran * max(self.planned - done, 0):.0f} s left" if self.planned and ran else "? left"
        self.say(
            f"trial {trial_id} by {tuner_id}: {result} | {done} of {self.planned or '?'} finished, "
            f"elapsed {elapsed:.0f} s, {left}"
        )

    def give_up(self, tuner_id, reason):
        trial_id, outcome = _give_up(self.oracle, tuner_id, self.deaths, reason)
        with self.lock:
            self.last_heard.pop(tuner_id, None)
        if trial_id is None:
            self.say(f"{tuner_id} {reason}; it was between trials")
        else:
            self.say(f"{tuner_id} {reason}; its trial {trial_id} {outcome}")

    def check_heartbeats(self):
        """Give up on every worker silent for longer than the timeout."""
        now = time.monotonic()
        with self.lock:
            silent = [t for t, heard in self.last_heard.items() if now - heard > self.timeout]
        for tuner_id in silent:
            self.give_up(tuner_id, f"sent no heartbeat for {self.timeout:g} s")

    def done(self):
        """Every worker that asked was told to stop and no trial runs; or the oracle's trial budget is spent
        and every trial has ended (its remote workers may have died after the last one: none will ask)."""
        if self.stop_triggered and oracle_chief.exit_chief(self.oracle):
            return True
        oracle = self.oracle
        spent = bool(oracle.max_trials) and len(oracle.trials) >= oracle.max_trials
        return (
            spent and not oracle.ongoing_trials and not retry_queue(oracle) and self._finished() == len(oracle.trials)
        )


def serve(chief, bind):
    """A gRPC server for the chief on `bind` ("host:port"; port 0 picks a free one). Returns
    (server, the port it listens on)."""
    host, _, port = bind.rpartition(":")
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=32))
    protos.get_service_grpc().add_OracleServicer_to_server(chief, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot listen on {bind}")
    server.start()
    return server, bound


REFUSED = 3  # a worker's exit status when it refuses the sweep (its error says why): a restart refuses too


class LocalWorkers:
    """Worker processes on this machine; a worker that dies is reported to the chief and restarted (at
    most as many restarts in all as there are workers), one that refuses the sweep (exit status 3: the
    data or model it sees is not the chief's record, ...) is not. The machine's cores are shared out
    between them (TensorFlow's and OpenMP's thread pools), unless the environment already sets them: on
    2 cores, two workers of one thread each ran two sweeps in 32 s, of two threads each in 38 s."""

    THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")

    def __init__(self, chief, command, count):
        self.chief, self.command = chief, command
        self.restarts_left = count
        self.refused = []  # the ids of workers that refused the sweep
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.env = dict(os.environ)
        # what this process can import, workers can: a model function from a folder put on sys.path by hand
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in [os.getcwd(), *sys.path] if p and os.path.isdir(p))
        for variable in self.THREAD_VARIABLES:
            self.env.setdefault(variable, str(max(1, cores // count)))
        self.processes = {f"worker{i}": self._start(f"worker{i}") for i in range(1, count + 1)}

    def _start(self, tuner_id):
        process = subprocess.Popen(self.command(tuner_id), env=self.env)  # its output goes to ours
        self.chief.say(f"{tuner_id} started (pid {process.pid})")
        return process

    def check(self):
        """Report ended workers; returns False when none is left while the chief still waits."""
        for tuner_id, process in list(self.processes.items()):
            code = process.poll()
            if code is None or code == 0:
                continue
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            if code == REFUSED:
                how += ", refusing the sweep (its error is above)"
                self.refused.append(tuner_id)
            self.chief.give_up(tuner_id, f"ended with {how}")
            if self.restarts_left > 0 and code != REFUSED:
                self.restarts_left -= 1
                self.processes[tuner_id] = self._start(tuner_id)
            else:
                del self.processes[tuner_id]
        return any(p.poll() is None for p in self.processes.values())

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def run_chief(chief, bind, start_workers=None, poll_seconds=0.5):
    """Serve until the search is over: every trial ended, every worker told to stop. `start_workers`,
    given the port, starts local workers (a `LocalWorkers`), or is None when they join from elsewhere."""
    server, port = serve(chief, bind)
    host = bind.rpartition(":")[0]
    chief.say(f"chief listening on {host}:{port} (gRPC, unauthenticated)")
    workers = start_workers(port) if start_workers else None
    try:
        while not chief.done():
            time.sleep(poll_seconds)
            alive = workers.check() if workers else True
            chief.check_heartbeats()
            if not alive and not chief.stop_triggered and not chief.last_heard:  # no worker left anywhere
                if workers.refused:
                    raise WorkersLostError(
                        f"sweep '{chief.name}': no local worker is left: {', '.join(workers.refused)} refused the "
                        "sweep (their errors are above); no result of theirs was taken"
                    )
                raise WorkersLostError(
                    f"sweep '{chief.name}': every local worker died and no restart is left; the finished "
                    "trials are kept: run the same command again to resume"
                )
    finally:
        if workers:
            workers.stop()
        server.stop(grace=1)
    return port


# ---- worker ------------------------------------------------------------------------------------------


class _TaggedStub:
    """The worker's gRPC stub, sending the worker's id with every request."""

    def __init__(self, stub, tuner_id):
        self._stub, self._metadata = stub, ((TUNER_ID_KEY, tuner_id),)

    def __getattr__(self, name):
        method = getattr(self._stub, name)

        def call(*args, **kwargs):
            return method(*args, metadata=self._metadata, **kwargs)

        return call


class Heartbeat:
    """A worker's background heartbeat. It learns when the chief has given its trial to another worker
    (`lost`), and ends the process when the chief has been unreachable for `chief_timeout` seconds after
    having answered once (a chief that is gone will not come back for this worker)."""

    def __init__(self, client, tuner_id, chief_timeout=60.0):
        client.stub = _TaggedStub(client.stub, tuner_id)
        self.stub, self.chief_timeout = client.stub, chief_timeout
        self.trial_id = ""
        self.lost = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sweeps-heartbeat", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()

    def _beat(self):
        answered = None
        while not self._stop.wait(HEARTBEAT_SECONDS):
            trial_id = self.trial_id
            try:
                self.stub.GetTrial(protos.get_service().GetTrialRequest(trial_id=trial_id), timeout=10)
                answered = time.monotonic()
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    self.lost.add(trial_id)
                    answered = time.monotonic()
                elif answered is not None and time.monotonic() - answered > self.chief_timeout:
                    print(f"the chief has not answered for {self.chief_timeout:g} s; stopping", flush=True)
                    os._exit(3)


class ChiefUnreachableError(RuntimeError):
    """A worker found no chief at its address within the timeout."""


def wait_for_chief(address, timeout):
    """Return once the chief at `address` ("host:port") accepts connections; raise after `timeout` seconds
    (keras-tuner's client would otherwise wait for it forever, silently)."""
    channel = grpc.insecure_channel(address)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise ChiefUnreachableError(
            f"no chief answers at {address} after {timeout:g} s: start it first (`python -m sweeps run SPEC --bind "
            "HOST:PORT`), and check the address and that the port is reachable from here"
        ) from None
    finally:
        channel.close()


def refused(error):
    """Whether a gRPC error is the chief refusing a result for a trial it gave to another worker."""
    return isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.FAILED_PRECONDITION
