"""python -m sweeps {list, run, worker, results, best, board, report, experiment}: the sweep harness's
command line. `list`, `results` and `--help` import no TensorFlow: they answer at once."""

import argparse
import os
import pathlib
import sys
import time

from sweeps import fields

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DESCRIPTION = """\
Search loss hyperparameters with keras-tuner on the exercise datasets or your own data and model; results
go to TensorBoard's HParams dashboard (`make tensorboard`). A sweep is a spec: a name of the default suite
(sweeps/specs/NAME.toml) or a path to a .toml file."""

SPEC_FIELDS = fields.help_text()


def _on_a_sweep(commands, command, summary, description):
    """A subcommand that reads one sweep's state: NAME and --state."""
    parser = commands.add_parser(command, help=summary, description=description)
    parser.add_argument("name", metavar="NAME", help="the sweep (a spec path: its file name)")
    parser.add_argument("--state", default=".sweeps", help="the sweep's state folder (default: .sweeps)")
    return parser


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sweeps",
        description=DESCRIPTION,
        epilog=SPEC_FIELDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{list,run,worker,results,best,board,report,experiment}"
    )
    commands.add_parser("list", help="the default suite's sweeps: dataset, objective, space, seeds, description")

    run = commands.add_parser(
        "run",
        help="run (or resume) sweeps",
        description="Run the named sweeps (all of the default suite when none is named). Re-running an "
        "interrupted sweep with the same --state continues it: finished trials are kept, the interrupted "
        "one is run again once. A spec changed since its state was made is refused (--overwrite starts "
        "over); raising only `trials` (or --trials) extends the search.",
        epilog=SPEC_FIELDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "names",
        nargs="*",
        metavar="SPEC",
        help="sweeps to run: names of the default suite or paths to .toml specs (default: the whole suite)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="forget the named sweeps' earlier state and TensorBoard runs, and start over",
    )
    run.add_argument("--trials", type=int, help="the trial budget (default: the spec's `trials`)")
    run.add_argument(
        "--executions", type=int, help="seeded trainings per trial (default: the spec's `executions`); 1: a quick look"
    )
    run.add_argument(
        "--tuner",
        choices=("random", "bayesian", "hyperband", "grid"),
        help="the keras-tuner oracle (default: the spec's `tuner`)",
    )
    run.add_argument("--logdir", default="logs", help="TensorBoard output: one folder per sweep (default: logs)")
    run.add_argument("--state", default=".sweeps", help="the tuners' state, for resuming (default: .sweeps)")
    run.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run keras-tuner's distributed mode: this process is the chief and starts N worker processes "
        "on loopback (default: 0, one process runs the search). A worker that dies is restarted and its "
        "trial re-run",
    )
    run.add_argument(
        "--bind",
        metavar="HOST:PORT",
        help="where the chief listens (implies distributed mode; default with --workers: 127.0.0.1 on a free "
        "port). The gRPC port is unauthenticated: bind beyond loopback only on a trusted network. With "
        "--workers 0 the chief waits for `python -m sweeps worker` processes from other machines",
    )
    run.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="the chief gives up on a worker silent this long and re-queues its trial (default: 30)",
    )

    worker = commands.add_parser(
        "worker",
        help="one worker of a distributed sweep (for other machines)",
        description="Ask the chief of a distributed sweep (`python -m sweeps run SPEC --bind HOST:PORT`) for "
        "trials until the search is over. The worker runs the spec the chief recorded in --state (your data "
        "and model included), so --state and --logdir must be the chief's folders: on another machine, a "
        "shared file system; data files and model modules must be at the same paths there.",
    )
    worker.add_argument("name", metavar="NAME", help="the sweep the chief is running (a spec path: its file name)")
    worker.add_argument("--oracle", required=True, metavar="HOST:PORT", help="the chief's address")
    worker.add_argument("--id", required=True, help="this worker's id, unique in the sweep (e.g. host-1)")
    worker.add_argument(
        "--connect-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up when no chief answers at --oracle within this long (default: 60)",
    )
    worker.add_argument("--logdir", default="logs", help="the chief's TensorBoard folder (default: logs)")
    worker.add_argument("--state", default=".sweeps", help="the chief's state folder (default: .sweeps)")

    results = _on_a_sweep(
        commands,
        "results",
        "every trial of a sweep as a table: hyperparameters, val_/test_ metrics and their spread",
        "Print a sweep's results table from its state: one row per trial with its id, status, hyperparameters, "
        "every val_ and test_ metric (means over the executions) with its _std, the epochs trained and the "
        "seconds taken. Trials are chosen on val_ metrics; test_ ones are reported only.",
    )
    results.add_argument("--format", choices=("csv", "json", "markdown"), default="markdown")
    best = _on_a_sweep(
        commands,
        "best",
        "the best trial's trained model: where it is, or a copy with --save",
        "The sweep keeps the trained predictor (logits, estimates or embeddings) of its best trial on validation "
        "as STATE/NAME/best/model.keras. Print which trial it is and its metrics, and with --save copy it to "
        "PATH.keras (load it with keras.models.load_model after `import kerasloss`).",
    )
    best.add_argument("--save", metavar="PATH.keras", help="copy the model here")
    board = _on_a_sweep(
        commands,
        "board",
        "serve one sweep in TensorBoard with its own HParams config (make tensorboard SWEEP=NAME)",
        "TensorBoard on one sweep's runs, with a config of that sweep alone, so its searched hyperparameters and "
        "its objective are the columns shown without clicking.",
    )
    board.add_argument("--logdir", default="logs", help="the sweeps' TensorBoard folder (default: logs)")
    board.add_argument("--port", type=int, default=6006)

    report = commands.add_parser(
        "report",
        help="the best configuration of each sweep, as a table and plots",
        description="Print the best configuration of each sweep found in --state with its metrics, and write "
        "the table (LOGDIR/report.md) and one PNG per sweep of the objective against each hyperparameter.",
    )
    report.add_argument("--logdir", default="logs", help="where the table and plots are written (default: logs)")
    report.add_argument("--state", default=".sweeps", help="the tuners' state to read (default: .sweeps)")

    experiment = commands.add_parser(
        "experiment",
        help="reproduce the lesson's experiments",
        description="Run the named experiments (all when none is named), each with several seeded repeats: "
        "TensorBoard runs in LOGDIR/experiments/NAME/, a figure LOGDIR/experiments/NAME.png, and a row of "
        "LOGDIR/experiments.md saying what was measured and whether it agrees with the lesson.",
    )
    experiment.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (default: all)")
    experiment.add_argument("--repeats", type=int, default=5, help="seeded repeats per variant (default: 5)")
    experiment.add_argument(
        "--budget", type=float, default=1.0, help="share of the lesson's epochs to train (default: 1.0)"
    )
    experiment.add_argument("--logdir", default="logs", help="where runs, figures and the table go (default: logs)")
    return parser


