"""rnnkit's Triton kernels against their peers on one CUDA card, in one run: parity, then timing.

Part 1, the linear scan ``h_t = a_t * h_{t-1} + b_t`` (B, T, D) = (16, T, 1024), T in {1024, 4096}:
``triton`` (rnnkit.kernels.scan.triton_scan, chunk="auto": the chunked kernels at these sizes) and
``triton seq`` (chunk=None, one sequential walk per channel) against ``chunked`` (the pure-torch chunked scan) and
``log`` (the log-space cumsum/logcumsumexp scan), in fp32, fp16 and bf16 (log: fp32 only).

Part 2, one LSTM layer nn.LSTM(H, H) (input projection included on both sides): ``fused``
(rnnkit.kernels.lstm.op.lstm_forward, the Triton sequential part, in the layout op.choose_kernel
picks) against torch.nn.LSTM (cuDNN), T = 1024, in fp16, bf16 and fp32; "n/a" where no fused
layout fits (the reason goes to stderr); ``rows ms`` times the ``rows`` layout of the same op.
Part 3: fp32 forward+backward against an eager
nn.LSTMCell loop, one size. Part 4: one GRU layer nn.GRU(H, H), fused (rnnkit.kernels.gru, the
layout its ``auto`` picks) against cuDNN, the same way; ``split ms`` times the split layout.
Part 5 (``dropout``): a layer of ``VariationalDropout(LSTMCell | GRUCell)`` (recurrent dropout, the
mask fixed over time), training forward+backward: the fused kernels with the mask inside the
product (``backend="triton"``) against rnnkit's loop (``backend="loop"``, what ``auto`` runs for
such layers) and, for scale, cuDNN's layer without recurrent dropout (cuDNN cannot apply it).
Part 6 (``rnn``): one Elman RNN layer nn.RNN(H, H) (tanh), fused (rnnkit.kernels.elman, split
layout) against cuDNN, the same way as parts 2 and 4.

Modes: ``fwd`` under no_grad; ``f+b`` forward then backward of a fixed output gradient. Parity is
checked before any timing (a mismatch aborts). Median ms of CUDA-event-timed repeats, contenders
interleaved. Tables and the card they came from: docs/kernels.md.

    python benchmarks/gpu.py            # the full run (fits one 10-minute device call)
    python benchmarks/gpu.py --quick    # small sizes
    python benchmarks/gpu.py --cpu-smoke   # the code path on CPU (interpreter), no timing value
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

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
EAGER_SIZE = (16, 256, 256)  # B, T, H of the eager nn.LSTMCell loop row (fp32), as DESIGN.md
QUICK_SCAN_SIZES = ((2, 64, 33),)
QUICK_LSTM_SIZES = ((3, 32, 24),)
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# parity, relative to the largest magnitude of the float64 answer
PARITY = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 8e-2}
DEV = "cuda"  # "cpu" only for --cpu-smoke (the code path under the Triton interpreter)


def cuda_ms(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median ms of each function, CUDA events around each call, rounds interleaved."""
    for _ in range(warmup):
        for f in fns.values():
            f()
    samples: dict[str, list[float]] = {n: [] for n in fns}
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


def check(name: str, got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype) -> None:
    err = (got.double() - want).abs().max().item() / max(want.abs().max().item(), 1e-30)
    if not err <= PARITY[dtype]:
        raise SystemExit(f"parity failed: {name} relative error {err:.3g} > {PARITY[dtype]:g}")


def scan_rows(sizes, repeats: int) -> list[list[object]]:
    from rnnkit.functional import scan as FS
    from rnnkit.kernels.scan import chunked_scan
    from rnnkit.kernels.scan.triton_op import triton_scan
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
            la, lb = (x.to(dtype) for x in FS.mingru_log_coefficients(k))
            for mode in ("fwd", "f+b"):
                fns = {}
                for name, fn, args in (("triton", lambda a, b: triton_scan(a, b)[0], (a, b)),
                                       ("triton seq", lambda a, b: triton_scan(a, b, chunk=None)[0], (a, b)),
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
                             f"{ms['chunked']:.3f}",
                             f"{log_ms:.3f}", f"{ms['chunked'] / ms['triton']:.2f}",
                             f"{log_ms / ms['triton']:.2f}"])
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
                for kernel in ("auto", "rows")}
    if cell == "rnn":
        from rnnkit.kernels.elman.op import choose_layout as fit
        from rnnkit.kernels.elman.op import elman_forward
        return {"fused": (elman_forward, lambda B, H, dt, dev, training: fit(B, H, dt, dev, training=training))}
    from rnnkit.kernels.gru.op import choose_layout, gru_forward
    return {kernel if kernel != "auto" else "fused":
            ((lambda x, *p, k=kernel: gru_forward(x, *p, kernel=k)),
             (lambda B, H, dt, dev, training, k=kernel: choose_layout(B, H, dt, dev, training=training, kernel=k)))
            for kernel in ("auto", "split")}


