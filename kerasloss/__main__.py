"""python -m kerasloss recommend ...: the decision guide on the command line."""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parser():
    from kerasloss.tools.selector import TASKS

    parser = argparse.ArgumentParser(prog="python -m kerasloss", description="kerasloss on the command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{recommend}")
    recommend = commands.add_parser(
        "recommend",
        help="which loss for a problem, with its hyperparameters and the reason",
        description="Describe the problem; get the loss the decision guide recommends, the code that builds "
        "it, and why.",
    )
    recommend.add_argument("task", choices=TASKS, help="what the model predicts")
    recommend.add_argument("--imbalance", type=float, default=1.0, help="majority:minority ratio, e.g. 9 for 90/10")
    recommend.add_argument("--outliers", action="store_true", help="regression targets include gross errors")
    recommend.add_argument("--label-noise", action="store_true", help="some class labels are wrong")
    recommend.add_argument("--overconfident", action="store_true", help="probabilities are too confident")
    recommend.add_argument("--teacher", action="store_true", help="a trained teacher's logits are available")
    recommend.add_argument("--labels", choices=("sparse", "one_hot"), default="sparse", help="multiclass labels")
    recommend.add_argument("--views", action="store_true", help="embeddings from augmented views, no labels")
    recommend.add_argument(
        "--class-counts",
        type=_counts,
        default=None,
        help="multiclass: training examples per class, comma-separated (e.g. 500,120,30,6)",
    )
    recommend.add_argument("--minority-class", type=int, default=1, choices=(0, 1), help="binary: the rare class")
    return parser


def _counts(text):
    try:
        return [float(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def main(argv=None):
    args = _parser().parse_args(argv)
    from kerasloss.tools.selector import recommend

    try:
        choice = recommend(
            args.task,
            imbalance=args.imbalance,
            outliers=args.outliers,
            label_noise=args.label_noise,
            overconfident=args.overconfident,
            teacher=args.teacher,
            labels=args.labels,
            views=args.views,
            minority_class=args.minority_class,
            class_counts=args.class_counts,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"model.compile(loss={choice.code}, ...)")
    print(choice.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
