"""Captioning from the command line (the task is :mod:`rnnkit.apps.caption.task`).

    rnnkit train caption [--preset demo|tiny|large] [--data FOLDER] [--run-dir DIR] [key=value ...]
    rnnkit evaluate RUN
    rnnkit predict RUN IMAGE [IMAGE ...] [--beam-size K]
"""

from __future__ import annotations


def evaluate(args) -> int:
    from rnnkit.apps.caption import task
    from rnnkit.apps.vision.command import print_metrics

    print_metrics(task.evaluate(args.run))
    return 0


def add_predict_args(r) -> None:
    r.add_argument("images", nargs="+", help="image files")
    r.add_argument("--beam-size", type=int, default=None, help="beam width; 1 = greedy (default: the run's)")


def predict(args) -> int:
    from rnnkit.apps.caption import task

    for path, caption in task.predict(args.run, args.images, args.beam_size):
        print(f"{path}\t{caption}")
    return 0
