"""``rnnkit predict RUN --prompt TEXT`` for a textgen run: continue a prompt character by character."""

from __future__ import annotations


def add_predict_args(p) -> None:
    p.add_argument("--prompt", required=True, help="the text to continue")
    p.add_argument("--max-new-tokens", type=int, default=300)
    p.add_argument("--strategy", choices=["greedy", "sample"], default="sample")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)


def predict(args) -> int:
    from rnnkit.apps.textgen import task
    from rnnkit.decoding import DecodingConfig

    decoding = DecodingConfig(strategy=args.strategy, temperature=args.temperature, top_k=args.top_k,
                              top_p=args.top_p, max_new_tokens=args.max_new_tokens, seed=args.seed)
    print(task.generate(args.run, args.prompt, decoding))
    return 0
