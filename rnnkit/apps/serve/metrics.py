"""Request counts and latencies per endpoint, and batch sizes per run, in Prometheus' text format.

``GET /metrics`` gives, for example::

    rnnkit_requests_total{method="POST",endpoint="/api/{run_name}/predict",run="reviews",status="200"} 12
    rnnkit_request_seconds_bucket{endpoint="/api/{run_name}/predict",run="reviews",le="0.05"} 9
    rnnkit_request_seconds_sum{...} 0.41            rnnkit_request_seconds_count{...} 12
    rnnkit_batch_size_bucket{run="reviews",le="4"} 3

Endpoints are the route templates (``/api/{run_name}/predict``), not the raw paths, so an unknown
path cannot grow the table without bound; unmatched paths count as ``endpoint="(unmatched)"``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

__all__ = ["Metrics", "MetricsMiddleware"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


def _labels(**kv: str) -> str:
    def esc(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in kv.items()) + "}"


class _Histogram:
    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.n = 0

    def observe(self, v: float) -> None:
        for i, b in enumerate(self.buckets):
            if v <= b:
                self.counts[i] += 1
        self.total += v
        self.n += 1


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: dict[tuple, int] = defaultdict(int)
        self.latency: dict[tuple, _Histogram] = {}
        self.batches: dict[str, _Histogram] = {}
        self.batch_seconds: dict[str, float] = defaultdict(float)
        self.in_flight = 0
        self.known_runs: set[str] = set()  # other run names in a path are labelled "(unknown)"

    def record_request(self, method: str, endpoint: str, run: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, endpoint, run, str(status))] += 1
            key = (endpoint, run)
            if key not in self.latency:
                self.latency[key] = _Histogram(LATENCY_BUCKETS)
            self.latency[key].observe(seconds)

    def record_batch(self, run: str, size: int, seconds: float) -> None:
        with self._lock:
            if run not in self.batches:
                self.batches[run] = _Histogram(BATCH_BUCKETS)
            self.batches[run].observe(size)
            self.batch_seconds[run] += seconds

    def snapshot(self) -> dict:
        """The counters as plain data (for tests and the load benchmark)."""
        with self._lock:
            return {"requests": {"|".join(k): v for k, v in self.requests.items()},
                    "batches": {run: {"count": h.n, "items": h.total} for run, h in self.batches.items()}}

    def render(self) -> str:
        out = []
        with self._lock:
            out += ["# HELP rnnkit_uptime_seconds Seconds since the server started.",
                    "# TYPE rnnkit_uptime_seconds gauge", f"rnnkit_uptime_seconds {time.time() - self.started:.3f}",
                    "# HELP rnnkit_requests_in_flight Requests being handled now.",
                    "# TYPE rnnkit_requests_in_flight gauge", f"rnnkit_requests_in_flight {self.in_flight}",
                    "# HELP rnnkit_requests_total Requests by method, endpoint, run and status.",
                    "# TYPE rnnkit_requests_total counter"]
            for (method, endpoint, run, status), n in sorted(self.requests.items()):
                out.append(f"rnnkit_requests_total{_labels(method=method, endpoint=endpoint, run=run, status=status)} {n}")
            out += ["# HELP rnnkit_request_seconds Request latency, to the last byte of the response.",
                    "# TYPE rnnkit_request_seconds histogram"]
            for (endpoint, run), h in sorted(self.latency.items()):
                for b, c in zip(h.buckets, h.counts):
                    out.append(f"rnnkit_request_seconds_bucket{_labels(endpoint=endpoint, run=run, le=str(b))} {c}")
                out.append(f"rnnkit_request_seconds_bucket{_labels(endpoint=endpoint, run=run, le='+Inf')} {h.n}")
                out.append(f"rnnkit_request_seconds_sum{_labels(endpoint=endpoint, run=run)} {h.total:.6f}")
                out.append(f"rnnkit_request_seconds_count{_labels(endpoint=endpoint, run=run)} {h.n}")
            out += ["# HELP rnnkit_batch_size Items per micro-batch, by run.", "# TYPE rnnkit_batch_size histogram"]
            for run, h in sorted(self.batches.items()):
                for b, c in zip(h.buckets, h.counts):
                    out.append(f"rnnkit_batch_size_bucket{_labels(run=run, le=str(b))} {c}")
                out.append(f"rnnkit_batch_size_bucket{_labels(run=run, le='+Inf')} {h.n}")
                out.append(f"rnnkit_batch_size_sum{_labels(run=run)} {h.total:.0f}")
                out.append(f"rnnkit_batch_size_count{_labels(run=run)} {h.n}")
            out += ["# HELP rnnkit_batch_seconds_total Time spent running batches, by run.",
                    "# TYPE rnnkit_batch_seconds_total counter"]
            for run, s in sorted(self.batch_seconds.items()):
                out.append(f"rnnkit_batch_seconds_total{_labels(run=run)} {s:.6f}")
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """Pure ASGI middleware: times every HTTP request to its last byte and records it by route
    template (the router writes the matched route into the shared ``scope``)."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight -= 1
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "(unmatched)"
            run = (scope.get("path_params") or {}).get("run_name", "")
            if run and run not in self.metrics.known_runs:
                run = "(unknown)"
            self.metrics.record_request(scope.get("method", ""), endpoint, run, status[0],
                                        time.perf_counter() - start)
