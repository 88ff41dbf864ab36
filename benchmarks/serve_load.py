"""A bounded load test of ``rnnkit serve`` on loopback: requests per second, p50/p99 latency and the
server's memory for textgen generate (streamed) and classify, with and without micro-batching.

    python benchmarks/serve_load.py                          # trains two tiny runs first (~1 min)
    python benchmarks/serve_load.py --textgen RUN --classify RUN --requests 200 --clients 4

For each server setting (``--max-batch 1``: no batching, then the default 8) the script starts
``python -m rnnkit.apps.serve`` as its own process on a free 127.0.0.1 port, warms it up, then sends
a fixed number of requests per endpoint from a few concurrent clients (threads, one keep-alive
connection each) and times each to its last byte. Interleaved with them, bad requests (broken JSON,
an oversized body, an unknown run) must get their 4xx and the server must keep answering. The
server's resident memory (``/proc/PID/status`` VmRSS) is read after warm-up and after each of two
equal rounds: if the second round leaves it where the first did, memory is flat.

Prints a markdown table (docs/deploy.md has one measured here) and exits 1 if any good request
failed, a bad one got anything but its 4xx, or the server died.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine_header  # noqa: E402

GOOD_WORDS = "great wonderful moving smart funny".split()
BAD_WORDS = "awful dull boring flat tedious".split()


# ---------------------------------------------------------------------------------- runs
def train_tiny_runs(root: Path) -> tuple[Path, Path]:
    """A character LM and a sentiment classifier, tiny presets, on small local data."""
    from pydoc_data.topics import topics

    rng = random.Random(0)
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(topics[k] for k in sorted(topics))[:60000], encoding="utf-8")
    rows = ["text,label"]
    for i in range(400):
        label = "pos" if i % 2 else "neg"
        rows.append(" ".join(rng.choice(GOOD_WORDS if label == "pos" else BAD_WORDS) for _ in range(5)) + f" film,{label}")
    reviews = root / "reviews.csv"
    reviews.write_text("\n".join(rows) + "\n", encoding="utf-8")
    quiet = ["train.progress=false", "train.tensorboard=false"]
    for app, data, run in (("textgen", corpus, root / "textgen"), ("classify", reviews, root / "classify")):
        cmd = [sys.executable, "-m", "rnnkit", "train", app, "--preset", "tiny", "--data", str(data),
               "--run-dir", str(run), *quiet]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return root / "textgen", root / "classify"


# ---------------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, runs: list[Path], max_batch: int, wait_ms: float, threads: int):
        self.port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        self.proc = subprocess.Popen([sys.executable, "-m", "rnnkit.apps.serve", *map(str, runs), "--port",
                                      str(self.port), "--max-batch", str(max_batch), "--batch-wait-ms", str(wait_ms),
                                      "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while True:
            try:
                if request(self.port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

    def alive(self) -> bool:
        try:
            return self.proc.poll() is None and request(self.port, "GET", "/health")[0] == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(port: int, method: str, path: str, body: bytes | None = None, conn=None,
            headers: dict | None = None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or ({"Content-Type": "application/json"} if body else {}))
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        if own:
            conn.close()


# ---------------------------------------------------------------------------------- load
def bodies(kind: str, n: int, seed: int, tokens: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if kind == "generate":
            prompt = rng.choice(["The ", "def ", "A list ", "For example, ", "class "])
            out.append(("/api/textgen/generate", json.dumps({"prompt": prompt, "max_new_tokens": tokens,
                                                             "seed": i}).encode()))
        else:
            words = [rng.choice(GOOD_WORDS + BAD_WORDS) for _ in range(rng.randint(3, 12))]
            out.append(("/api/classify/predict", json.dumps({"text": " ".join(words)}).encode()))
    return out


BAD = [("/api/classify/predict", b'{"text": "great', 400), ("/api/classify/predict", None, 413),
       ("/api/nope/predict", b'{"text": "x"}', 404), ("/api/textgen/generate", b'{"prompt": ""}', 422)]


def run_load(port: int, work: list[tuple[str, bytes]], clients: int, bad_every: int) -> dict:
    """Send ``work`` from ``clients`` threads; returns latencies (s), wall time, failures."""
    lat: list[float] = []
    failures: list[str] = []
    bad_results: list[bool] = []
    lock = threading.Lock()
    queue = list(enumerate(work))
    big = json.dumps({"text": "x" * 200_000}).encode()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if not queue:
                    break
                i, (path, body) = queue.pop(0)
            if bad_every and i % bad_every == bad_every - 1:  # a bad request among the good ones
                bpath, bbody, want = BAD[(i // bad_every) % len(BAD)]
                try:
                    status, _ = request(port, "POST", bpath, big if bbody is None else bbody)
                except OSError:
                    status = -1
                with lock:
                    bad_results.append(status == want)
            start = time.perf_counter()
            try:
                status, data = request(port, "POST", path, body, conn)
                ok = status == 200 and (not path.endswith("/generate") or b"event: done" in data)
            except (OSError, http.client.HTTPException) as err:
                ok, status = False, repr(err)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            took = time.perf_counter() - start
            with lock:
                (lat.append(took) if ok else failures.append(f"{path}: {status}"))
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"lat": lat, "wall": time.perf_counter() - start, "failures": failures, "bad_ok": bad_results}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def batch_sizes(port: int) -> dict[str, float]:
    _, text = request(port, "GET", "/metrics")
    sums, counts = {}, {}
    for line in text.decode().splitlines():
        for key, store in (("rnnkit_batch_size_sum{", sums), ("rnnkit_batch_size_count{", counts)):
            if line.startswith(key):
                run = line.split('run="', 1)[1].split('"', 1)[0]
                store[run] = float(line.rsplit(" ", 1)[1])
    return {r: sums[r] / counts[r] for r in sums if counts.get(r)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--textgen", type=Path, help="a textgen run folder (default: train a tiny one)")
    p.add_argument("--classify", type=Path, help="a classify run folder (default: train a tiny one)")
    p.add_argument("--requests", type=int, default=120, help="requests per endpoint per round (default 120)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    p.add_argument("--tokens", type=int, default=100, help="characters per generate request (default 100)")
    p.add_argument("--max-batch", type=int, nargs="+", default=[1, 8], help="server settings to compare")
    p.add_argument("--batch-wait-ms", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2, help="the server's torch threads (OMP_NUM_THREADS)")
    args = p.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="rnnkit-serve-load-")
    if args.textgen is None or args.classify is None:
        print("training two tiny runs (textgen, classify) ...", flush=True)
        tg, cl = train_tiny_runs(Path(tmp.name))
        args.textgen, args.classify = args.textgen or tg, args.classify or cl
    link = Path(tmp.name) / "served"
    link.mkdir(exist_ok=True)
    for name, run in (("textgen", args.textgen), ("classify", args.classify)):  # served as /textgen, /classify
        if not (link / name).exists():
            (link / name).symlink_to(Path(run).resolve())

    for line in machine_header(args.threads):
        print(line)
    print(f"{args.clients} concurrent clients on loopback, {args.requests} requests per endpoint per round, two rounds; "
          f"generate = {args.tokens} characters streamed as Server-Sent Events; a bad request after every 10th\n")
    rows, ok = [], True
    for mb in args.max_batch:
        server = Server([link / "textgen", link / "classify"], mb, args.batch_wait_ms, args.threads)
        try:
            run_load(server.port, bodies("generate", 8, 99, args.tokens) + bodies("classify", 8, 99, 0), 2, 0)
            rss = [rss_mib(server.proc.pid)]
            results = {"generate": [], "classify": []}
            for rnd in range(2):
                for kind in ("generate", "classify"):
                    results[kind].append(run_load(server.port, bodies(kind, args.requests, rnd, args.tokens),
                                                  args.clients, 10))
                rss.append(rss_mib(server.proc.pid))
            alive = server.alive()
            batches = batch_sizes(server.port)
        finally:
            server.stop()
        ok &= alive
        for kind in ("generate", "classify"):
            res = results[kind]
            lat = [x for r in res for x in r["lat"]]
            fails = [f for r in res for f in r["failures"]]
            bad = [b for r in res for b in r["bad_ok"]]
            ok &= not fails and all(bad)
            rows.append([str(mb), kind, str(len(lat) + len(fails)), str(len(fails)),
                         f"{len(lat) / sum(r['wall'] for r in res):.1f}", f"{1000 * pct(lat, 50):.0f}",
                         f"{1000 * pct(lat, 99):.0f}", f"{batches.get('textgen' if kind == 'generate' else 'classify', 1):.2f}",
                         f"{sum(bad)}/{len(bad)}", f"{rss[0]:.0f} / {rss[1]:.0f} / {rss[2]:.0f}",
                         "yes" if alive else "NO"])
    header = ["max batch", "endpoint", "requests", "failed", "req/s", "p50 ms", "p99 ms", "mean batch",
              "bad requests 4xx", "RSS MiB warm / round 1 / round 2", "up after"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
