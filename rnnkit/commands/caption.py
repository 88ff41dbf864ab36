"""``rnnkit caption``: image captioning (see rnnkit.vision.caption_task).

    rnnkit caption train [--preset demo|tiny|large] [--data FOLDER] [--run-dir DIR] [key=value ...]
    rnnkit caption evaluate RUN
    rnnkit caption predict RUN IMAGE [IMAGE ...] [--beam-size K]
"""

from __future__ import annotations


def register(subparsers) -> None:
    from rnnkit.vision.command import add_train_parser

    p = subparsers.add_parser("caption", help="image captioning")
    actions = p.add_subparsers(dest="action", required=True)
    add_train_parser(actions, "caption", "a folder of images with captions.tsv (sets data.path)")
    e = actions.add_parser("evaluate", help="held-out BLEU of a saved run, with its baselines")
    e.add_argument("run")
    r = actions.add_parser("predict", help="caption image files")
    r.add_argument("run")
    r.add_argument("images", nargs="+")
    r.add_argument("--beam-size", type=int, default=None, help="beam width; 1 = greedy (default: the run's)")
    p.set_defaults(func=_handle)


def _handle(args, rest) -> int:
    from rnnkit.vision import caption_task as task
    from rnnkit.vision.command import no_extra, print_metrics, run_train

    if args.action == "train":
        return run_train(task, args, rest)
    no_extra(rest)
    if args.action == "evaluate":
        print_metrics(task.evaluate(args.run))
        return 0
    for path, caption in task.predict(args.run, args.images, args.beam_size):
        print(f"{path}\t{caption}")
    return 0
