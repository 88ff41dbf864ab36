"""The objective equals torch's label-smoothed cross-entropy, and the encoder-decoder learns a task
that needs attention (reversing a token sequence) to exact match."""

import pytest
import torch
import torch.nn.functional as F

from rnnkit.models.seq2seq import SearchConfig, Seq2SeqConfig, seq2seq_loss
from rnnkit.apps.translate.batches import collate_pairs


def _sample(n, g):
    return [torch.randint(4, 12, (int(torch.randint(2, 8, (1,), generator=g)),), generator=g).tolist() for _ in range(n)]


@pytest.mark.learning
def test_reverse_task_is_learnt_to_exact_match():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = Seq2SeqConfig(src_vocab_size=12, tgt_vocab_size=12, embed_size=16, hidden_size=48,
                          attention="general", dropout=0.0).build()
    steps = 300
    opt = torch.optim.Adam(model.parameters(), 0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=steps, pct_start=0.2)
    for _ in range(steps):
        seqs = _sample(64, g)
        loss, _ = seq2seq_loss(model, collate_pairs(seqs, [s[::-1] for s in seqs], 0, 2, 3))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    test = _sample(200, g)  # fresh sequences, lengths 2..7, in one padded batch
    src, lengths, _, _ = collate_pairs(test, test, 0, 2, 3)
    exact = {}
    for search in (SearchConfig(strategy="greedy"), SearchConfig(beam_size=3)):
        hyps = model.translate(src, lengths, search)
        exact[search.strategy] = sum(h[0].tokens == s[::-1] for h, s in zip(hyps, test))
    # Measured (of 200) over 4 rounding settings (defaults, OMP_NUM_THREADS=1, ATEN_CPU_CAPABILITY=
    # default and =avx2) x 4 seeds: greedy 197-200, beam 193-200; a different CPU moves a 300-step
    # run like another seed. An untrained model gets 0, one that copies instead of reversing about 10
    # (the palindromes). Most beam misses are rows that stop once K=3 poor hypotheses have ended while
    # the right one is still live (the search's K-finished rule), so beam can trail greedy here.
    assert exact["greedy"] >= 185 and exact["beam"] >= 180, f"sequences reversed exactly, of 200: {exact}"


def test_loss_is_torch_label_smoothed_cross_entropy_without_padding():
    logits = torch.randn(3, 5, 7)
    gold = torch.randint(1, 7, (3, 5))
    gold[0, 3:] = 0
    gold[2, 1:] = 0

    def model(src, src_len, tgt_in):
        return logits

    for eps in (0.0, 0.1):
        loss, metrics = seq2seq_loss(model, (None, None, None, gold), eps, pad_id=0)
        ref = F.cross_entropy(logits.reshape(-1, 7), gold.reshape(-1), ignore_index=0, label_smoothing=eps)
        torch.testing.assert_close(loss, ref)
    real = gold != 0
    torch.testing.assert_close(metrics["nll"], F.cross_entropy(logits[real], gold[real]))
    torch.testing.assert_close(metrics["token_acc"], (logits[real].argmax(-1) == gold[real]).float().mean())
