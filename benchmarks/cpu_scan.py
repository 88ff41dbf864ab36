"""The parallel linear scan against the sequential loop on CPU, and minGRU against GRUs, in one run.

Part 1, the scan ``h_t = a_t * h_{t-1} + b_t`` on ``(B, T, D)`` float32, for T = 256 .. 16384:

    loop      rnnkit.functional.linear_scan_ref (T Python steps; autograd records each)
    chunked   rnnkit.kernels.scan.chunked_scan (in place, hand-written backward)
    log       rnnkit.functional.log_linear_scan (Feng et al.'s cumsum + logcumsumexp form)

on the same minGRU coefficients (a, b) = (1 - z, z * g(h~)) from random gate pre-activations (the
log form gets their logs, computed the stable way). Modes: ``fwd`` under no_grad; ``fwd+bwd``
forward then backward of a fixed output gradient into (a, b).

Part 2, one training step (zero_grad, forward, loss, backward, Adam step) at one size, input
size D = H, one layer: MinGRU (chunked / log / loop scan) against rnnkit.GRU with its own Python
time loop (backend="loop") and torch.nn.GRU (ATen's fused CPU kernel).

Parity is checked before any timing (chunked and log against the loop; MinGRU's backends against
each other; rnnkit.GRU's loop against torch.nn.GRU); a mismatch aborts the run. Medians of
interleaved repeats (every round calls each contender once, in rotated order).

    python benchmarks/cpu_scan.py                    # the full run, 1 thread
    python benchmarks/cpu_scan.py --clock cpu        # time.process_time instead of wall time
    python benchmarks/cpu_scan.py --quick            # tiny sizes (the smoke test)
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Callable

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # run from a checkout without installing rnnkit

import torch
from common import machine_header, markdown_table
from torch import nn

import rnnkit
from rnnkit.functional import scan as FS
from rnnkit.kernels.scan import DEFAULT_CHUNK, chunked_scan
from rnnkit.layers import MinGRU

SCAN_T = (256, 1024, 4096, 16384)
SCAN_BD = (4, 64)
TRAIN_SIZE = (8, 1024, 64)  # B, T, H
# part 1b: the ratio at the goal's T depends on B * D (the loop's cost is per-step overhead, the
# scan's is memory traffic): a few widths at T = GOAL_T
WIDTHS = ((1, 64), (4, 16), (4, 64), (16, 64))
QUICK_WIDTHS = ((1, 8), (2, 8))
QUICK_SCAN_T = (32, 128)
QUICK_SCAN_BD = (2, 8)
QUICK_TRAIN_SIZE = (2, 32, 8)
GOAL_T, GOAL_RATIO = 4096, 20.0
WIDTH_COLUMNS = ["B", "D", "B*D", "mode", "loop ms", "chunked ms", "log ms", "loop / chunked", "loop / log"]
SCAN_COLUMNS = ["T", "mode", "loop ms", "chunked ms", "log ms", "loop / chunked", "loop / log"]
TRAIN_COLUMNS = ["model", "scan / path", "ms per step", "speed-up over torch.nn.GRU", "speed-up over rnnkit.GRU loop"]
RTOL = 1e-4  # float32 parity, relative to the largest magnitude (the log form's T-dependent error
# is larger: it gets LOG_RTOL, see docs/scan.md)
LOG_RTOL = 2e-2


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int,
                     clock: Callable[[], float], setup: Callable[[str], None] | None = None) -> dict[str, float]:
    """Median ms per call of each function, interleaved as in common.time_interleaved, with a
    choice of clock (``time.perf_counter`` or ``time.process_time``)."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            if setup:
                setup(name)
            fns[name]()
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if setup:
                setup(name)
            t0 = clock()
            fns[name]()
            samples[name].append((clock() - t0) * 1e3)
    return {n: statistics.median(v) for n, v in samples.items()}


def _rel(x: torch.Tensor, ref: torch.Tensor) -> float:
    x, ref = x.detach().double(), ref.detach().double()
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def _ms(v: float) -> str:
    return f"{v:.1f}" if v >= 100 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


# ------------------------------------------------------------------------------------ part 1
def scan_inputs(B: int, T: int, D: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, 2 * D, generator=gen) * 2
    a, b = FS.mingru_coefficients(gi)
    log_a, log_b = FS.mingru_log_coefficients(gi)
    g = torch.randn(B, T, D, generator=gen)
    return a, b, log_a, log_b, g


