"""A grid-wide barrier for persistent Triton kernels whose programs exchange data every step.

Used by kernels that split one recurrent matrix across SMs (rnnkit/kernels/lstm/triton_split_*):
each program writes its slice of the state, then waits at ``grid_barrier`` until every program of
its group has written, then reads the whole state.

Why it is safe (CUDA memory model, the same recipe as cooperative groups' grid sync):

- ``tl.debug_barrier()`` (bar.sync) first, so every thread's stores of this step happen before the
  one thread that arrives;
- the arrival is an atomic add with release semantics at GPU scope, the wait spins on an atomic
  read with acquire semantics; a scalar atomic is issued by one thread of the program;
- a second ``tl.debug_barrier()`` holds the other threads until the wait is over;
- the exchanged data is then read with ``cache_modifier=".cg"`` (L2, never a stale L1 line).

It only terminates when all programs of the group are resident at once: launch with
``launch_cooperative_grid=True`` (the driver refuses a grid that cannot be resident instead of
hanging) and never under the Triton interpreter, which runs programs one after another (the ops
launch one step at a time there instead). ``counter`` counts arrivals since the launch (zeroed by
the host); after the ``n``-th barrier it holds ``n * group_size``.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def grid_barrier(counter_ptr, target):
    """Arrive, then wait until ``*counter_ptr >= target`` (target = barriers so far x group size)."""
    tl.debug_barrier()
    tl.atomic_add(counter_ptr, 1, sem="release", scope="gpu")
    seen = tl.atomic_add(counter_ptr, 0, sem="acquire", scope="gpu")
    while seen < target:
        seen = tl.atomic_add(counter_ptr, 0, sem="acquire", scope="gpu")
    tl.debug_barrier()
