"""The training objective of a :class:`~rnnkit.models.seq2seq.Seq2Seq` for :class:`rnnkit.train.Trainer`."""

from __future__ import annotations

import torch

__all__ = ["seq2seq_loss"]


def seq2seq_loss(model, batch, label_smoothing: float = 0.0, pad_id: int = 0):
    """Label-smoothed cross-entropy, mean over real target tokens (padding ignored).

    With eps = label_smoothing and log-probabilities lp over V classes (as torch's
    ``cross_entropy(label_smoothing=eps)``)::

        loss_t = (1 - eps) * (-lp[y_t]) + eps * mean_v(-lp[v])

    Metrics: ``nll`` (the plain -lp[y_t], whose exp is the perplexity) and ``token_acc``.
    One log-softmax serves all three: the logits are the largest tensor of the step.
    """
    src, src_len, tgt_in, tgt_out = batch
    logits = model(src, src_len, tgt_in)
    lp = torch.log_softmax(logits.float(), dim=-1)
    real = (tgt_out != pad_id).to(lp.dtype)
    n = real.sum().clamp(min=1.0)
    nll_t = -lp.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
    per_token = nll_t if label_smoothing == 0 else (1 - label_smoothing) * nll_t - label_smoothing * lp.mean(-1)
    loss = (per_token * real).sum() / n
    with torch.no_grad():
        nll = (nll_t * real).sum() / n
        acc = ((lp.argmax(-1) == tgt_out).to(lp.dtype) * real).sum() / n
    return loss, {"nll": nll, "token_acc": acc}