def check_scan_parity(a, b, log_a, log_b, g, chunk: int) -> None:
    leaves = [t.clone().requires_grad_() for t in (a, b, log_a, log_b)]
    la, lb, lla, llb = leaves
    ref = FS.linear_scan_ref(la, lb)
    ref_grads = torch.autograd.grad(ref, (la, lb), g)
    out = chunked_scan(la, lb, None, chunk)
    grads = torch.autograd.grad(out, (la, lb), g)
    errs = {"chunked output": _rel(out, ref), "chunked grad a": _rel(grads[0], ref_grads[0]),
            "chunked grad b": _rel(grads[1], ref_grads[1])}
    bad = {k: v for k, v in errs.items() if not v <= RTOL}
    log_out = FS.log_linear_scan(lla, llb)
    log_err = _rel(log_out, ref)
    if not log_err <= LOG_RTOL:
        bad["log output"] = log_err
    if bad:
        raise AssertionError(f"scan parity failed at {tuple(a.shape)}: "
                             + ", ".join(f"{k} rel. err {v:.2e}" for k, v in bad.items()))


def bench_scan(T: int, B: int, D: int, repeats: int, warmup: int, clock, chunk: int) -> list[list]:
    a, b, log_a, log_b, g = scan_inputs(B, T, D)
    check_scan_parity(a, b, log_a, log_b, g, chunk)
    calls = {
        "loop": lambda x, y: FS.linear_scan_ref(x, y),
        "chunked": lambda x, y: chunked_scan(x, y, None, chunk),
        "log": lambda x, y: FS.log_linear_scan(x, y),
    }
    args = {"loop": (a, b), "chunked": (a, b), "log": (log_a, log_b)}
    leaves = {n: tuple(t.clone().requires_grad_() for t in args[n]) for n in calls}

    def fwd(name):
        def f():
            with torch.no_grad():
                calls[name](*args[name])
        return f

    def fwd_bwd(name):
        def f():
            calls[name](*leaves[name]).backward(g)
        return f

    def clear(name):
        for t in leaves[name]:
            t.grad = None

    rows = []
    for mode, make in (("fwd", fwd), ("fwd+bwd", fwd_bwd)):
        ms = time_interleaved({n: make(n) for n in calls}, repeats, warmup, clock, setup=clear)
        rows.append([T, mode, _ms(ms["loop"]), _ms(ms["chunked"]), _ms(ms["log"]),
                     f"{ms['loop'] / ms['chunked']:.1f}", f"{ms['loop'] / ms['log']:.1f}"])
    return rows


# ------------------------------------------------------------------------------------ part 2
def train_contenders(B: int, T: int, H: int):
    torch.manual_seed(0)
    ref_gru = nn.GRU(H, H, batch_first=True)
    models = {
        ("MinGRU", "chunked"): MinGRU(H, H, batch_first=True, backend="chunked"),
        ("MinGRU", "log"): MinGRU(H, H, batch_first=True, backend="log"),
        ("MinGRU", "loop"): MinGRU(H, H, batch_first=True, backend="loop"),
        ("rnnkit.GRU", "loop"): rnnkit.GRU(H, H, batch_first=True, backend="loop"),
        ("torch.nn.GRU", "ATen fused"): ref_gru,
    }
    sd = models[("MinGRU", "chunked")].state_dict()
    for key in (("MinGRU", "log"), ("MinGRU", "loop")):
        models[key].load_state_dict(sd)
    models[("rnnkit.GRU", "loop")].load_state_dict(ref_gru.state_dict())
    return models


def _canonical(name: str) -> str:
    """``cells.0.weight_ih`` / ``weight_ih_l0`` -> ``weight_ih``."""
    name = name.rsplit(".", 1)[-1]
    return name.removesuffix("_l0")


def _run(model, x):
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


