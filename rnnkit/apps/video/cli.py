"""Video from the command line (the task is :mod:`rnnkit.apps.video.task`).

    rnnkit train video [--preset demo|tiny|convlstm|large] [--data FOLDER] [--run-dir DIR] [key=value ...]
    rnnkit evaluate RUN
    rnnkit predict RUN CLIP [CLIP ...] [--beam-size K]     (video files or frame folders)
"""

from __future__ import annotations


def evaluate(args) -> int:
    from rnnkit.apps.video import task
    from rnnkit.apps.vision.command import print_metrics

    result = task.evaluate(args.run)
    result.pop("confusion")
    print_metrics(result)
    return 0


def add_predict_args(r) -> None:
    r.add_argument("clips", nargs="+", help="video files or folders of frame images")
    r.add_argument("--beam-size", type=int, default=None, help="caption beam width (default: the run's)")


def predict(args) -> int:
    from rnnkit.apps.video import task

    for row in task.predict(args.run, args.clips, args.beam_size):
        fields = [row["path"], row["label"], f"{row['probability']:.3f}"]
        fields += [row[k] for k in ("digit", "caption") if k in row]
        print("\t".join(fields))
    return 0
