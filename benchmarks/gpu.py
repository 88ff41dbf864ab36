"""rnnkit's Triton kernels against their peers on one CUDA card, in one run: parity, then timing.

Part 1, the linear scan ``h_t = a_t * h_{t-1} + b_t`` (B, T, D) = (16, T, 1024), T in {1024, 4096}:
``triton`` (rnnkit.kernels.scan.triton_scan, chunk="auto": the chunked kernels at these sizes) and
``triton seq`` (chunk=None, one sequential walk per channel) against ``chunked`` (the pure-torch chunked scan) and
``log`` (the log-space cumsum/logcumsumexp scan), in fp32, fp16 and bf16 (log: fp32 only). ``triton 2-pass``:
triton_scan(carry="fused", chunk 64), the two-pass kernels (the chunk carry inside pass 1, triton_twopass.py;
opt-in, untimed before this part), its h checked against float64 and its gradients against the three-pass
``triton``'s before any timing; ``triton / 2-pass`` > 1 means the two-pass is faster.

Part 2, one LSTM layer nn.LSTM(H, H) (input projection included on both sides): ``fused``
(rnnkit.kernels.lstm.op.lstm_forward, the Triton sequential part, in the layout op.choose_kernel
picks: the rows forward with the split backward) against torch.nn.LSTM (cuDNN), T = 1024, in fp16,
bf16 and fp32; "n/a" where no fused layout fits (the reason goes to stderr); ``rows ms`` times
``kernel="rows"`` of the same op, the rows forward with the rows backward (triton_rows_bwd.py, untimed
before this part), so ``f+b`` rows set rows-fwd + split-bwd (``fused``), rows-fwd + rows-bwd (``rows``)
and cuDNN side by side; at H = 768/1024 only the rows backward fits training. Before the ``f+b``
timing, dL/dx of every fused variant is checked against the float64 layer's: relative error <=
max(PARITY, 2 x cuDNN's); a failure skips that variant's ``f+b`` timing (listed at the end, exit 1).
Part 3: fp32 forward+backward against an eager
nn.LSTMCell loop, one size. Part 4: one GRU layer nn.GRU(H, H), fused (rnnkit.kernels.gru, the
layout its ``auto`` picks: rows forward where it fits, split backward) against cuDNN, the same way;
``split ms`` times the split layout, ``rows ms`` the rows forward with the rows backward.
Part 5 (``dropout``): a layer of ``VariationalDropout(LSTMCell | GRUCell)`` (recurrent dropout, the
mask fixed over time), training forward+backward: the fused kernels with the mask inside the
product (``backend="triton"``) against rnnkit's loop (``backend="loop"``, what ``auto`` runs for
such layers) and, for scale, cuDNN's layer without recurrent dropout (cuDNN cannot apply it).
Part 6 (``rnn``): one Elman RNN layer nn.RNN(H, H) (tanh), fused (rnnkit.kernels.elman, split
layout) against cuDNN, the same way as parts 2 and 4.
Part 7 (``zoneout``): layers of ``Zoneout(LSTMCell | GRUCell | RNNCell)`` at Krueger et al.'s
rates (LSTM (p_h, p_c) = (0.05, 0.5), GRU and RNN p = 0.1) in training mode, ``fwd`` and ``f+b``:
the fused kernels (``backend="triton"``, zoneout in the split kernels) against rnnkit's loop
(``backend="loop"``, what ``auto`` runs for wrapped cells) and, for scale, cuDNN's layer without
zoneout (cuDNN cannot apply it). Parity first, with one seed (the fused layer draws the masks in
the loop's order, so the masks are the same): outputs and every gradient of the fused layer and
of the loop in the benchmark's dtype against the float64 loop with the same masks; the table
prints the largest differences.
Part 8 (``layernorm``): one layer of ``LayerNormLSTMCell(H, H)`` / ``LayerNormGRUCell(H, H)``, ``fwd``
and ``f+b``: the fused LayerNorm kernels (``backend="triton"``, rnnkit/kernels/lstm/ln_op.py, the
whole-row layout) against the same layer on rnnkit's loop (``backend="loop"``, the eager cell loop
``auto`` runs) and against the plain fused layer of the same size (``lstm_forward``/``gru_forward``,
no LayerNorm), all in the same interleaved rounds. Goal: LN / plain <= 1.5 and loop / LN >= 10.
Parity first: outputs, dL/dx and every parameter's gradient of the fused LN layer against the
float64 loop (``PARITY``); a failure skips that row's timing (listed at the end, exit code 1).
"n/a" where the whole-row layout does not fit (training: H <= 128; the LSTM in fp32 H <= 64).
Part 9 (``headwise``): one layer of ``HeadwiseLSTMCell(H, H, heads=k)`` and one of
``HeadwiseGRUCell(H, H, heads=k)`` (block-diagonal W_hh), ``fwd`` and ``f+b``: the fused head-wise
kernel (``backend="triton"``, rnnkit/kernels/{lstm,gru}/headwise.py) against the same layer on
rnnkit's loop (``backend="loop"``, what ``auto`` runs), the dense fused layer of the same cell
(``rnnkit.LSTM``/``rnnkit.GRU(H, H, backend="triton")``) and cuDNN (``torch.nn.LSTM``/``GRU(H, H)``)
at the same B, T, H, all in the same interleaved rounds; torch's TF32 switches as they are. Parity first, per
mode: the fused layer's outputs (``fwd``; ``f+b`` also dL/dx and every parameter's gradient)
against the float64 loop (``PARITY``); a failure skips that row's timing (listed at the end, exit
code 1). "n/a" where a head does not fit one program (the reason goes to stderr) and, in the dense
column, where the dense fused layer does not fit.

fp32 in parts 2, 4 and 6 is timed twice, in the same interleaved rounds: ``fp32 (TF32 off)`` with
torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False (the fused
kernels' products exact fp32, "ieee"; cuDNN without tensor-core math) and ``fp32 (TF32 on)`` with
both True (the fused kernels' products TF32, rnnkit.kernels.persistent.dot_precision; cuDNN's
own default allows TF32). The TF32 parity rule: relative error against float64 <= 2 x cuDNN's
with TF32 allowed + 5e-3 (``PARITY_TF32``: TF32 keeps 10 mantissa bits, about 1e-3 relative error
per product); the table "fp32 parity" prints both errors.

Modes: ``fwd`` under no_grad; ``f+b`` forward then backward of a fixed output gradient. Parity is
checked before any timing; a mismatch of the exact paths aborts, one of the TF32 rows or of the
zoneout part skips that timing, is listed at the end and makes the exit code 1 (the other parts
still run). Median ms of CUDA-event-timed repeats, contenders interleaved (20 repeats; fewer, at
least 5, where one round of a row's contenders takes over 0.2 s: about 4 s of timed rounds per row).
Parts run in the order ``--parts`` lists them; the default puts the parts never timed on a GPU
first, so a timeout cuts re-measurements, not first ones. Tables and the card they came from:
docs/kernels.md.

    python benchmarks/gpu.py            # the full run (fits one 10-minute device call)
    python benchmarks/gpu.py --quick    # small sizes
    python benchmarks/gpu.py --cpu-smoke   # the code path on CPU (interpreter), no timing value
    python benchmarks/gpu.py --parts zoneout   # the fused zoneout layers only
    python benchmarks/gpu.py --parts layernorm   # the fused LayerNorm LSTM/GRU only
    python benchmarks/gpu.py --parts headwise   # the fused head-wise (block-diagonal) LSTM only
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Hashable

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # run from a checkout without installing rnnkit

import torch
from common import markdown_table

SCAN_SIZES = ((16, 1024, 1024), (16, 4096, 1024))  # B, T, D
# B, T, H: the goal sizes of issue 7 and DESIGN.md section 6; the kernel layout is op.choose_kernel's
# (always "split" on a GPU); a shape no fused layout fits prints "n/a"
LSTM_SIZES = ((64, 1024, 64), (8, 1024, 256), (16, 1024, 768), (64, 1024, 512), (16, 1024, 1024),
              (256, 1024, 1024))
GRU_SIZES = ((8, 1024, 256), (64, 1024, 512), (16, 1024, 1024))  # the GRU goal: B=16, H=1024
RNN_SIZES = ((8, 1024, 256), (64, 1024, 512), (16, 1024, 1024))  # the GRU's sizes: the two compare
DROPOUT_SIZES = ((8, 256, 256), (64, 256, 512))  # B, T, H; T = 256: the loop backend is slow
# B, T, H of the zoneout part (T = 256: the loop is slow); at H = 768 the LSTM fits only the forward in
# fp16/bf16 and fp32 only the Elman RNN: the rest prints n/a
ZONEOUT_SIZES = ((16, 256, 256), (16, 256, 768))
# B, T, H of the layernorm part: the whole-row LayerNorm kernels hold all of W_hh in one program, so
# H <= 128 (the LSTM in fp32: 64; larger prints n/a); T = 256: the loop is slow
LAYERNORM_SIZES = ((16, 256, 64), (8, 256, 128), (64, 256, 128))
# B, T, H, heads of the headwise part: head sizes 192, 96, 64 at H = 768 and 64 at H = 256 (a head the
# kernel does not fit prints n/a: fp32 training fits head size <= 64 (the GRU, three gate blocks: 128,
# exactly at the estimated limit), fp16/bf16 <= 128)
HEADWISE_SIZES = ((16, 1024, 768, 4), (16, 1024, 768, 8), (16, 1024, 768, 12), (16, 1024, 256, 4))
EAGER_SIZE = (16, 256, 256)  # B, T, H of the eager nn.LSTMCell loop row (fp32), as DESIGN.md
QUICK_SCAN_SIZES = ((2, 64, 33),)
QUICK_LSTM_SIZES = ((3, 32, 24),)
QUICK_HEADWISE_SIZES = ((3, 32, 24, 2), (3, 32, 24, 4))  # head sizes 12 and 6
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# parity, relative to the largest magnitude of the float64 answer
PARITY = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 8e-2}
# fp32 with TF32 products, the same-dtype rule: error against float64 <= 2 x the error of torch's own
# fp32 layer with TF32 allowed (cuDNN), plus this floor: TF32 rounds each input to 10 mantissa bits
# (about 1e-3 relative error per product); 0.6-1.7e-3 was the error of an emulated TF32 LSTM, GRU and
# RNN (T = 256-1024, H = 64-1024) against float64, so 5e-3 leaves about 3x
PARITY_TF32 = 5e-3
ROUND_BUDGET_S = 4.0  # a row's timed rounds stop after about this long (slow exact-fp32 rows) ...
MIN_REPEATS = 5  # ... but not below this many
DEV = "cuda"  # "cpu" only for --cpu-smoke (the code path under the Triton interpreter)
FAILURES: list[str] = []  # parity failures that skipped a timing (TF32 rows, zoneout): exit code 1
# every part, in the default order: the parts never timed on a GPU first (a timeout cuts re-measurements)
PARTS = ("layernorm", "headwise", "zoneout", "rnn", "dropout", "lstm", "gru", "scan")


def cuda_ms(fns: dict[Hashable, Callable[[], object]], repeats: int, warmup: int = 3) -> dict[Hashable, float]:
    """Median ms of each function, CUDA events around each call, rounds interleaved; at most
    ``repeats`` rounds, fewer (at least MIN_REPEATS) where the last warm-up round took so long that
    ``repeats`` rounds would exceed ROUND_BUDGET_S."""
    round_s = 0.0
    for _ in range(1 if DEV == "cpu" else warmup):
        t0 = time.perf_counter()
        for f in fns.values():
            f()
        if DEV == "cuda":
            torch.cuda.synchronize()
        round_s = time.perf_counter() - t0
    repeats = min(repeats, max(MIN_REPEATS, int(ROUND_BUDGET_S / max(round_s, 1e-6))))
    samples: dict[Hashable, list[float]] = {n: [] for n in fns}
    if DEV == "cpu":  # --cpu-smoke: wall clock, meaningless under the interpreter
        for _ in range(repeats):
            for name, f in fns.items():
                t0 = time.perf_counter()
                f()
                samples[name].append(1e3 * (time.perf_counter() - t0))
        return {n: statistics.median(v) for n, v in samples.items()}
    torch.cuda.synchronize()
    for _ in range(repeats):
        for name, f in fns.items():
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            f()
            end.record()
            end.synchronize()
            samples[name].append(start.elapsed_time(end))
    return {n: statistics.median(v) for n, v in samples.items()}


def rel_err(got: torch.Tensor, want: torch.Tensor) -> float:
    """max |got - want| relative to the largest magnitude of ``want``."""
    return (got.double() - want.double()).abs().max().item() / max(want.abs().max().item(), 1e-30)


def check(name: str, got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype) -> None:
    err = rel_err(got, want)
    if not err <= PARITY[dtype]:
        raise SystemExit(f"parity failed: {name} relative error {err:.3g} > {PARITY[dtype]:g}")


def fail(message: str) -> None:
    """A parity failure that skips a timing but not the run (listed at the end, exit code 1)."""
    FAILURES.append(message)
    print(f"# PARITY FAILED: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def tf32(on: bool):
    """torch's TF32 switches for fp32, matmul (which the fused kernels follow) and cuDNN, set to
    ``on`` inside, restored after (the old switches only: torch >= 2.9 refuses to mix them)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _in_tf32(on: bool | None, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with torch's TF32 switches ``on``; None (fp16/bf16 rows): ``fn`` itself, as before."""
    if on is None:
        return fn

    def run():
        with tf32(on):
            return fn()
    return run


def _dtype_label(dname: str, on: bool | None) -> str:
    return dname if on is None else f"{dname} (TF32 {'on' if on else 'off'})"


def scan_rows(sizes, repeats: int) -> list[list[object]]:
    from rnnkit.functional import scan as FS
    from rnnkit.kernels.scan import chunked_scan
    from rnnkit.kernels.scan.triton_op import triton_scan
    from rnnkit.kernels.scan.triton_twopass import CHUNK as TWO_PASS_CHUNK
    two_pass = lambda a, b: triton_scan(a, b, chunk=TWO_PASS_CHUNK, carry="fused")[0]  # noqa: E731
    rows = []
    for B, T, D in sizes:
        g = torch.Generator(device=DEV).manual_seed(0)
        k = torch.randn(B, T, 2 * D, device=DEV, generator=g)
        a64, b64 = (x.double() for x in FS.mingru_coefficients(k))
        want = FS.linear_scan_ref(a64, b64)
        for dname, dtype in DTYPES.items():
            a, b = a64.to(dtype), b64.to(dtype)
            check(f"triton scan {dname} {B}x{T}x{D}", triton_scan(a, b)[0], want, dtype)
            check(f"triton seq scan {dname} {B}x{T}x{D}", triton_scan(a, b, chunk=None)[0], want, dtype)
            check(f"chunked scan {dname} {B}x{T}x{D}", chunked_scan(a, b), want, dtype)
            check(f"triton 2-pass scan {dname} {B}x{T}x{D}", two_pass(a, b), want, dtype)
            dy = torch.randn_like(a)
            grads = []
            for fn in (two_pass, lambda a, b: triton_scan(a, b)[0]):
                leaves = [x.detach().requires_grad_() for x in (a, b)]
                fn(*leaves).backward(dy)
                grads.append([x.grad for x in leaves])
            for gname, got, three in zip(("grad a", "grad b"), *grads):
                check(f"triton 2-pass scan {gname} {dname} {B}x{T}x{D} (vs three-pass)", got, three, dtype)
            la, lb = (x.to(dtype) for x in FS.mingru_log_coefficients(k))
            for mode in ("fwd", "f+b"):
                fns = {}
                for name, fn, args in (("triton", lambda a, b: triton_scan(a, b)[0], (a, b)),
                                       ("triton seq", lambda a, b: triton_scan(a, b, chunk=None)[0], (a, b)),
                                       ("triton 2-pass", two_pass, (a, b)),
                                       ("chunked", chunked_scan, (a, b)),
                                       ("log", FS.log_linear_scan, (la, lb))):
                    if name == "log" and dtype != torch.float32:
                        continue  # its error grows with T in low precision (docs/scan.md)
                    if mode == "fwd":
                        fns[name] = (lambda fn=fn, args=args: _no_grad(fn, *args))
                    else:
                        leaves = [x.detach().requires_grad_() for x in args]
                        dy = torch.randn_like(a)
                        fns[name] = (lambda fn=fn, leaves=leaves, dy=dy: fn(*leaves).backward(dy))
                ms = cuda_ms(fns, repeats)
                log_ms = ms.get("log", float("nan"))
                rows.append([B, T, D, dname, mode, f"{ms['triton']:.3f}", f"{ms['triton seq']:.3f}",
                             f"{ms['triton 2-pass']:.3f}", f"{ms['chunked']:.3f}",
                             f"{log_ms:.3f}", f"{ms['chunked'] / ms['triton']:.2f}",
                             f"{log_ms / ms['triton']:.2f}", f"{ms['triton'] / ms['triton 2-pass']:.2f}"])
    return rows


def _no_grad(fn, *args, **kwargs):
    with torch.no_grad():
        return fn(*args, **kwargs)


def _variants(cell: str) -> dict:
    """The fused contenders of one layer: name -> (forward of (x, *torch weights), fit check of
    (B, H, dtype, device, training) that raises ValueError where the shape does not fit)."""
    if cell == "lstm":
        from rnnkit.kernels.lstm.op import choose_kernel, lstm_forward
        return {kernel if kernel != "auto" else "fused":
                ((lambda x, *p, k=kernel: lstm_forward(x, *p, kernel=k)),
                 (lambda B, H, dt, dev, training, k=kernel: choose_kernel(B, H, dt, dev, k, training=training)))
                for kernel in ("auto", "rows")}  # auto: rows fwd + split bwd; rows: rows fwd + rows bwd
    if cell == "rnn":
        from rnnkit.kernels.elman.op import choose_layout as fit
        from rnnkit.kernels.elman.op import elman_forward
        return {"fused": (elman_forward, lambda B, H, dt, dev, training: fit(B, H, dt, dev, training=training))}
    from rnnkit.kernels.gru.op import choose_layout, gru_forward
    return {kernel if kernel != "auto" else "fused":
            ((lambda x, *p, k=kernel: gru_forward(x, *p, kernel=k)),
             (lambda B, H, dt, dev, training, k=kernel: choose_layout(B, H, dt, dev, training=training, kernel=k)))
            for kernel in ("auto", "split", "rows")}  # auto: rows (or split) fwd + split bwd


def layer_rows(cell: str, sizes, repeats: int) -> tuple[list[str], list[list[object]], list[list[object]]]:
    """nn.LSTM / nn.GRU / nn.RNN (H, H) (cuDNN) against rnnkit's fused layer(s), parity first, then
    ``fwd`` and ``f+b`` timing: (table header, rows, fp32 parity rows). "n/a" where a fused layout
    does not fit (the reason goes to stderr) or, in a TF32 row, failed its parity (listed at the
    end). fp32 gives two rows per mode, torch's TF32 switches off and on (module docstring), timed
    in the same rounds."""
    variants = _variants(cell)
    torch_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    rows, precision = [], []
    for B, T, H in sizes:
        torch.manual_seed(0)
        ref = torch_cls(H, H, batch_first=True).to(DEV).double()
        x64 = torch.randn(B, T, H, device=DEV, dtype=torch.float64)
        with torch.no_grad():
            want = ref(x64)[0]
        for dname, dtype in DTYPES.items():
            m = torch_cls(H, H, batch_first=True).to(DEV).to(dtype)
            m.load_state_dict(ref.state_dict())
            x = x64.to(dtype)
            p = (m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0)
            layouts = {}  # (variant, mode) -> layout, or None where it does not fit
            for name, (_, fit) in variants.items():
                for mode in ("fwd", "f+b"):  # training needs more shared memory than inference
                    try:
                        layouts[name, mode] = fit(B, H, dtype, x.device, mode == "f+b")
                    except ValueError as err:
                        layouts[name, mode] = None
                        print(f"# {cell} {name} B={B} H={H} {dname} {mode}: {err}", file=sys.stderr)
            # fp32: torch's TF32 switches off (exact products) and on; other dtypes: off (no effect there)
            settings = (False, True) if dtype == torch.float32 else (None,)
            timed, errs = {}, {}  # setting -> variants to time; (who, setting) -> parity error
            for on in settings:
                label = f"{cell} {_dtype_label(dname, on)} B={B} H={H}"
                with torch.no_grad(), tf32(bool(on)):
                    errs["cuDNN", on] = rel_err(m(x)[0], want)
                    for name, (fwd, _) in variants.items():
                        if layouts[name, "fwd"] is None:
                            continue
                        try:
                            errs[name, on] = rel_err(fwd(x, *p)[0], want)
                        except Exception as exc:  # a TF32 kernel not compiling or launching: listed, not fatal
                            if not on:
                                raise
                            fail(f"{name} {label}: {type(exc).__name__}: {exc}")
                ran = [n for n in variants if (n, on) in errs]
                if not on:  # the exact paths: a mismatch aborts, as before
                    for who in ("cuDNN", *ran):
                        if not errs[who, on] <= PARITY[dtype]:
                            raise SystemExit(f"parity failed: {who} {label} relative error {errs[who, on]:.3g} "
                                             f"> {PARITY[dtype]:g}")
                    timed[on] = set(ran)
                    continue
                bound = 2 * errs["cuDNN", on] + PARITY_TF32
                timed[on] = {n for n in ran if errs[n, on] <= bound}
                for n in ran:
                    if n not in timed[on]:
                        fail(f"{n} {label}: relative error {errs[n, on]:.3g} > {bound:.3g} "
                             f"(2 x cuDNN's {errs['cuDNN', on]:.3g} + {PARITY_TF32:g})")
            if dtype == torch.float32:
                bound = 2 * errs["cuDNN", True] + PARITY_TF32
                for n in variants:
                    if layouts[n, "fwd"] is not None:
                        precision.append([B, T, H, n] + [f"{errs[who, on]:.2e}" if (who, on) in errs else "error"
                                                         for on in (False, True) for who in (n, "cuDNN")]
                                         + [f"{bound:.2e}", "yes" if n in timed[True] else "NO"])
            dy = torch.randn_like(x)
            xg = x.detach().requires_grad_()
            bad_grads = _grad_parity(f"{cell} {dname} B={B} H={H}", variants, layouts, m, ref, x, x64, p, dy,
                                     settings[0])
            for mode in ("fwd", "f+b"):
                fns = {}
                for on in settings:
                    fns["cudnn", on] = _in_tf32(on, (lambda m=m, x=x: _no_grad(m, x)) if mode == "fwd"
                                                else (lambda m=m, xg=xg, dy=dy: m(xg)[0].backward(dy)))
                    for name, (fwd, _) in variants.items():
                        if layouts[name, mode] is not None and name in timed[on] and not (
                                mode == "f+b" and name in bad_grads):
                            fns[name, on] = _in_tf32(on, (lambda x=x, p=p, f=fwd: _no_grad(f, x, *p))
                                                     if mode == "fwd" else
                                                     (lambda xg=xg, p=p, dy=dy, f=fwd: f(xg, *p)[0].backward(dy)))
                ms = cuda_ms(fns, repeats)
                for on in settings:
                    fused = ms.get(("fused", on))
                    rows.append([B, T, H, _dtype_label(dname, on), mode, _layout_name(layouts["fused", mode])]
                                + [f"{ms[n, on]:.3f}" if (n, on) in ms else "n/a" for n in variants]
                                + [f"{ms['cudnn', on]:.3f}", f"{ms['cudnn', on] / fused:.2f}" if fused else "n/a"])
    header = (["B", "T", "H", "dtype", "mode", "fused kernel"] + [f"{n} ms" for n in variants]
              + ["cuDNN ms", "cuDNN / fused"])
    return header, rows, precision


def _grad_parity(label: str, variants: dict, layouts: dict, m, ref, x, x64, p, dy, on: bool | None) -> set:
    """dL/dx of cuDNN's layer and of every fused variant whose training layout fits, against the
    float64 layer ``ref`` (torch's TF32 switches ``on``: off for fp32, as the exact parity): the
    variants whose relative error exceeds max(PARITY, 2 x cuDNN's), each listed as a failure. The
    errors go to stderr (bench.log keeps them)."""
    x64g = x64.detach().requires_grad_()
    ref(x64g)[0].backward(dy.double())
    errs = {}
    with tf32(bool(on)):
        for name, fwd in [("cuDNN", m)] + [(n, (lambda xx, f=f: f(xx, *p))) for n, (f, _) in variants.items()
                                           if layouts[n, "f+b"] is not None]:
            xg = x.detach().requires_grad_()
            fwd(xg)[0].backward(dy)
            errs[name] = rel_err(xg.grad, x64g.grad)
    bound = max(PARITY[x.dtype], 2 * errs["cuDNN"])
    print(f"# {label} dL/dx relative error: " + ", ".join(f"{n} {e:.2e}" for n, e in errs.items())
          + f" (bound {bound:.2e})", file=sys.stderr, flush=True)
    bad = {n for n, e in errs.items() if n != "cuDNN" and not e <= bound}
    for n in sorted(bad):
        fail(f"{n} {label} f+b: dL/dx relative error {errs[n]:.3g} > {bound:.3g}")
    return bad


PRECISION_HEADER = ["B", "T", "H", "variant", "exact fused", "exact cuDNN", "TF32 fused", "TF32 cuDNN",
                    "TF32 bound", "TF32 timed"]
PRECISION_TITLE = ("fp32 parity: forward relative error against float64 (max |y - y64| / max |y64|), torch's "
                   "TF32 switches off (exact) and on; bound = 2 x TF32 cuDNN + 5e-3")
LAYER_NOTE = ("fp32 (TF32 off): torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False\n"
              "(exact fused products, cuDNN without TF32); fp32 (TF32 on): both True (fused products TF32; "
              "cuDNN's default)")


def dropout_rows(sizes, repeats: int) -> list[list[object]]:
    """Recurrent-dropout layers, fused (mask in the kernel) against rnnkit's loop, training mode:
    the same seed draws the same masks on both, so outputs must agree before anything is timed."""
    import copy

    import rnnkit
    from rnnkit.cells.regularized import VariationalDropout
    from rnnkit.kernels.dispatch import BackendUnavailable
    rows = []
    for cell, torch_cls in ((rnnkit.LSTMCell, torch.nn.LSTM), (rnnkit.GRUCell, torch.nn.GRU)):
        for B, T, H in sizes:
            for dname, dtype in DTYPES.items():
                torch.manual_seed(0)
                fused = rnnkit.Recurrent(lambda d, c=cell, h=H: VariationalDropout(c(d, h), p_h=0.25), input_size=H,
                                         batch_first=True, backend="triton").to(DEV).to(dtype).train()
                loop = copy.deepcopy(fused)
                loop.backend = "loop"
                plain = torch_cls(H, H, batch_first=True).to(DEV).to(dtype)
                x = torch.randn(B, T, H, device=DEV, dtype=dtype, requires_grad=True)
                dy = torch.randn(B, T, H, device=DEV, dtype=dtype)
                name = f"dropout {cell.__name__} {dname} B={B} H={H}"
                try:
                    torch.manual_seed(1)
                    got = fused(x)[0]
                except BackendUnavailable as err:
                    print(f"# {name}: {err}", file=sys.stderr)
                    continue
                torch.manual_seed(1)
                check(name, got, loop(x)[0].double(), dtype)
                ms = cuda_ms({n: (lambda m=m, x=x, dy=dy: m(x)[0].backward(dy))
                              for n, m in (("fused", fused), ("loop", loop), ("cudnn", plain))}, max(3, repeats // 4))
                rows.append([cell.__name__, B, T, H, dname, f"{ms['fused']:.3f}", f"{ms['loop']:.3f}",
                             f"{ms['cudnn']:.3f}", f"{ms['loop'] / ms['fused']:.1f}"])
    return rows


def _zoneout_run(layer, x: torch.Tensor, dy: torch.Tensor, grad: bool, seed: int) -> list[torch.Tensor]:
    """``[y]``, or with ``grad`` ``[y, dL/dx, dL/dparam...]`` for L = sum(y * dy), the masks drawn
    from ``seed``."""
    torch.manual_seed(seed)
    if not grad:
        with torch.no_grad():
            return [layer(x)[0]]
    xg = x.detach().requires_grad_()
    y = layer(xg)[0]
    params = [q for _, q in sorted(layer.named_parameters())]
    return [y.detach(), *torch.autograd.grad(y, [xg, *params], dy)]


def zoneout_rows(sizes, repeats: int) -> tuple[list[list[object]], list[list[object]]]:
    """Zoneout layers in training mode, fused against rnnkit's loop and cuDNN without zoneout:
    (timing rows, parity rows). Parity first: the fused layer and the loop in the benchmark's dtype
    against the float64 loop, all with the same seed (the same masks); the fused layer passes when
    its error is at most 2x the loop's plus the dtype's PARITY (the same-dtype rule of
    tests/kernels_triton). Outputs and every gradient where training fits, else outputs only."""
    import copy

    import rnnkit
    from rnnkit.cells.regularized import Zoneout
    from rnnkit.kernels.dispatch import BackendUnavailable
    rows, parity = [], []
    for cell, torch_cls, rate in ((rnnkit.LSTMCell, torch.nn.LSTM, (0.05, 0.5)), (rnnkit.GRUCell, torch.nn.GRU, 0.1),
                                  (rnnkit.RNNCell, torch.nn.RNN, 0.1)):
        for B, T, H in sizes:
            torch.manual_seed(0)
            ref = rnnkit.Recurrent(lambda d, c=cell, h=H, r=rate: Zoneout(c(d, h), r), input_size=H, batch_first=True,
                                   backend="loop").to(DEV).double().train()
            x64 = torch.randn(B, T, H, device=DEV, dtype=torch.float64)
            dy64 = torch.randn(B, T, H, device=DEV, dtype=torch.float64)
            oracle = {}  # grad -> the float64 loop's tensors (computed when first needed)
            for dname, dtype in DTYPES.items():
                fused = copy.deepcopy(ref).to(dtype)
                fused.backend = "triton"
                loop = copy.deepcopy(ref).to(dtype)
                plain = torch_cls(H, H, batch_first=True).to(DEV).to(dtype)
                x, dy = x64.to(dtype), dy64.to(dtype)
                name = f"zoneout {cell.__name__} p={rate} {dname} B={B} H={H}"
                fits = {"fwd": False, "f+b": False}  # mode -> whether the fused layer runs it
                for mode, grad in (("f+b", True), ("fwd", False)):  # training needs more shared memory
                    try:
                        out = _zoneout_run(fused, x, dy, grad, seed=1)
                    except BackendUnavailable as err:
                        print(f"# {name} {mode}: {err}", file=sys.stderr)
                        continue
                    fits = {"fwd": True, "f+b": grad}
                    break
                timed, grad = fits["fwd"], fits["f+b"]
                if timed:
                    if grad not in oracle:
                        oracle[grad] = _zoneout_run(ref, x64, dy64, grad, seed=1)
                    want = _zoneout_run(loop, x, dy, grad, seed=1)
                    d_loop = [rel_err(g, w) for g, w in zip(out, want)]  # fused against the loop, same dtype
                    e_fused = [rel_err(g, o) for g, o in zip(out, oracle[grad])]
                    e_loop = [rel_err(w, o) for w, o in zip(want, oracle[grad])]
                    bad = [i for i, (ef, el) in enumerate(zip(e_fused, e_loop)) if not ef <= 2 * el + PARITY[dtype]]
                    parity.append([cell.__name__, B, T, H, dname, "y, grads" if grad else "y (training does not fit)",
                                   f"{d_loop[0]:.2e}", f"{max(d_loop[1:]):.2e}" if grad else "",
                                   f"{max(e_fused):.2e}", f"{max(e_loop):.2e}", "yes" if not bad else "NO"])
                    if bad:
                        names = ["y", "dL/dx", *(f"dL/d{n}" for n, _ in sorted(fused.named_parameters()))]
                        what = ", ".join(names[i] for i in bad)
                        fail(f"{name}: {what} against float64: fused {max(e_fused[i] for i in bad):.3g} > 2 x loop "
                             f"{max(e_loop[i] for i in bad):.3g} + {PARITY[dtype]:g}")
                        timed = False
                xg = x.detach().requires_grad_()
                for mode in ("fwd", "f+b"):
                    if not (timed and fits[mode]):
                        rows.append([cell.__name__, B, T, H, dname, mode] + ["n/a"] * 5)
                        continue
                    fns = {n: ((lambda m=m, x=x: _no_grad(m, x)) if mode == "fwd"
                               else (lambda m=m, xg=xg, dy=dy: m(xg)[0].backward(dy)))
                           for n, m in (("fused", fused), ("loop", loop), ("cudnn", plain))}
                    ms = cuda_ms(fns, repeats if DEV == "cpu" else max(3, repeats // 4))
                    rows.append([cell.__name__, B, T, H, dname, mode, f"{ms['fused']:.3f}", f"{ms['loop']:.3f}",
                                 f"{ms['cudnn']:.3f}", f"{ms['loop'] / ms['fused']:.1f}",
                                 f"{ms['cudnn'] / ms['fused']:.2f}"])
    return rows, parity


ZONEOUT_HEADER = ["cell", "B", "T", "H", "dtype", "mode", "fused ms", "loop ms", "cuDNN (no zoneout) ms",
                  "loop / fused", "cuDNN / fused"]
ZONEOUT_PARITY_HEADER = ["cell", "B", "T", "H", "dtype", "checked", "y: fused - loop", "grads: fused - loop",
                         "fused - f64", "loop - f64", "passed"]


def _layout_name(layout) -> str:
    if layout is None:
        return "n/a"
    name = f"{layout['fwd']['kind']} J={layout['fwd']['BLOCK_J']}"
    return name + (f", {layout['bwd']['kind']} bwd J={layout['bwd']['BLOCK_J']}" if layout["bwd"] else "")


def eager_rows(repeats: int) -> list[list[object]]:
    """fp32 forward+backward of the fused LSTM, cuDNN and an eager nn.LSTMCell loop (the fallback
    any custom cell gets in plain torch), one size."""
    from rnnkit.kernels.lstm.op import lstm_forward
    B, T, H = EAGER_SIZE if DEV == "cuda" else (2, 8, 16)
    torch.manual_seed(0)
    m = torch.nn.LSTM(H, H, batch_first=True).to(DEV)
    cell = torch.nn.LSTMCell(H, H).to(DEV)
    x = torch.randn(B, T, H, device=DEV, requires_grad=True)
    dy = torch.randn(B, T, H, device=DEV)
    p = (m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0)

    def eager():
        h = c = torch.zeros(B, H, device=DEV)
        ys = []
        for x_t in x.unbind(1):
            h, c = cell(x_t, (h, c))
            ys.append(h)
        torch.stack(ys, 1).backward(dy)

    ms = cuda_ms({"fused": lambda: lstm_forward(x, *p)[0].backward(dy), "cudnn": lambda: m(x)[0].backward(dy),
                  "eager": eager}, max(3, repeats // 4))
    return [[B, T, H, "fp32", "f+b", f"{ms['fused']:.3f}", f"{ms['cudnn']:.3f}", f"{ms['eager']:.3f}",
             f"{ms['eager'] / ms['fused']:.1f}"]]


LAYERNORM_HEADER = ["cell", "B", "T", "H", "dtype", "mode", "fused LN ms", "loop LN ms", "fused plain ms",
                    "LN / plain", "loop / LN", "parity (rel err vs f64)"]


def _layer_pair(make_cell, H: int, dtype: torch.dtype, perturb: tuple[str, ...]):
    """The same layer of ``make_cell(input_size)`` cells twice, fused (``backend="triton"``) and
    loop, from one seed, the parameters whose names start with ``perturb`` moved off their
    initial values (ones and zeros would hide a gain or shift the kernels drop)."""
    import rnnkit
    layers = []
    for backend in ("triton", "loop"):
        torch.manual_seed(0)
        layer = rnnkit.Recurrent(make_cell, input_size=H, batch_first=True, backend=backend)
        with torch.no_grad():
            for name, p in layer.named_parameters():
                if name.split(".")[-1].startswith(perturb):
                    p.add_(0.3 * torch.randn_like(p))
        layers.append(layer.to(DEV).to(dtype))
    return layers


def _f64_reference(oracle, B: int, T: int, H: int):
    """``(x64, dy64, want)``: seeded inputs and the float64 loop's output and gradients (of x and
    every parameter) that a fused layer's parity is measured against."""
    x64 = torch.randn(B, T, H, device=DEV, dtype=torch.float64, generator=torch.Generator(DEV).manual_seed(1))
    dy64 = torch.randn(B, T, H, device=DEV, dtype=torch.float64, generator=torch.Generator(DEV).manual_seed(2))
    xg = x64.clone().requires_grad_()
    y = oracle(xg)[0]
    return x64, dy64, [y.detach()] + list(torch.autograd.grad(y, [xg, *oracle.parameters()], dy64))


def _layernorm_pair(cls, H: int, dtype: torch.dtype):
    """A LayerNorm layer fused and loop, gains and shifts perturbed."""
    return _layer_pair(lambda d: cls(d, H), H, dtype, ("gamma", "beta", "bias"))


def layernorm_rows(sizes, repeats: int) -> list[list[object]]:
    """Fused LayerNorm LSTM/GRU layer against its loop and the plain fused layer (module docstring)."""
    from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell
    from rnnkit.kernels.dispatch import BackendUnavailable
    from rnnkit.kernels.gru.op import gru_forward
    from rnnkit.kernels.lstm.op import lstm_forward
    rows = []
    for cell, cls, plain_cls, plain_fn in (("LSTM", LayerNormLSTMCell, torch.nn.LSTM, lstm_forward),
                                           ("GRU", LayerNormGRUCell, torch.nn.GRU, gru_forward)):
        for B, T, H in sizes:
            x64, dy64, want = _f64_reference(_layernorm_pair(cls, H, torch.float64)[1], B, T, H)
            for dname, dtype in DTYPES.items():
                fused, loop = _layernorm_pair(cls, H, dtype)
                plain = plain_cls(H, H, batch_first=True).to(DEV).to(dtype)
                p = (plain.weight_ih_l0, plain.weight_hh_l0, plain.bias_ih_l0, plain.bias_hh_l0)
                x, dy = x64.to(dtype), dy64.to(dtype)
                xg = x.detach().requires_grad_()
                try:
                    y = fused(xg)[0]
                    got = [y.detach()] + list(torch.autograd.grad(y, [xg, *fused.parameters()], dy))
                    plain_fn(xg, *p)  # the plain peer must fit too
                except (BackendUnavailable, ValueError) as err:
                    print(f"# layernorm {cell} {B}x{T}x{H} {dname}: n/a: {err}", file=sys.stderr, flush=True)
                    rows += [[cell, B, T, H, dname, mode] + ["n/a"] * 6 for mode in ("fwd", "f+b")]
                    continue
                err = max(rel_err(g, w) for g, w in zip(got, want))
                if not err <= PARITY[dtype]:
                    fail(f"layernorm {cell} {B}x{T}x{H} {dname}: relative error {err:.3g} > {PARITY[dtype]:g}")
                    rows += [[cell, B, T, H, dname, mode] + ["n/a"] * 5 + [f"{err:.2g} FAILED"]
                             for mode in ("fwd", "f+b")]
                    continue
                for mode in ("fwd", "f+b"):
                    if mode == "fwd":
                        fns = {"ln": lambda: _no_grad(fused, x), "loop": lambda: _no_grad(loop, x),
                               "plain": lambda: _no_grad(plain_fn, x, *p)}
                    else:
                        fns = {"ln": lambda: fused(xg)[0].backward(dy), "loop": lambda: loop(xg)[0].backward(dy),
                               "plain": lambda: plain_fn(xg, *p)[0].backward(dy)}
                    ms = cuda_ms(fns, repeats if DEV == "cpu" else max(3, repeats // 4))
                    rows.append([cell, B, T, H, dname, mode, f"{ms['ln']:.3f}", f"{ms['loop']:.3f}",
                                 f"{ms['plain']:.3f}", f"{ms['ln'] / ms['plain']:.2f}",
                                 f"{ms['loop'] / ms['ln']:.1f}", f"{err:.2g}"])
    return rows


HEADWISE_HEADER = ["cell", "B", "T", "H", "heads", "head size", "dtype", "mode", "fused hw ms", "loop hw ms",
                   "dense fused ms", "cuDNN ms", "loop / hw", "dense / hw", "cuDNN / hw", "parity (rel err vs f64)"]


def _headwise_pair(cell: str, H: int, heads: int, dtype: torch.dtype):
    """A head-wise LSTM or GRU layer (``cell``: "LSTM", "GRU") fused and loop, biases perturbed."""
    from rnnkit.cells import HeadwiseGRUCell, HeadwiseLSTMCell
    cls = HeadwiseLSTMCell if cell == "LSTM" else HeadwiseGRUCell
    return _layer_pair(lambda d: cls(d, H, heads=heads), H, dtype, ("bias",))


def headwise_rows(sizes, repeats: int) -> list[list[object]]:
    """Fused head-wise LSTM and GRU layers against their loop, the dense fused layer and cuDNN
    (module docstring)."""
    import rnnkit
    from rnnkit.kernels.dispatch import BackendUnavailable
    rows = []
    for cell, B, T, H, heads in ((c, *size) for size in sizes for c in ("LSTM", "GRU")):
        x64, dy64, want = _f64_reference(_headwise_pair(cell, H, heads, torch.float64)[1], B, T, H)
        for dname, dtype in DTYPES.items():
            fused, loop = _headwise_pair(cell, H, heads, dtype)
            torch.manual_seed(0)
            dense = getattr(rnnkit, cell)(H, H, batch_first=True, backend="triton").to(DEV).to(dtype)
            cudnn = getattr(torch.nn, cell)(H, H, batch_first=True).to(DEV).to(dtype)
            x, dy = x64.to(dtype), dy64.to(dtype)
            xg = x.detach().requires_grad_()
            label = f"headwise {cell} {B}x{T}x{H} heads={heads} {dname}"
            for mode in ("fwd", "f+b"):
                row = [cell, B, T, H, heads, H // heads, dname, mode]
                try:  # parity first: the forward under no_grad, or the forward and every gradient
                    if mode == "fwd":
                        got = [_no_grad(fused, x)[0]]
                    else:
                        y = fused(xg)[0]
                        got = [y.detach()] + list(torch.autograd.grad(y, [xg, *fused.parameters()], dy))
                except (BackendUnavailable, ValueError) as err:
                    print(f"# {label} {mode}: n/a: {err}", file=sys.stderr, flush=True)
                    rows.append(row + ["n/a"] * 8)
                    continue
                err = max(rel_err(g, w) for g, w in zip(got, want))
                if not err <= PARITY[dtype]:
                    fail(f"{label} {mode}: relative error {err:.3g} > {PARITY[dtype]:g}")
                    rows.append(row + ["n/a"] * 7 + [f"{err:.2g} FAILED"])
                    continue
                if mode == "fwd":
                    fns = {"hw": lambda: _no_grad(fused, x), "loop": lambda: _no_grad(loop, x),
                           "dense": lambda: _no_grad(dense, x), "cudnn": lambda: _no_grad(cudnn, x)}
                else:
                    fns = {"hw": lambda: fused(xg)[0].backward(dy), "loop": lambda: loop(xg)[0].backward(dy),
                           "dense": lambda: dense(xg)[0].backward(dy), "cudnn": lambda: cudnn(xg)[0].backward(dy)}
                try:  # the dense peer must fit too, else its column prints n/a
                    fns["dense"]()
                except (BackendUnavailable, ValueError) as exc:
                    print(f"# {label} {mode}: dense fused {cell} n/a: {exc}", file=sys.stderr, flush=True)
                    del fns["dense"]
                ms = cuda_ms(fns, repeats if DEV == "cpu" else max(3, repeats // 4))
                rows.append(row + [f"{ms['hw']:.3f}", f"{ms['loop']:.3f}",
                                   f"{ms['dense']:.3f}" if "dense" in ms else "n/a", f"{ms['cudnn']:.3f}",
                                   f"{ms['loop'] / ms['hw']:.1f}",
                                   f"{ms['dense'] / ms['hw']:.2f}" if "dense" in ms else "n/a",
                                   f"{ms['cudnn'] / ms['hw']:.2f}", f"{err:.2g}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="run the code path on CPU under TRITON_INTERPRET=1 (tiny sizes, fp32/fp16; "
                             "timings meaningless): checks the script, not the kernels' speed")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated, run in this order: {', '.join(sorted(PARTS))} (default all, "
                             f"the parts never timed on a GPU first: {','.join(PARTS)})")
    parser.add_argument("--dtypes", default="fp32,fp16,bf16", help="comma-separated subset of fp32, fp16, bf16")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per contender (default 20)")
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: --parts takes {', '.join(sorted(PARTS))}")
    if args.cpu_smoke:
        global DEV
        os.environ["TRITON_INTERPRET"] = "1"  # before the kernels are imported (in the row functions)
        DEV = "cpu"
        DTYPES.pop("bf16")  # the interpreter has no bf16 arithmetic
        args.quick = True
    elif not torch.cuda.is_available():
        print("benchmarks/gpu.py needs a CUDA device (none found): it times Triton kernels against "
              "cuDNN on one card. On CPU, run the interpreter parity tests instead: "
              "pytest tests/kernels_triton", file=sys.stderr)
        return 2
    try:
        import triton
    except ImportError:
        print("benchmarks/gpu.py needs triton: pip install triton", file=sys.stderr)
        return 2
    for name in list(DTYPES):
        if name not in args.dtypes.split(","):
            DTYPES.pop(name)
    repeats = args.repeats or ((1 if args.cpu_smoke else 5) if args.quick else 20)
    card = torch.cuda.get_device_name() if DEV == "cuda" else "CPU smoke run (Triton interpreter): timings meaningless"
    print(f"# {card} | torch {torch.__version__} | cuDNN "
          f"{torch.backends.cudnn.version()} | triton {triton.__version__}")
    print(f"# torch's TF32 switches at start: matmul allow_tf32={torch.backends.cuda.matmul.allow_tf32}, "
          f"cudnn allow_tf32={torch.backends.cudnn.allow_tf32} (the fp32 rows set both, off and on)")
    quick = args.quick
    for part in parts:
        if part == "layernorm":
            rows = layernorm_rows(QUICK_LSTM_SIZES if quick else LAYERNORM_SIZES, repeats)
            print("\nLayerNorm LSTM/GRU layer (median ms; loop: rnnkit's eager cell loop, what auto runs; plain: "
                  "the fused LSTM/GRU without LayerNorm; goal LN / plain <= 1.5, loop / LN >= 10; parity: the "
                  "largest error of outputs and gradients against the float64 loop)\n")
            print(markdown_table(LAYERNORM_HEADER, rows), flush=True)
        elif part == "headwise":
            rows = headwise_rows(QUICK_HEADWISE_SIZES if quick else HEADWISE_SIZES, repeats)
            print("\nHead-wise (block-diagonal) LSTM and GRU layers (median ms; hw: HeadwiseLSTMCell/"
                  "HeadwiseGRUCell(H, H, heads), fused kernel and rnnkit's loop, what auto runs; dense fused: "
                  "rnnkit.LSTM/GRU(H, H, backend=\"triton\"); cuDNN: torch.nn.LSTM/GRU(H, H); torch's TF32 "
                  "switches as they are; parity: the largest error of outputs (f+b: and gradients) against the "
                  "float64 loop)\n")
            print(markdown_table(HEADWISE_HEADER, rows), flush=True)
        elif part == "scan":
            rows = scan_rows(QUICK_SCAN_SIZES if quick else SCAN_SIZES, repeats)
            print("\nlinear scan (median ms)\n")
            print(markdown_table(["B", "T", "D", "dtype", "mode", "triton ms", "triton seq ms", "triton 2-pass ms",
                                  "chunked ms", "log ms", "chunked / triton", "log / triton", "triton / 2-pass"], rows),
                  flush=True)
        elif part == "lstm":
            _print_layer("LSTM layer nn.LSTM(H, H)",
                         *layer_rows("lstm", QUICK_LSTM_SIZES if quick else LSTM_SIZES, repeats))
            print("\nLSTM against an eager nn.LSTMCell loop (median ms)\n")
            print(markdown_table(["B", "T", "H", "dtype", "mode", "fused ms", "cuDNN ms", "eager ms", "eager / fused"],
                                 eager_rows(repeats)), flush=True)
        elif part == "gru":
            _print_layer("GRU layer nn.GRU(H, H)",
                         *layer_rows("gru", QUICK_LSTM_SIZES if quick else GRU_SIZES, repeats))
        elif part == "dropout":
            rows = dropout_rows(QUICK_LSTM_SIZES if quick else DROPOUT_SIZES, repeats)
            print("\nRecurrent (variational) dropout layer, training forward+backward (median ms; cuDNN: "
                  "the same layer without recurrent dropout, which it cannot apply)\n")
            print(markdown_table(["cell", "B", "T", "H", "dtype", "fused ms", "loop ms", "cuDNN (no dropout) ms",
                                  "loop / fused"], rows), flush=True)
        elif part == "rnn":
            _print_layer("Elman RNN layer nn.RNN(H, H), tanh",
                         *layer_rows("rnn", QUICK_LSTM_SIZES if quick else RNN_SIZES, repeats))
        elif part == "zoneout":
            rows, parity = zoneout_rows(QUICK_LSTM_SIZES if quick else ZONEOUT_SIZES, repeats)
            print("\nZoneout layers, parity before timing (same seed, same masks; relative to the largest "
                  "float64 value; grads: the largest over dL/dx and every parameter's gradient)\n")
            print(markdown_table(ZONEOUT_PARITY_HEADER, parity), flush=True)
            print("\nZoneout layer in training mode, LSTM (p_h, p_c) = (0.05, 0.5), GRU and RNN p = 0.1 (median ms; "
                  "loop: rnnkit's loop, what auto runs for it; cuDNN: the same layer without zoneout, which it "
                  "cannot apply; torch's TF32 switches as they are: by default exact fp32 products for fused and "
                  "loop, TF32 allowed for cuDNN)\n")
            print(markdown_table(ZONEOUT_HEADER, rows), flush=True)
    if FAILURES:
        print(f"\n{len(FAILURES)} parity failure(s), their timings skipped:", file=sys.stderr)
        for message in FAILURES:
            print(f"  {message}", file=sys.stderr)
        return 1
    return 0


def _print_layer(title: str, header, rows, precision) -> None:
    print(f"\n{title} (median ms)\n" + (f"{LAYER_NOTE}\n" if precision else ""))
    print(markdown_table(header, rows), flush=True)
    if precision:
        print(f"\n{title}, {PRECISION_TITLE}\n")
        print(markdown_table(PRECISION_HEADER, precision), flush=True)


if __name__ == "__main__":
    sys.exit(main())