def layer_rows(cell: str, sizes, repeats: int) -> tuple[list[str], list[list[object]]]:
    """nn.LSTM / nn.GRU (H, H) (cuDNN) against rnnkit's fused layer(s), parity first, then
    ``fwd`` and ``f+b`` timing: (table header, rows). "n/a" where a fused layout does not fit
    (the reason goes to stderr)."""
    variants = _variants(cell)
    torch_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    rows = []
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
            with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
                check(f"cuDNN {cell} {dname} B={B} H={H}", m(x)[0], want, dtype)
                for name, (fwd, _) in variants.items():
                    if layouts[name, "fwd"] is not None:
                        check(f"{name} {cell} {dname} B={B} H={H}", fwd(x, *p)[0], want, dtype)
            dy = torch.randn_like(x)
            xg = x.detach().requires_grad_()
            for mode in ("fwd", "f+b"):
                fns = {"cudnn": (lambda m=m, x=x: _no_grad(m, x)) if mode == "fwd"
                       else (lambda m=m, xg=xg, dy=dy: m(xg)[0].backward(dy))}
                for name, (fwd, _) in variants.items():
                    if layouts[name, mode] is not None:
                        fns[name] = ((lambda x=x, p=p, f=fwd: _no_grad(f, x, *p)) if mode == "fwd"
                                     else (lambda xg=xg, p=p, dy=dy, f=fwd: f(xg, *p)[0].backward(dy)))
                ms = cuda_ms(fns, repeats)
                fused = ms.get("fused")
                rows.append([B, T, H, dname, mode, _layout_name(layouts["fused", mode])]
                            + [f"{ms[n]:.3f}" if n in ms else "n/a" for n in variants]
                            + [f"{ms['cudnn']:.3f}", f"{ms['cudnn'] / fused:.2f}" if fused else "n/a"])
    header = (["B", "T", "H", "dtype", "mode", "fused kernel"] + [f"{n} ms" for n in variants]
              + ["cuDNN ms", "cuDNN / fused"])
    return header, rows


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
                ms = cuda_ms({"fused": lambda f=fused: f(x)[0].backward(dy), "loop": lambda m=loop: m(x)[0].backward(dy),
                              "cudnn": lambda m=plain: m(x)[0].backward(dy)}, max(3, repeats // 4))
                rows.append([cell.__name__, B, T, H, dname, f"{ms['fused']:.3f}", f"{ms['loop']:.3f}",
                             f"{ms['cudnn']:.3f}", f"{ms['loop'] / ms['fused']:.1f}"])
    return rows


def _layout_name(layout) -> str:
    if layout is None:
        return "n/a"
    name = f"{layout['fwd']['kind']} J={layout['fwd']['BLOCK_J']}"
    return name + (f", bwd J={layout['bwd']['BLOCK_J']}" if layout["bwd"] else "")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="run the code path on CPU under TRITON_INTERPRET=1 (tiny sizes, fp32/fp16; "
                             "timings meaningless): checks the script, not the kernels' speed")
    parser.add_argument("--parts", default="scan,lstm,gru,dropout,rnn",
                        help="comma-separated: scan, lstm, gru, dropout, rnn (default all)")
    parser.add_argument("--dtypes", default="fp32,fp16,bf16", help="comma-separated subset of fp32, fp16, bf16")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per contender (default 20)")
    args = parser.parse_args(argv)
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
    parts = args.parts.split(",")
    if "scan" in parts:
        rows = scan_rows(QUICK_SCAN_SIZES if args.quick else SCAN_SIZES, repeats)
        print("\nlinear scan (median ms)\n")
        print(markdown_table(["B", "T", "D", "dtype", "mode", "triton ms", "triton seq ms", "chunked ms", "log ms",
                              "chunked / triton", "log / triton"], rows), flush=True)
    if "lstm" in parts:
        header, rows = layer_rows("lstm", QUICK_LSTM_SIZES if args.quick else LSTM_SIZES, repeats)
        print("\nLSTM layer nn.LSTM(H, H) (median ms)\n")
        print(markdown_table(header, rows), flush=True)
        print("\nLSTM against an eager nn.LSTMCell loop (median ms)\n")
        print(markdown_table(["B", "T", "H", "dtype", "mode", "fused ms", "cuDNN ms", "eager ms", "eager / fused"],
                             eager_rows(repeats)), flush=True)
    if "gru" in parts:
        header, rows = layer_rows("gru", QUICK_LSTM_SIZES if args.quick else GRU_SIZES, repeats)
        print("\nGRU layer nn.GRU(H, H) (median ms)\n")
        print(markdown_table(header, rows), flush=True)
    if "dropout" in parts:
        rows = dropout_rows(QUICK_LSTM_SIZES if args.quick else DROPOUT_SIZES, repeats)
        print("\nRecurrent (variational) dropout layer, training forward+backward (median ms; cuDNN: "
              "the same layer without recurrent dropout, which it cannot apply)\n")
        print(markdown_table(["cell", "B", "T", "H", "dtype", "fused ms", "loop ms", "cuDNN (no dropout) ms",
                              "loop / fused"], rows), flush=True)
    if "rnn" in parts:
        header, rows = layer_rows("rnn", QUICK_LSTM_SIZES if args.quick else RNN_SIZES, repeats)
        print("\nElman RNN layer nn.RNN(H, H), tanh (median ms)\n")
        print(markdown_table(header, rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
