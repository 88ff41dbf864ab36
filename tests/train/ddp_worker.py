"""One rank of the data-parallel test (run as a script by test_train_distributed.py).

    python ddp_worker.py RANK WORLD_SIZE INIT_FILE OUT_DIR [GRAD_ACCUM_STEPS]

Trains the shared tiny regression model on a Dataset with a per-rank batch of
8 / WORLD_SIZE / GRAD_ACCUM_STEPS (default 1), so every world size and accumulation sees the same
global batches; rank 0 saves the weights and history.
"""

import os
import sys

import _trainkit as kit  # this script's folder is sys.path[0]
import torch
import torch.distributed as dist

from rnnkit.train import Trainer

GLOBAL_BATCH = 8


def config(world: int, accum: int = 1):
    return kit.quiet_config(epochs=2, batch_size=GLOBAL_BATCH // world // accum, lr=0.02, schedule="cosine",
                            grad_clip=1.0, log_every=1, seed=3, grad_accum_steps=accum)


def train(rank: int, world: int, out: str, accum: int = 1):
    ds = kit.regression_data(n=48)
    val = kit.regression_data(n=13, seed=1)  # odd: the ranks' validation shards differ in size
    model = kit.mlp(seed=0)
    trainer = Trainer(model, kit.mse_loss, config(world, accum), run_dir=os.path.join(out, f"run{rank}"))
    history = trainer.fit(ds, val)
    return model, history, trainer


def main() -> None:
    rank, world, init_file, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    accum = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        model, history, trainer = train(rank, world, out, accum)
        wrapped = type(trainer._wrapped).__name__
        if rank == 0:
            torch.save({"weights": model.state_dict(), "history": history, "wrapped": wrapped, "accum": accum},
                       os.path.join(out, "result.pt"))
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
