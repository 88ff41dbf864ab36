import pytest
import torch
from torch.utils.data import DataLoader

from rnnkit.data.text import (
    LMStreamDataset,
    RandomWindowDataset,
    batchify,
    load_builtin_corpus,
    load_text,
    make_lm_batches,
    split_corpus,
)

# ---------------------------------------------------------------------------- built-in corpus


def test_pydoc_corpus_deterministic_and_sized():
    a = load_builtin_corpus("pydoc")
    assert a == load_builtin_corpus()
    assert 300_000 < len(a) < 1_000_000  # about 465k characters on CPython 3.11
    from pydoc_data.topics import topics

    first = sorted(topics)[0]
    assert a.startswith(topics[first])


def test_unknown_builtin_corpus():
    with pytest.raises(ValueError, match="unknown built-in corpus 'shakespeare'; available: pydoc"):
        load_builtin_corpus("shakespeare")


# ---------------------------------------------------------------------------- load_text


def test_load_file_and_folder(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text("héllo\r\nworld\n", encoding="utf-8")
    assert load_text(f) == "héllo\nworld\n"
    assert load_text(str(f)) == "héllo\nworld\n"

    d = tmp_path / "corpus"
    (d / "b").mkdir(parents=True)
    (d / "b" / "2.txt").write_text("second")  # no trailing newline: one is added
    (d / "a.txt").write_text("first\n")
    (d / "b" / "1.txt").write_bytes("\ufeffbom".encode("utf-8"))
    (d / "b" / "empty.txt").write_text("")
    (d / "notes.md").write_text("ignored")
    (d / ".hidden").mkdir()
    (d / ".hidden" / "x.txt").write_text("ignored")
    # sorted by relative path: a.txt, b/1.txt, b/2.txt, b/empty.txt
    assert load_text(d) == "first\nbom\nsecond\n"


def test_load_errors(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_text(missing)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="text file is empty: .*empty.txt"):
        load_text(empty)
    no_txt = tmp_path / "no_txt"
    no_txt.mkdir()
    (no_txt / "data.csv").write_text("a,b")
    with pytest.raises(ValueError, match="no_txt has no \\*.txt files"):
        load_text(no_txt)
    only_empty = tmp_path / "only_empty"
    only_empty.mkdir()
    (only_empty / "e.txt").write_text("")
    with pytest.raises(ValueError, match="all 1 text files under .*only_empty are empty"):
        load_text(only_empty)


def test_non_utf8_error_names_file_offset_and_hint(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes("café au lait".encode("latin-1"))
    with pytest.raises(ValueError) as e:
        load_text(bad)
    msg = str(e.value)
    assert "latin.txt" in msg and "byte offset 3" in msg and "iconv" in msg
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    (folder / "z.txt").write_bytes(b"ab\xff")
    with pytest.raises(ValueError, match="z.txt: not valid UTF-8 at byte offset 2"):
        load_text(folder)


# ---------------------------------------------------------------------------- split


def test_split_contiguous_deterministic():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val, test = split_corpus(text, 0.1, 0.05)
    assert (len(train), len(val), len(test)) == (850, 100, 50)
    assert train + val + test == text
    assert split_corpus(text, 0.1, 0.05) == (train, val, test)
    ids = torch.arange(1000)
    t, v, s = split_corpus(ids, 0.1, 0.05)
    assert torch.equal(torch.cat([t, v, s]), ids) and v[0] == 850
    assert split_corpus("abcd", 0, 0) == ("abcd", "", "")


@pytest.mark.parametrize("val,test,match", [
    (-0.1, 0.1, "val_fraction must be in"),
    (0.1, 1.0, "test_fraction must be in"),
    (0.5, 0.5, "must be < 1"),
    (0.01, 0.0, "too short for a validation fraction"),
])
def test_split_errors(val, test, match):
    with pytest.raises(ValueError, match=match):
        split_corpus("abcdefghij", val, test)


# ---------------------------------------------------------------------------- LM batching


@pytest.mark.parametrize("n,batch,seq", [(103, 4, 5), (100, 4, 3), (41, 1, 40), (50, 7, 100)])
def test_lm_batches_shift_by_one_and_nothing_else_dropped(n, batch, seq):
    ids = torch.arange(n) * 3 + 1  # distinct values, so any misplacement shows
    batches = make_lm_batches(ids, batch, seq)
    per = n // batch
    streams = ids[: per * batch].view(batch, per)  # documented: the last n % batch ids dropped
    xs = torch.cat([x for x, _ in batches], dim=1)
    ys = torch.cat([y for _, y in batches], dim=1)
    # inputs cover every step of every stream but its last id; targets are the same shifted by one
    assert torch.equal(xs, streams[:, :-1])
    assert torch.equal(ys, streams[:, 1:])
    assert all(x.shape == y.shape and x.shape[0] == batch for x, y in batches)
    assert all(x.shape[1] == seq for x, _ in batches[:-1]) and 1 <= batches[-1][0].shape[1] <= seq
    # row b continues from batch to batch: the stream is stateful in time
    assert torch.equal(batches[0][0][:, 0], ids[: per * batch : per])


def test_lm_stream_dataset_protocol_and_drop_last():
    ids = torch.arange(23)
    ds = LMStreamDataset(ids, batch_size=2, seq_len=4)  # streams (2, 11): 10 steps -> 4+4+2
    assert len(ds) == 3 and ds[-1][0].shape == (2, 2)
    with pytest.raises(IndexError):
        ds[3]
    assert [x.shape[1] for x, _ in ds] == [4, 4, 2]
    dl = DataLoader(ds, batch_size=None)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(dl, ds))
    full = LMStreamDataset(ids, batch_size=2, seq_len=4, drop_last=True)
    assert len(full) == 2 and all(x.shape == (2, 4) for x, _ in full)
    assert torch.equal(batchify(ids, 2), ds.streams) and ds.streams.shape == (2, 11)
    assert make_lm_batches([1, 2, 3], 1, 5)[0][1].tolist() == [[2, 3]]  # plain lists work


def test_lm_batching_errors():
    with pytest.raises(ValueError, match="too short for batch_size=4"):
        LMStreamDataset(torch.arange(7), 4, 2)
    with pytest.raises(ValueError, match="no full batch"):
        LMStreamDataset(torch.arange(10), 2, 8, drop_last=True)
    with pytest.raises(ValueError, match="seq_len must be >= 1"):
        LMStreamDataset(torch.arange(10), 2, 0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        batchify(torch.arange(10), 0)
    with pytest.raises(ValueError, match="1-D"):
        batchify(torch.zeros(2, 3, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="integers"):
        batchify(torch.zeros(6), 1)


def test_random_window_dataset():
    ids = torch.arange(20) + 100
    ds = RandomWindowDataset(ids, seq_len=5)
    assert len(ds) == 15  # starts 0..14: the last window's target ends at id 19
    for i in range(len(ds)):
        x, y = ds[i]
        assert torch.equal(x, ids[i:i + 5]) and torch.equal(y, ids[i + 1:i + 6])
    assert torch.equal(ds[-1][1], ids[-5:])
    with pytest.raises(IndexError):
        ds[15]
    strided = RandomWindowDataset(ids, seq_len=5, stride=4)
    assert len(strided) == 4 and torch.equal(strided[3][0], ids[12:17])
    g = torch.Generator().manual_seed(0)
    x, y = next(iter(DataLoader(ds, batch_size=6, shuffle=True, generator=g)))
    assert x.shape == (6, 5) and torch.equal(y[:, :-1], x[:, 1:])
    with pytest.raises(ValueError, match="needs seq_len \\+ 1 ids"):
        RandomWindowDataset(torch.arange(5), seq_len=5)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        RandomWindowDataset(ids, seq_len=5, stride=0)


def test_end_to_end_pydoc_to_batches():
    from rnnkit.data.vocab import CharVocab

    text = load_builtin_corpus()
    train, val, _ = split_corpus(text, 0.05, 0.05)
    vocab = CharVocab.from_text(text)  # the whole text, so no character of val is unknown
    batches = make_lm_batches(vocab.encode(val), batch_size=8, seq_len=64)
    x, y = batches[0]
    assert vocab.decode(x[0]) == val[:64] and vocab.decode(y[0]) == val[1:65]
