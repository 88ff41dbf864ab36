"""Pair data: strict TSV reading (errors name file and line; skips are counted), the Bible parse
and alignment on real diatheke output, seeded splits, and bucketed batches."""

import shutil

import pytest

from rnnkit.apps.translate import data as D
from rnnkit.apps.translate.batches import PairBatches, collate_pairs


def _write(tmp_path, data: bytes, name="pairs.tsv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_tsv_reads_pairs_and_counts_what_it_skips(tmp_path):
    path = _write(tmp_path, "\ufeffHello.\tHola.\n\n  \t \nGood  night\t Buenas noches \tCC-BY 2.0\n\t\tx\nYes\t\n"
                  "Thanks\tGracias\r\n".encode("utf-8"))
    c = D.read_tsv(path)
    assert c.sources == ["Hello.", "Good night", "Thanks"]
    assert c.targets == ["Hola.", "Buenas noches", "Gracias"]
    assert c.refs == ["line 1", "CC-BY 2.0", "line 7"]
    assert c.skipped == {"blank line": 2, "empty source or target": 2}


def test_tsv_line_without_a_tab_is_an_error_with_its_line(tmp_path):
    path = _write(tmp_path, b"one\tuno\ntwo dos\nthree\ttres\n")
    with pytest.raises(ValueError, match=r"pairs.tsv:2: no tab"):
        D.read_tsv(path)


def test_tsv_non_utf8_is_an_error_with_line_and_byte(tmp_path):
    path = _write(tmp_path, "one\tuno\ncafé\tcafé\n".encode() + "año\tyear\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"pairs.tsv:3: not valid UTF-8 \(byte 0xf1 at column 2\)"):
        D.read_tsv(path)


def test_tsv_without_pairs_or_file_fails_clearly(tmp_path):
    with pytest.raises(ValueError, match="no sentence pairs"):
        D.read_tsv(_write(tmp_path, b"\n\n"))
    with pytest.raises(FileNotFoundError, match="no such TSV file"):
        D.read_tsv(tmp_path / "missing.tsv")


# Real diatheke output (engKJV2006eb / spaRV1909eb, -f plain), including its quirks: a psalm title
# repeated before every verse, trailing spaces, a Strong's number, a paragraph mark, the module line.
KJV = """Psalms 2:12: Kiss the Son, lest he be angry, and ye perish from the way, when his wrath is kindled but a little. Blessed are all they that put their trust in him.  

A Psalm of David, when he fled from Absalom his son.
   Psalms 3:1: LORD, how are they increased that trouble me! many are they that rise up against me. 

A Psalm of David, when he fled from Absalom his son.
   Psalms 3:2: Many there be which say of my soul, There is no help for him in God. Selah. 
I Samuel 23:29: ¶ And David went up from thence, and dwelt in strong holds at En-gedi.
Revelation of John 22:21: The grace of our Lord Jesus Christ be with you all. Amen.    
(engKJV2006eb)
"""
RV = """Psalms 2:12: Besad al Hijo, porque no se enoje, y perezcáis en el camino, cuando se encendiere un poco su furor. Bienaventurados todos los que en él confían.
Psalms 3:1: Salmo de David, cuando huía de delante de Absalom su hijo. ¡OH Jehová, cuánto se han multiplicado mis enemigos! muchos se levantan contra mí.
Psalms 3:2: Muchos dicen de mi vida: No hay para él salud en Dios. (Selah.)
I Samuel 23:29: 
Revelation of John 22:21: La gracia de nuestro Señor Jesucristo <G5547> sea con todos vosotros. Amén.   
(spaRV1909eb)
"""


def test_bible_parse_and_alignment():
    en, es = D.parse_diatheke(KJV), D.parse_diatheke(RV)
    assert list(en) == ["Psalms 2:12", "Psalms 3:1", "Psalms 3:2", "I Samuel 23:29", "Revelation of John 22:21"]
    assert en["Psalms 3:1"] == "LORD, how are they increased that trouble me! many are they that rise up against me."
    assert en["I Samuel 23:29"].startswith("And David")  # paragraph mark removed
    assert es["Revelation of John 22:21"] == "La gracia de nuestro Señor Jesucristo sea con todos vosotros. Amén."
    corpus, dropped = D.align_verses(en, es)
    assert corpus.refs == ["Psalms 2:12", "Psalms 3:1", "Psalms 3:2", "Revelation of John 22:21"]
    assert corpus.targets[1].startswith("Salmo de David, cuando huía de delante de Absalom su hijo. ¡OH Jehová")
    assert corpus.targets[2] == "Muchos dicen de mi vida: No hay para él salud en Dios. (Selah.)"
    assert dropped == {"empty or missing in English": 0, "empty or missing in Spanish": 1}
    with pytest.raises(ValueError, match="twice"):
        D.parse_diatheke(KJV + KJV)


def test_missing_sword_modules_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"apt-get install -y diatheke sword-text-kjv sword-text-sparv"):
        D.load_bible(cache_dir=tmp_path)


@pytest.mark.skipif(shutil.which("diatheke") is None, reason="needs Debian's diatheke and SWORD modules")
def test_installed_bible_gives_all_aligned_verses():
    corpus = D.load_bible()
    assert len(corpus) == 31084
    assert corpus.refs[0] == "Genesis 1:1" and corpus.targets[0].startswith("EN el principio crió Dios")


def test_split_is_seeded_partition():
    a = D.split_indices(1000, 0.1, 0.05, seed=3)
    b = D.split_indices(1000, 0.1, 0.05, seed=3)
    assert all((x == y).all() for x, y in zip(a, b))
    assert [len(x) for x in a] == [850, 100, 50]
    assert sorted(set().union(*map(set, a))) == list(range(1000))
    assert set(D.split_indices(1000, 0.1, 0.05, seed=4)[2]) != set(a[2])


def test_batches_cover_every_pair_once_per_epoch_in_a_seeded_order():
    src = [[4] * n for n in range(1, 101)]
    tgt = [[5] * (n % 7 + 1) for n in range(1, 101)]
    batches = PairBatches(src, tgt, 8, 0, 2, 3, seed=0, pool=3)
    batches.set_epoch(1)
    first = [b[0].tolist() for b in batches]
    batches.set_epoch(2)
    second = [b[0].tolist() for b in batches]
    batches.set_epoch(1)
    assert [b[0].tolist() for b in batches] == first and first != second
    seen = sorted(int(row.count(4)) for batch in first for row in batch)
    assert seen == list(range(1, 101)) and len(first) == len(batches) == 13
    s, s_len, t_in, t_out = collate_pairs([[7, 8], [9]], [[5], [6, 6, 6]], 0, 2, 3)
    assert s.tolist() == [[7, 8], [9, 0]] and s_len.tolist() == [2, 1]
    assert t_in.tolist() == [[2, 5, 0, 0], [2, 6, 6, 6]] and t_out.tolist() == [[5, 3, 0, 0], [6, 6, 6, 3]]
