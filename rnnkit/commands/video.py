"""``rnnkit video``: activity recognition and captioning of clips (see rnnkit.vision.video_task).

    rnnkit video train [--preset demo|tiny|convlstm|large] [--data FOLDER] [--run-dir DIR] [key=value ...]
    rnnkit video evaluate RUN
    rnnkit video predict RUN CLIP [CLIP ...] [--beam-size K]     (video files or frame folders)
"""

from __future__ import annotations


def register(subparsers) -> None:
    from rnnkit.vision.command import add_train_parser

    p = subparsers.add_parser("video", help="video activity recognition and clip captioning")
    actions = p.add_subparsers(dest="action", required=True)
    add_train_parser(actions, "video", "a folder of videos or frame folders with labels.tsv (sets data.path)")
    e = actions.add_parser("evaluate", help="held-out accuracy and caption scores of a saved run")
    e.add_argument("run")
    r = actions.add_parser("predict", help="label and caption video files or frame-image folders")
    r.add_argument("run")
    r.add_argument("clips", nargs="+")
    r.add_argument("--beam-size", type=int, default=None, help="caption beam width (default: the run's)")
    p.set_defaults(func=_handle)


def _handle(args, rest) -> int:
    from rnnkit.vision import video_task as task
    from rnnkit.vision.command import no_extra, print_metrics, run_train

    if args.action == "train":
        return run_train(task, args, rest)
    no_extra(rest)
    if args.action == "evaluate":
        result = task.evaluate(args.run)
        result.pop("confusion")
        print_metrics(result)
        return 0
    for row in task.predict(args.run, args.clips, args.beam_size):
        fields = [row["path"], row["label"], f"{row['probability']:.3f}"]
        fields += [row[k] for k in ("digit", "caption") if k in row]
        print("\t".join(fields))
    return 0
