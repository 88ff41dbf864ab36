"""A small Trainer run in its own process, for the fault-injection tests.

    python tiny_run.py RUN_DIR EPOCHS [--resume] [--inject SPEC] [--nan-step N] [--out FILE]

Trains a one-layer GRU regressor on fixed random data (seeded: two runs with the same settings
are identical), with a checkpoint every epoch; ``--out`` saves the final weights (safetensors).
``--nan-step N`` makes batch N's gradient NaN while its loss stays finite (``sqrt`` at 0 has an
infinite derivative, times 0), the case that used to slip into a checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from inject import install  # noqa: E402


class Regressor(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(3, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("run_dir")
    p.add_argument("epochs", type=int)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--inject", default="")
    p.add_argument("--nan-step", type=int, default=0)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    install(a.inject)
    from rnnkit.train import Trainer, TrainConfig, TrainingDiverged
    from rnnkit.train.checkpoint import save_weights

    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 12, 3, generator=g)
    y = x.sum(dim=(1, 2)).unsqueeze(1) / 6
    train = torch.utils.data.TensorDataset(x[:80], y[:80])
    val = torch.utils.data.TensorDataset(x[80:], y[80:])
    torch.manual_seed(0)
    model = Regressor()

    def loss_fn(m, batch):
        xb, yb = batch
        loss = torch.nn.functional.mse_loss(m(xb), yb)
        if a.nan_step and trainer.step + 1 == a.nan_step:
            loss = loss + torch.sqrt(0.0 * next(m.parameters()).sum())
        return loss

    cfg = TrainConfig(epochs=a.epochs, lr=1e-2, batch_size=16, progress=False, tensorboard=False, plots=False,
                      log_every=0, device="cpu")
    trainer = Trainer(model, loss_fn, cfg, run_dir=a.run_dir)
    try:
        trainer.fit(train, val, resume=a.resume)
    except TrainingDiverged as err:
        print(f"stopped: {err}", file=sys.stderr)
        return 3
    if a.out:
        save_weights(a.out, trainer.model.state_dict())
    print(f"done: epoch {trainer.epoch} step {trainer.step}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
