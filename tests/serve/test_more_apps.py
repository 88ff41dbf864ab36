"""translate, music, caption, video and speech behind `rnnkit serve`: each app's API answers as
the library does (rnnkit.load(run).predict), its bad inputs get one-line 4xx errors, and its page
works in headless Chromium. An app whose optional data source is missing here is skipped with
the command that installs it."""

from __future__ import annotations

import importlib.util
import random
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

import rnnkit
from rnnkit.cli import main

QUIET = ["train.progress=false", "train.tensorboard=false"]
UPLOAD_LIMIT = 300_000


def _pairs_tsv(path):
    rng = random.Random(0)
    words = "the lord god light day night water earth heaven man".split()
    lines = []
    for _ in range(400):
        src = [rng.choice(words) for _ in range(rng.randint(2, 6))]
        lines.append(" ".join(src) + "\t" + " ".join(reversed(src)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _missing(app):
    if app == "music" and importlib.util.find_spec("music21") is None:
        return "music's built-in chorales need music21: pip install 'rnnkit[music]'"
    if app == "speech" and shutil.which("espeak-ng") is None:
        return "speech's built-in corpus needs espeak-ng: apt-get install -y espeak-ng"
    if app in ("caption", "video") and importlib.util.find_spec("sklearn") is None:
        return f"{app}'s built-in digits need scikit-learn: pip install 'rnnkit[vision]'"
    return None


@pytest.fixture(scope="module")
def apps(tmp_path_factory, serve_data):
    """{app: (run folder or None, why it is missing)}; ``mean-pooling`` is a classify run without
    attention (its page shows occlusion importance instead)."""
    root = tmp_path_factory.mktemp("more_runs")
    out = {}
    mean = ["--data", str(serve_data / "reviews.csv"), "model.pooling=mean", "baseline=false"]
    for name, app, extra in (("translate", "translate", ["--data", str(_pairs_tsv(root / "pairs.tsv"))]),
                             ("music", "music", []), ("caption", "caption", []), ("video", "video", []),
                             ("speech", "speech", []), ("mean-pooling", "classify", mean)):
        why = _missing(app)
        if why:
            out[name] = (None, why)
            continue
        run = root / name
        assert main(["train", app, "--preset", "tiny", *extra, "--run-dir", str(run), *QUIET]) == 0
        out[name] = (run, None)
    return out


@pytest.fixture(scope="module")
def more(apps):
    """(base URL, {app: run folder}) of a server for every app trained here."""
    from rnnkit.apps.serve.app import ServeSettings, create_app
    from rnnkit.apps.serve.browser import running_server

    runs = {a: r for a, (r, _) in apps.items() if r is not None}
    app = create_app(list(runs.values()), ServeSettings(max_upload_bytes=UPLOAD_LIMIT, batch_wait_ms=20))
    with running_server(app) as url:
        yield url, runs


def _need(apps, app):
    run, why = apps[app]
    if run is None:
        pytest.skip(why)
    return run


def _detail(r, status):
    assert r.status == status, r.text
    body = r.json()
    assert list(body) == ["detail"] and "\n" not in body["detail"]
    return body["detail"]


def _upload(http, url, run_name, name, data, fields=None):
    body, ctype = http.multipart(fields or {}, {"file": (name, data)})
    return http.call(url, "POST", f"/api/{run_name}/predict", body, {"Content-Type": ctype})


# ---------------------------------------------------------------------------------- files to upload
@pytest.fixture(scope="module")
def caption_png(apps, tmp_path_factory):
    from PIL import Image

    from rnnkit.apps.caption import task

    run = _need(apps, "caption")
    _, _, test, _ = task.load_data(rnnkit.load(run).config.data)
    path = tmp_path_factory.mktemp("images") / "strip.png"
    Image.fromarray(test.images[0, 0].numpy()).save(path)
    return path


@pytest.fixture(scope="module")
def clip_gif(apps, tmp_path_factory):
    import imageio.v3 as iio

    from rnnkit.apps.video import task

    run = _need(apps, "video")
    _, _, test, _ = task.load_data(rnnkit.load(run).config.data)
    path = tmp_path_factory.mktemp("clips") / "clip.gif"
    iio.imwrite(path, test.frames[0, :int(test.lengths[0]), 0].numpy(), extension=".gif", loop=0)
    return path


@pytest.fixture(scope="module")
def speech_wav(apps, tmp_path_factory):
    import subprocess

    _need(apps, "speech")
    path = tmp_path_factory.mktemp("audio") / "three.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "three one four"], check=True, capture_output=True)
    return path


# ---------------------------------------------------------------------------------- translate
def test_translate_api_gives_the_library_translation_and_attention(more, apps, http):
    run = _need(apps, "translate")
    url, _ = more
    r = http.call(url, "POST", "/api/translate/predict", {"text": "the lord god"})
    assert r.status == 200, r.text
    (t,) = r.json()["translations"]
    assert t["text"] == rnnkit.load(run).predict(["the lord god"])[0]
    assert t["source_tokens"] == ["\u2581the", "\u2581lord", "\u2581god"]
    assert len(t["attention"]) == len(t["target_tokens"]) >= 1
    for row in t["attention"]:
        assert len(row) == 3 and sum(row) == pytest.approx(1.0, abs=1e-3)
    greedy = http.call(url, "POST", "/api/translate/predict", {"text": "the lord god", "strategy": "greedy"}).json()
    assert greedy["search"]["strategy"] == "greedy"
    assert greedy["translations"][0]["text"] == rnnkit.load(run).predict(["the lord god"], strategy="greedy")[0]
    assert "beam_size" in _detail(http.call(url, "POST", "/api/translate/predict", {"text": "x", "beam_size": 99}), 422)
    assert "strategy" in _detail(http.call(url, "POST", "/api/translate/predict", {"text": "x", "strategy": "a"}), 422)


def test_translate_concurrent_requests_get_the_single_answers(more, apps, http):
    _need(apps, "translate")
    url, _ = more
    bodies = [{"text": "the lord god"}, {"texts": ["water earth", "day night man"]},
              {"text": "heaven", "strategy": "greedy"}, {"text": "light day", "beam_size": 2}]
    single = [http.call(url, "POST", "/api/translate/predict", b).json() for b in bodies]
    with ThreadPoolExecutor(len(bodies)) as pool:
        together = [f.result().json() for f in
                    [pool.submit(http.call, url, "POST", "/api/translate/predict", b) for b in bodies]]
    assert [[t["text"] for t in x["translations"]] for x in together] == \
        [[t["text"] for t in x["translations"]] for x in single]


def test_translate_page_draws_the_attention_heatmap(more, apps, browser):
    from rnnkit.apps.serve.browser import try_page

    _need(apps, "translate")
    url, _ = more
    browser.get(f"{url}/translate")
    assert try_page(browser, url, "translate", "translate") == "done"
    text = browser.find_element("css selector", ".translation").text
    rows = browser.find_elements("css selector", "table.heatmap tr")
    cells = rows[1].find_elements("css selector", "td")
    assert text and len(rows) >= 2 and len(cells) == 3  # a row per target piece, a column per source piece
    assert [c.text for c in rows[0].find_elements("css selector", "th.src")] == ["the", "lord", "god"]
    weights = [float(c.get_attribute("data-weight")) for c in cells]
    assert sum(weights) == pytest.approx(1.0, abs=1e-2)


# ---------------------------------------------------------------------------------- music
def test_music_api_continues_the_primer_and_writes_midi(more, apps, http):
    run = _need(apps, "music")
    url, _ = more
    info = http.call(url, "GET", "/api/music").json()
    primer = info["example_primer"]
    r = http.call(url, "POST", "/api/music/predict", {"primer": primer, "events": 12, "seed": 5})
    assert r.status == 200, r.text
    out = r.json()
    assert out["notes"] == rnnkit.load(run).predict(primer, events=12, seed=5)
    assert out["notes"].startswith(primer) and out["primer_events"] == 4
    ev = out["events"]
    assert [e["primer"] for e in ev[:4]] == [True] * 4 and not any(e["primer"] for e in ev[4:])
    assert all(b["start"] == pytest.approx(a["start"] + a["duration"]) for a, b in zip(ev, ev[1:]))
    midi = http.call(url, "POST", "/api/music/midi", {"notes": out["notes"]})
    assert midi.status == 200 and midi.headers["content-type"] == "audio/midi"
    assert midi.body[:4] == b"MThd" and "attachment" in midi.headers["content-disposition"]
    assert "H9/1" in _detail(http.call(url, "POST", "/api/music/predict", {"primer": "H9/1"}), 422)
    assert "vocabulary" in _detail(http.call(url, "POST", "/api/music/predict", {"primer": "C0/1"}), 422)
    assert "events" in _detail(http.call(url, "POST", "/api/music/predict", {"primer": primer, "events": 10**6}), 422)
    assert "notes" in _detail(http.call(url, "POST", "/api/music/midi", {"notes": ""}), 422)


def test_music_page_draws_a_piano_roll_and_downloads_midi(more, apps, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    from rnnkit.apps.serve.browser import try_page

    _need(apps, "music")
    url, _ = more
    browser.get(f"{url}/music")
    assert try_page(browser, url, "music", "music") == "done"
    notes = browser.find_element("id", "notes").text.split()
    sounding = [n for n in notes if not n.startswith("r/")]
    assert len(browser.find_elements("css selector", "svg.piano-roll rect.note")) == len(sounding)
    assert len(browser.find_elements("css selector", "svg.piano-roll rect.note.primer")) == 4
    browser.find_element("id", "download").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element("id", "midi-link").get_attribute("data-bytes"))
    assert int(browser.find_element("id", "midi-link").get_attribute("data-bytes")) > 20
    assert browser.find_element("id", "status").text.startswith("MIDI file:")


# ---------------------------------------------------------------------------------- caption
def test_caption_api_captions_an_uploaded_image(more, apps, http, caption_png, tmp_path):
    from PIL import Image

    run = _need(apps, "caption")
    url, _ = more
    r = _upload(http, url, "caption", "strip.png", caption_png.read_bytes())
    assert r.status == 200, r.text
    out = r.json()
    assert out["caption"] == rnnkit.load(run).predict([str(caption_png)])[0][1] and out["resized_from"] is None
    # a colour photo of another size is converted and resized, and says so
    big = tmp_path / "big.jpg"
    Image.open(caption_png).convert("RGB").resize((160, 32)).save(big)
    assert _upload(http, url, "caption", "big.jpg", big.read_bytes()).json()["resized_from"] == "160x32"
    assert "not a readable image" in _detail(_upload(http, url, "caption", "x.png", b"no image here"), 422)
    assert "multipart/form-data" in _detail(http.call(url, "POST", "/api/caption/predict", {"file": "x"}), 415)
    too_big = _upload(http, url, "caption", "huge.png", b"\0" * (UPLOAD_LIMIT + 1))
    assert "--max-upload-bytes" in _detail(too_big, 413)
    empty = _upload(http, url, "caption", "empty.png", b"")
    assert "empty" in _detail(empty, 422)
    assert http.call(url, "GET", "/health").status == 200


def test_caption_page_shows_the_caption_of_an_uploaded_image(more, apps, browser, caption_png, http):
    from rnnkit.apps.serve.browser import try_page

    _need(apps, "caption")
    url, _ = more
    assert try_page(browser, url, "caption", "caption", upload=caption_png) == "done"
    expected = _upload(http, url, "caption", "strip.png", caption_png.read_bytes()).json()["caption"] or "(empty)"
    assert browser.find_element("id", "caption").text == expected
    assert browser.find_element("id", "preview").is_displayed()


# ---------------------------------------------------------------------------------- video
def test_video_api_labels_an_uploaded_clip(more, apps, http, clip_gif):
    run = _need(apps, "video")
    url, _ = more
    r = _upload(http, url, "video", "clip.gif", clip_gif.read_bytes())
    assert r.status == 200, r.text
    out = r.json()
    (lib,) = rnnkit.load(run).predict([str(clip_gif)])
    assert (out["label"], out["digit"], out["caption"]) == (lib["label"], lib["digit"], lib["caption"])
    assert out["probability"] == pytest.approx(lib["probability"], abs=1e-6) and out["frames"] == 6
    assert "send a clip" in _detail(_upload(http, url, "video", "still.png", b"png"), 422)


def test_video_page_names_the_motion_of_an_uploaded_clip(more, apps, browser, clip_gif):
    from rnnkit.apps.serve.browser import try_page

    run = _need(apps, "video")
    url, _ = more
    assert try_page(browser, url, "video", "video", upload=clip_gif) == "done"
    labels = rnnkit.load(run).preprocessing["meta"]["label_names"]
    assert browser.find_element("id", "label").text in labels
    assert browser.find_element("id", "caption").text


# ---------------------------------------------------------------------------------- speech
def test_speech_api_transcribes_an_uploaded_recording(more, apps, http, speech_wav):
    run = _need(apps, "speech")
    url, _ = more
    r = _upload(http, url, "speech", "three.wav", speech_wav.read_bytes())
    assert r.status == 200, r.text
    assert r.json()["transcript"] == rnnkit.load(run).predict([str(speech_wav)])[0][1]
    beam = _upload(http, url, "speech", "three.wav", speech_wav.read_bytes(), {"method": "beam"})
    assert beam.status == 200 and beam.json()["method"] == "beam"
    bad = _detail(_upload(http, url, "speech", "noise.wav", b"RIFF not really"), 422)
    assert bad.startswith("noise.wav: cannot read audio") and "rnnkit-serve-" not in bad
    assert "method" in _detail(_upload(http, url, "speech", "a.wav", b"x", {"method": "lm"}), 422)


def test_speech_page_shows_the_transcript_of_an_uploaded_recording(more, apps, browser, speech_wav, http):
    from rnnkit.apps.serve.browser import try_page

    _need(apps, "speech")
    url, _ = more
    assert try_page(browser, url, "speech", "speech", upload=speech_wav) == "done"
    expected = _upload(http, url, "speech", "three.wav", speech_wav.read_bytes()).json()["transcript"]
    assert browser.find_element("id", "transcript").text == (expected or "(nothing heard)")


# ---------------------------------------------------------------------------------- classify without attention
def test_classify_without_attention_explains_by_occlusion(more, apps, http):
    run = _need(apps, "mean-pooling")
    url, _ = more
    out = http.call(url, "POST", "/api/mean-pooling/predict", {"texts": ["great wonderful film", "dull"]}).json()
    assert out["explanation"] == "occlusion"
    ref = rnnkit.load(run).predict(["great wonderful film", "dull"])
    for p, q in zip(out["predictions"], ref):
        assert p["label"] == q["label"] and p["prob"] == pytest.approx(q["prob"], abs=1e-5)
        assert sum(p["weights"]) == pytest.approx(1.0, abs=1e-4) and min(p["weights"]) >= 0
    assert out["predictions"][1]["weights"] == [1.0]


def test_classify_page_without_attention_says_it_shows_occlusion(more, apps, browser):
    _need(apps, "mean-pooling")
    url, _ = more
    browser.get(f"{url}/mean-pooling")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.find_element("id", "explanation").text)
    note = browser.find_element("id", "explanation").text
    assert "occlusion importance computed by the server" in note and "pooling=mean" in note
    assert "has no attention weights" in note