def _list():
    """The default suite from its TOML files alone (no TensorFlow import): name, dataset, objective, space."""
    import tomllib

    folder = pathlib.Path(__file__).parent / "specs"
    for path in sorted(folder.glob("*.toml")):
        table = tomllib.loads(path.read_text())
        space = ", ".join(table.get("space", {}))
        objective = table.get("objective", {}).get("name", "?")
        executions = table.get("executions", 1)
        print(
            f"{path.stem:<24} {table.get('dataset', '?'):<17} val_{objective} over {space} "
            f"(x{executions} seeds): {table.get('description', '')}"
        )
    return 0


def _name(argument):
    return pathlib.Path(argument).stem if argument.endswith(".toml") else argument


def _results(args):
    from sweeps import results, state

    try:
        result = results.load(args.state, _name(args.name))
    except state.StateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(result.table(args.format))
    return 0


def _best(args):
    import shutil

    from sweeps import best, state

    name = _name(args.name)
    try:
        source = best.path_of(args.state, name)
    except (FileNotFoundError, state.StateError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    entry = best.record(args.state, name)
    shown = ", ".join(f"{k} {v:.4g}" for k, v in entry["metrics"].items())
    print(f"sweep {name}: best trial {entry['trial_id']} (execution {entry['execution']}), {source}: {shown}")
    if args.save:
        if not args.save.endswith(".keras"):
            print("error: --save takes a path ending in .keras", file=sys.stderr)
            return 2
        os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
        shutil.copyfile(source, args.save)
        print(f"saved to {args.save}")
    return 0


def _board(args):
    from sweeps import state

    name = _name(args.name)
    try:
        record = state.read(args.state, name)
    except state.StateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if record is None or not os.path.isdir(os.path.join(args.logdir, name)):
        print(f"error: no sweep '{name}' in {args.state} and {args.logdir}: run it first", file=sys.stderr)
        return 2
    from sweeps import tensorboard as board

    view = board.sweep_view(state.recorded(record), args.logdir, os.path.join(args.state, name))
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", view, "--host", "127.0.0.1"]
    os.execv(sys.executable, [*command, "--port", str(args.port)])  # this process becomes TensorBoard


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "results":
        return _results(args)
    if args.command == "best":
        return _best(args)
    if args.command == "board":
        return _board(args)
    from sweeps import spec as specs

    if args.command == "report":
        from sweeps import report

        print(report.write(args.state, args.logdir))
        return 0

    if args.command == "experiment":
        from sweeps import experiments

        if args.repeats < 1 or not 0 < args.budget <= 1:
            print("error: --repeats must be >= 1 and --budget in (0, 1]", file=sys.stderr)
            return 2
        try:
            chosen = [experiments.load(name).NAME for name in args.names]
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        experiments.run(chosen, args.logdir, repeats=args.repeats, budget=args.budget)
        print(f"table: {os.path.join(args.logdir, 'experiments.md')}", flush=True)
        return 0

    if args.command == "worker":
        from sweeps import cluster, state, tuning

        name = pathlib.Path(args.name).stem if args.name.endswith(".toml") else args.name
        try:
            tuning.work(name, args.logdir, args.state, args.oracle, args.id, connect_timeout=args.connect_timeout)
        except tuning.WorkerRefusedError as error:  # a restart would refuse too: the chief does not restart it
            print(f"error: {error}", file=sys.stderr)
            return cluster.REFUSED
        except (specs.SpecError, state.StateError, ValueError, cluster.ChiefUnreachableError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0

    if args.workers < 0:
        print(f"error: --workers must be >= 0, got {args.workers}", file=sys.stderr)
        return 2
    for option in ("trials", "executions"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            print(f"error: --{option} must be >= 1, got {getattr(args, option)}", file=sys.stderr)
            return 2
    try:
        chosen = [specs.load(name) for name in (args.names or specs.available())]
    except specs.SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from sweeps import api, cluster, state
    from sweeps.sources import DataError

    started, failed = time.perf_counter(), 0
    for spec in chosen:
        try:
            result = api.run(
                spec,
                trials=args.trials,
                executions=args.executions,
                tuner=args.tuner,
                logdir=args.logdir,
                state=args.state,
                workers=args.workers,
                overwrite=args.overwrite,
                bind=args.bind,
                heartbeat_timeout=args.heartbeat_timeout,
            )
        except (specs.SpecError, DataError, state.StateError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except (cluster.WorkersLostError, RuntimeError) as error:  # every trial failed; workers lost
            print(f"error: {error}", file=sys.stderr)
            return 1
        failed += result.failed
    summary = f"{len(chosen)} sweep(s) in {time.perf_counter() - started:.0f} s"
    if failed:
        summary += f"; {failed} trial(s) FAILED (diverged: see the reasons above)"
    board = f"make tensorboard LOGDIR={args.logdir}" if args.logdir != "logs" else "make tensorboard"
    print(f"{summary}; `{board}` to look at every sweep in one HParams table.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