def check_train_parity(models, x) -> None:
    results = {}
    for key, m in models.items():
        m.zero_grad(set_to_none=True)
        out = _run(m, x)
        out.square().mean().backward()
        results[key] = (out.detach(), {_canonical(n): p.grad for n, p in m.named_parameters()})
    pairs = [(("MinGRU", "chunked"), ("MinGRU", "loop"), RTOL),
             (("MinGRU", "log"), ("MinGRU", "loop"), LOG_RTOL),
             (("rnnkit.GRU", "loop"), ("torch.nn.GRU", "ATen fused"), RTOL)]
    for key, ref_key, rtol in pairs:
        out, grads = results[key]
        ref_out, ref_grads = results[ref_key]
        errs = {"output": _rel(out, ref_out)}
        errs.update({f"grad {k}": _rel(grads[k], ref_grads[k]) for k in ref_grads})
        bad = {k: v for k, v in errs.items() if not v <= rtol}
        if bad:
            raise AssertionError(f"training parity failed, {key} vs {ref_key}: "
                                 + ", ".join(f"{k} rel. err {v:.2e}" for k, v in bad.items()))


def bench_train(B: int, T: int, H: int, repeats: int, warmup: int, clock) -> list[list]:
    models = train_contenders(B, T, H)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, H, generator=gen)
    target = torch.randn(B, T, H, generator=gen)
    check_train_parity(models, x)
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in models.items()}

    def step(key):
        def f():
            opts[key].zero_grad(set_to_none=True)
            loss = (_run(models[key], x) - target).square().mean()
            loss.backward()
            opts[key].step()
        return f

    ms = time_interleaved({k: step(k) for k in models}, repeats, warmup, clock)
    torch_ms, loop_ms = ms[("torch.nn.GRU", "ATen fused")], ms[("rnnkit.GRU", "loop")]
    return [[name, path, _ms(v), f"{torch_ms / v:.2f}x", f"{loop_ms / v:.2f}x"] for (name, path), v in ms.items()]


# ------------------------------------------------------------------------------------ main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5; 2 with --quick)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls of each contender first")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter; cpu: time.process_time, which on a shared machine "
                        "leaves out the time the process waits for a core (sensible with 1 thread)")
    p.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help=f"chunk size C (default {DEFAULT_CHUNK})")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds (smoke test)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 5)
    if repeats < 1:
        p.error("--repeats must be >= 1")
    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    scan_T = QUICK_SCAN_T if args.quick else SCAN_T
    B, D = QUICK_SCAN_BD if args.quick else SCAN_BD
    tB, tT, tH = QUICK_TRAIN_SIZE if args.quick else TRAIN_SIZE

    start = time.perf_counter()
    print("# rnnkit CPU scan benchmark, " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    for line in machine_header(args.threads):
        print("# " + line)
    print(f"# float32; clock: {args.clock}; median of {repeats} interleaved rounds after {args.warmup} "
          f"warm-up; parity checked before timing; chunk C = {args.chunk}")
    print(f"\n## Linear scan h_t = a_t h_(t-1) + b_t, B = {B}, D = {D}\n", flush=True)
    rows = []
    for T in scan_T:
        for row in bench_scan(T, B, D, repeats, args.warmup, clock, args.chunk):
            rows.append(row)
            print("  " + " ".join(str(c) for c in row), flush=True)
    print()
    print(markdown_table(SCAN_COLUMNS, rows))
    goal = [r for r in rows if r[0] == GOAL_T]
    if goal:
        print("\n" + "; ".join(f"{r[1]} at T={GOAL_T}: chunked {r[5]}x the loop "
                               f"({'meets' if float(r[5]) >= GOAL_RATIO else 'misses'} the {GOAL_RATIO:.0f}x goal)"
                               for r in goal))

    goal_T = scan_T[-1] if args.quick else GOAL_T
    print(f"\n## The same at T = {goal_T} for several widths B x D\n", flush=True)
    width_rows = []
    for wB, wD in (QUICK_WIDTHS if args.quick else WIDTHS):
        for row in bench_scan(goal_T, wB, wD, repeats, args.warmup, clock, args.chunk):
            width_rows.append([wB, wD, wB * wD] + row[1:])
            print("  " + " ".join(str(c) for c in width_rows[-1]), flush=True)
    print()
    print(markdown_table(WIDTH_COLUMNS, width_rows))

    print(f"\n## One training step (forward, backward, Adam), B = {tB}, T = {tT}, D = H = {tH}, 1 layer\n",
          flush=True)
    train_rows = bench_train(tB, tT, tH, repeats, args.warmup, clock)
    print(markdown_table(TRAIN_COLUMNS, train_rows))
    print(f"\n# total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
