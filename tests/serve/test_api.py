"""The JSON API of `rnnkit serve` over real HTTP on loopback: every endpoint, the 4xx answers to
bad requests (each a one-line JSON "detail"), the server still answering after them, and
micro-batched concurrent requests getting the same answers as single ones."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import rnnkit


def _detail(reply) -> str:
    body = reply.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and "\n" not in body["detail"] and body["detail"]
    return body["detail"]


def test_health_runs_and_info(base_url, http):
    h = http.call(base_url, "GET", "/health")
    assert h.status == 200 and h.json() == {"status": "ok",
                                            "runs": {"poem": "textgen", "reviews": "classify", "sales": "forecast"}}
    runs = http.call(base_url, "GET", "/api/runs").json()["runs"]
    assert [(r["name"], r["app"], r["page"]) for r in runs] == [
        ("poem", "textgen", "/poem"), ("reviews", "classify", "/reviews"), ("sales", "forecast", "/sales")]
    info = http.call(base_url, "GET", "/api/reviews").json()
    assert info["labels"] == ["neg", "pos"] and info["explanation"] == "attention"
    assert info["limits"]["max_text_chars"] == 500


def test_generate_streams_tokens_that_match_predict_and_load(base_url, http, runs):
    body = {"prompt": "the quick ", "max_new_tokens": 40, "seed": 3, "temperature": 0.7}
    r = http.call(base_url, "POST", "/api/poem/generate", body)
    assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    ev = http.events(r)
    assert ev[0] == ("start", {"seed": 3, "prompt": "the quick "})
    tokens = [d["token"] for e, d in ev if e == "message"]
    assert len(tokens) == 40 and all(len(t) == 1 for t in tokens)
    assert ev[-1][0] == "done" and ev[-1][1]["new_tokens"] == 40
    text = ev[-1][1]["text"]
    assert text == "the quick " + "".join(tokens)
    whole = http.call(base_url, "POST", "/api/poem/predict", body).json()
    assert whole["text"] == text and whole["new_tokens"] == 40
    # the server's text is what the library gives for the same settings
    assert rnnkit.load(runs["textgen"]).predict("the quick ", max_new_tokens=40, seed=3, temperature=0.7) == text


def test_classify_returns_labels_probabilities_and_attention(base_url, http, runs):
    texts = ["great wonderful moving film", "awful dull boring film"]
    r = http.call(base_url, "POST", "/api/reviews/predict", {"texts": texts})
    assert r.status == 200
    out = r.json()
    assert out["explanation"] == "attention" and out["labels"] == ["neg", "pos"]
    preds = out["predictions"]
    assert [p["label"] for p in preds] == ["pos", "neg"]
    ref = rnnkit.load(runs["classify"]).predict(texts)
    for p, q in zip(preds, ref):
        assert p["label"] == q["label"] and p["prob"] == pytest.approx(q["prob"], abs=1e-5)
        assert sum(p["probs"].values()) == pytest.approx(1.0, abs=1e-5)
    assert preds[0]["tokens"] == ["great", "wonderful", "moving", "film"]
    assert len(preds[0]["weights"]) == 4 and sum(preds[0]["weights"]) == pytest.approx(1.0, abs=1e-4)
    one = http.call(base_url, "POST", "/api/reviews/predict", {"text": "smart funny film", "explain": False}).json()
    assert one["predictions"][0]["label"] == "pos" and "tokens" not in one["predictions"][0]


def test_forecast_from_a_csv_upload_and_from_json(base_url, http, serve_data):
    csv = (serve_data / "sales.csv").read_bytes()
    body, ctype = http.multipart({"history": "24"}, {"file": ("sales.csv", csv)})
    r = http.call(base_url, "POST", "/api/sales/predict", body, {"Content-Type": ctype})
    assert r.status == 200, r.text
    out = r.json()
    assert out["horizon"] == 6 and out["interval"] == 0.8 and out["model"] == "saved model"
    (s,) = out["series"]
    assert s["name"] == "sales" and len(s["history"]["value"]) == 24 and s["history"]["time"][-1] == "2015-12-01"
    f = s["forecast"]
    assert f["time"] == ["2016-01-01", "2016-02-01", "2016-03-01", "2016-04-01", "2016-05-01", "2016-06-01"]
    assert all(lo <= p <= hi for lo, p, hi in zip(f["lo"], f["point"], f["hi"]))
    # the same CSV as JSON text gives the same forecast; {} forecasts the run's own data (the same file)
    j = http.call(base_url, "POST", "/api/sales/predict", {"csv": csv.decode(), "history": 24}).json()
    assert j["series"][0]["forecast"] == f
    own = http.call(base_url, "POST", "/api/sales/predict", {}).json()
    assert own["series"][0]["forecast"]["point"] == pytest.approx(f["point"])
    # the same table as an Excel workbook (a spreadsheet user's file) gives the same forecast
    import io

    import pandas as pd

    book = io.BytesIO()
    pd.read_csv(io.BytesIO(csv)).to_excel(book, index=False)
    body, ctype = http.multipart({"history": "24"}, {"file": ("sales.xlsx", book.getvalue())})
    x = http.call(base_url, "POST", "/api/sales/predict", body, {"Content-Type": ctype})
    assert x.status == 200, x.text
    assert x.json()["series"][0]["forecast"]["point"] == pytest.approx(f["point"])
    # and as gzip-compressed CSV and as JSON records, as a web API's client would send them
    import gzip

    records = pd.read_csv(io.BytesIO(csv)).to_json(orient="records").encode()
    for name, data in (("sales.csv.gz", gzip.compress(csv)), ("sales.json", records)):
        body, ctype = http.multipart({"history": "24"}, {"file": (name, data)})
        z = http.call(base_url, "POST", "/api/sales/predict", body, {"Content-Type": ctype})
        assert z.status == 200, (name, z.text)
        assert z.json()["series"][0]["forecast"]["point"] == pytest.approx(f["point"]), name


def test_forecast_upload_with_wrong_columns_is_a_422(base_url, http):
    body, ctype = http.multipart({}, {"file": ("other.csv", b"when,amount\n2020-01-01,1\n2020-02-01,2\n")})
    r = http.call(base_url, "POST", "/api/sales/predict", body, {"Content-Type": ctype})
    assert r.status == 422 and "date" in _detail(r)


@pytest.mark.parametrize("path, body, headers, status, words", [
    # not JSON at all / broken JSON / JSON that is not an object
    ("/api/reviews/predict", "great film", {}, 400, "not valid JSON"),
    ("/api/reviews/predict", '{"texts": ["great film"]', {}, 400, "not valid JSON"),
    ("/api/reviews/predict", '["great film"]', {}, 422, "JSON object"),
    # valid JSON, wrong shape: missing, misspelt or mistyped fields, values out of range
    ("/api/reviews/predict", {}, {}, 422, "either 'text'"),
    ("/api/reviews/predict", {"txts": ["x"]}, {}, 422, "txts: unknown field"),
    ("/api/reviews/predict", {"texts": "great film"}, {}, 422, "texts"),
    ("/api/reviews/predict", {"texts": ["  "]}, {}, 422, "texts.0: the text is empty"),
    ("/api/poem/generate", {"prompt": ""}, {}, 422, "prompt"),
    ("/api/poem/generate", {"prompt": "a", "temperature": 0}, {}, 422, "temperature"),
    ("/api/poem/generate", {"prompt": "a", "max_new_tokens": 10**6}, {}, 422, "max_new_tokens"),
    ("/api/poem/predict", {"prompt": "a", "strategy": "beam"}, {}, 422, "strategy"),
    # oversized inputs: a text over --max-text-chars, too many texts, a body over --max-body-bytes
    ("/api/reviews/predict", {"text": "great " * 100}, {}, 422, "the limit is 500"),
    ("/api/reviews/predict", {"texts": ["a"] * 65}, {}, 422, "the limit is 64"),
    ("/api/poem/generate", {"prompt": "x" * 501}, {}, 422, "the limit is 500"),
    ("/api/reviews/predict", {"texts": ["great film " * 40] * 60}, {}, 413, "the limit is 20,000 bytes (rnnkit serve --max-body-bytes)"),
    # unknown run, an endpoint the run's app does not have, a wrong content type
    ("/api/nope/predict", {"text": "x"}, {}, 404, "no run named 'nope'"),
    ("/api/reviews/generate", {"prompt": "x"}, {}, 404, "no generate endpoint"),
    ("/api/poem/midi", {"notes": "C5/1"}, {}, 404, "only music runs"),
    ("/api/reviews/predict", b"\x89PNG...", {"Content-Type": "image/png"}, 415, "send JSON"),
    ("/api/sales/predict", {"csv": "date,sales\n"}, {}, 422, ""),
])
def test_bad_requests_get_one_line_4xx_and_the_server_stays_up(base_url, http, path, body, headers, status, words):
    r = http.call(base_url, "POST", path, body, headers)
    assert r.status == status, r.text
    assert r.headers["content-type"] == "application/json"
    detail = _detail(r)
    assert words in detail, detail
    assert http.call(base_url, "GET", "/health").status == 200
    ok = http.call(base_url, "POST", "/api/reviews/predict", {"text": "great film"})
    assert ok.status == 200


def test_oversized_bodies_are_refused_whether_announced_or_streamed(base_url, http):
    big = json.dumps({"texts": ["x" * 400] * 100})
    announced = http.call(base_url, "POST", "/api/reviews/predict", big, {"Content-Type": "application/json"})
    assert announced.status == 413 and "the limit is 20,000 bytes" in _detail(announced)
    streamed = http.call(base_url, "POST", "/api/reviews/predict", big, {"Content-Type": "application/json"},
                         chunked=True)
    assert streamed.status == 413 and "the limit is 20,000 bytes" in _detail(streamed)
    assert http.call(base_url, "GET", "/health").status == 200


def test_unknown_paths_are_404_json_or_an_html_page(base_url, http):
    r = http.call(base_url, "GET", "/api/nope")
    assert r.status == 404 and "no run named" in _detail(r)
    page = http.call(base_url, "GET", "/nope", headers={"Accept": "text/html"})
    assert page.status == 404 and "text/html" in page.headers["content-type"] and "/reviews" in page.text
    assert http.call(base_url, "GET", "/reviews").status == 200


def test_concurrent_requests_are_batched_and_get_the_single_answers(server, http):
    base_url, app = server
    prompts = [("the ", 1), ("quick brown ", 2), ("pack my box with ", 3), ("a", 4), ("the ", 1), ("jugs", 6)]
    texts = [["great film"], ["awful boring flat film", "smart funny"], ["dull"], ["wonderful moving smart film"],
             ["tedious"], ["funny great", "flat"]]
    gen = lambda p, s: {"prompt": p, "max_new_tokens": 30, "seed": s}  # noqa: E731
    single_gen = [http.call(base_url, "POST", "/api/poem/predict", gen(p, s)).json()["text"] for p, s in prompts]
    single_cls = [http.call(base_url, "POST", "/api/reviews/predict", {"texts": t}).json()["predictions"]
                  for t in texts]
    before = app.state.metrics.snapshot()["batches"]
    with ThreadPoolExecutor(12) as pool:
        g = [pool.submit(http.call, base_url, "POST", "/api/poem/predict", gen(p, s)) for p, s in prompts]
        c = [pool.submit(http.call, base_url, "POST", "/api/reviews/predict", {"texts": t}) for t in texts]
        together_gen = [f.result().json()["text"] for f in g]
        together_cls = [f.result().json()["predictions"] for f in c]
    assert together_gen == single_gen
    for a, b in zip(together_cls, single_cls):
        assert [p["label"] for p in a] == [p["label"] for p in b]
        for p, q in zip(a, b):
            assert p["prob"] == pytest.approx(q["prob"], abs=1e-5)
            assert p["weights"] == pytest.approx(q["weights"], abs=1e-5)
    after = app.state.metrics.snapshot()["batches"]
    for run, n in (("poem", len(prompts)), ("reviews", len(texts))):
        batches = after[run]["count"] - before.get(run, {"count": 0})["count"]
        items = after[run]["items"] - before.get(run, {"items": 0})["items"]
        assert items == n and batches < n, f"{run}: {n} concurrent requests ran as {batches} batches"


def test_metrics_count_requests_and_latency_per_endpoint(base_url, http):
    http.call(base_url, "POST", "/api/reviews/predict", {"text": "great film"})
    http.call(base_url, "POST", "/api/nope/predict", {"text": "x"})
    r = http.call(base_url, "GET", "/metrics")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()

    def value(prefix):
        (line,) = [x for x in lines if x.startswith(prefix + " ")]
        return float(line.rsplit(" ", 1)[1])

    ok = 'rnnkit_requests_total{method="POST",endpoint="/api/{run_name}/predict",run="reviews",status="200"}'
    assert value(ok) >= 2
    assert value('rnnkit_requests_total{method="POST",endpoint="/api/{run_name}/predict",run="(unknown)",status="404"}') >= 1
    assert value('rnnkit_request_seconds_count{endpoint="/api/{run_name}/predict",run="reviews"}') >= 2
    assert value('rnnkit_request_seconds_sum{endpoint="/api/{run_name}/predict",run="reviews"}') > 0
    assert any(x.startswith('rnnkit_batch_size_count{run="reviews"}') for x in lines)
    assert "# TYPE rnnkit_request_seconds histogram" in lines


def test_a_stream_whose_client_goes_away_stops_generating(server):
    """The page's Stop button closes the connection: the server marks the request cancelled and
    its row stops at the next step (here the cancel comes after 5 characters of 500)."""
    from rnnkit.apps.serve.services.textgen import GenerateRequest

    svc = server[1].state.services["poem"]
    item = svc._item(GenerateRequest(prompt="the ", max_new_tokens=500, seed=1))
    got = []

    def emit(piece):
        got.append(piece)
        if len(got) == 5:
            item.cancelled.set()

    item.emit = emit
    (text,) = svc._run_batch([item])
    assert len(got) == 5 and text == "the " + "".join(got)
