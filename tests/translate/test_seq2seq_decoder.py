"""Encoder and decoder: padding changes nothing, the parallel and step-wise paths agree, and
scheduled sampling feeds exactly what it should."""

import pytest
import torch

from rnnkit.models.seq2seq import AttentionDecoder

KINDS = [("bahdanau", False), ("bahdanau", True), ("dot", False), ("dot", True), ("general", False), ("general", True)]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_padded_batch_encodes_each_sentence_as_alone(kit, cell):
    model = kit.make_model(cell=cell)
    src, lengths = kit.random_batch(B=4, S=7)
    out = model.encoder(src, lengths)
    for b in range(4):
        n = int(lengths[b])
        alone = model.encoder(src[b:b + 1, :n], lengths[b:b + 1])
        torch.testing.assert_close(out.memory[b, :n], alone.memory[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out.summary[b], alone.summary[0], atol=1e-6, rtol=1e-5)
        assert torch.all(out.memory[b, n:] == 0) and torch.equal(out.mask[b], torch.arange(7) < n)


@pytest.mark.parametrize("attention,feeding", KINDS)
def test_teacher_forcing_equals_stepping(kit, attention, feeding):
    model = kit.make_model(attention, feeding, cell="lstm")
    src, lengths = kit.random_batch()
    tgt = torch.randint(4, 11, (4, 6))
    tgt[:, 0] = kit.BOS
    logits, attn = model(src, lengths, tgt, return_attention=True)
    state, bank = model.start(src, lengths)
    for t in range(tgt.shape[1]):
        step_logits, state, w = model.decoder.step(tgt[:, t], state, bank)
        torch.testing.assert_close(logits[:, t], step_logits, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(attn[:, t], w, atol=1e-6, rtol=1e-5)
    # the padded source positions get no weight at any step
    pad = torch.arange(src.shape[1]) >= lengths.unsqueeze(1)
    assert torch.all(attn.masked_select(pad.unsqueeze(1).expand_as(attn)) == 0)


def test_parallel_path_equals_loop_path(kit):
    model = kit.make_model("general", False)
    src, lengths = kit.random_batch()
    tgt = torch.randint(4, 11, (4, 6))
    state, bank = model.start(src, lengths)
    fast, w_fast = model.decoder._forward_parallel(tgt, state, bank)
    slow, w_slow = model.decoder._forward_loop(tgt, state, bank, 0.0)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w_fast, w_slow, atol=1e-6, rtol=1e-5)


def test_scheduled_sampling_feeds_own_predictions(kit):
    model = kit.make_model("bahdanau", True)
    src, lengths = kit.random_batch()
    tgt = torch.randint(4, 11, (4, 6))
    tgt[:, 0] = kit.BOS
    state, bank = model.start(src, lengths)
    forced = model.decoder(tgt, state, bank, sampling_prob=0.0)
    torch.testing.assert_close(model.decoder(tgt, state, bank, sampling_prob=0.0), forced)
    # p = 1: every step after the first reads the argmax of the step before, whatever tgt says.
    free = model.decoder(tgt, state, bank, sampling_prob=1.0)
    tok, s, manual = tgt[:, 0], state, []
    for _ in range(tgt.shape[1]):
        logits, s, _ = model.decoder.step(tok, s, bank)
        manual.append(logits)
        tok = logits.argmax(-1)
    torch.testing.assert_close(free, torch.stack(manual, 1), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(free, forced)
    # the model switches it on in training mode only
    model.sampling_prob = 1.0
    torch.testing.assert_close(model(src, lengths, tgt), forced)


def test_decoder_on_an_initial_state_only(kit):
    """The captioning use: no memory, the condition vector sets the state."""
    torch.manual_seed(0)
    dec = AttentionDecoder(vocab_size=9, hidden_size=8, cond_size=5, cell="lstm", num_layers=2).eval()
    assert dec.prepare_memory(None) is None and not dec.input_feeding
    cond = torch.randn(3, 5)
    tgt = torch.randint(0, 9, (3, 4))
    logits, attn = dec(tgt, dec.init_state(3, cond), None, return_attention=True)
    assert attn is None
    s = dec.init_state(3, cond)
    for t in range(4):
        step, s, _ = dec.step(tgt[:, t], s, None)
        torch.testing.assert_close(logits[:, t], step, atol=1e-6, rtol=1e-5)
    other = dec(tgt, dec.init_state(3, cond + 1.0), None)
    assert not torch.allclose(other, logits)  # the condition matters
    with pytest.raises(ValueError, match="needs cond of shape"):
        dec.init_state(3, None)


def test_memory_without_valid_positions_is_rejected(kit):
    model = kit.make_model()
    mem = torch.randn(2, 3, model.decoder.memory_size)
    with pytest.raises(ValueError, match="at least one valid"):
        model.decoder.prepare_memory(mem, torch.tensor([[True, False, False], [False, False, False]]))
