import atexit
import collections
import gc
import getpass
import os
import tempfile

# torch.compile's C++ kernels are cached under one folder whose keys do not include
# ATEN_CPU_CAPABILITY: a kernel built for AVX2 and reused under `ATEN_CPU_CAPABILITY=default` fails
# to compile ("'at::vec' has not been declared"). Each capability gets its own cache folder.
if os.environ.get("ATEN_CPU_CAPABILITY") and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(
        tempfile.gettempdir(), f"torchinductor_{getpass.getuser()}_{os.environ['ATEN_CPU_CAPABILITY']}")

import pytest  # noqa: E402
import torch  # noqa: E402

# Two cores, possibly shared: spinning OpenMP threads make small products very slow.
torch.set_num_threads(int(os.environ.get("RNNKIT_TEST_THREADS", "1")))

# A full garbage collection walks every object of the process: about a million in a worker that
# has imported torch, pandas and triton and exported a few graphs (0.3-0.6 s each time). Python
# runs one after every ten collections of the middle generation; here, where most objects live
# as long as the process (modules, caches), after every hundred. Measured on two test files (the
# forecasting CLI's and the exports', 7 Dec 2026): full collections took 5.8 s instead of 15.1 s,
# and the workers' peak memory was the same (1,020 and 1,014 MB).
_young, _middle, _ = gc.get_threshold()
gc.set_threshold(_young, _middle, 100)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


# `make test` hands whole files to two workers from one queue (pytest-xdist's --dist loadfile),
# by default the files with the most tests first. A file of one or two long tests (the docs build,
# 45 s) then comes last and one worker runs it while the other waits: 2.5 minutes of one worker
# alone at the end of a run on 7 Dec 2026. So the files measured at 40 s or more go first, roughly
# longest first (summed test times of that day, 2 cores), then the rest as xdist orders them.
LONG_FILES = ("reliability/test_fault_injection.py", "export/test_export_parity.py",
              "forecast/test_forecast_real_series.py", "forecast/test_forecast_cli.py",
              "kernels_triton/test_triton_zoneout.py", "forecast/test_forecast_background.py",
              "reliability/test_earlier_bad_inputs.py", "kernels_triton/test_triton_lstm.py",
              "reliability/test_run_folder_cli.py", "test_docs_build.py", "kernels_triton/test_triton_headwise.py",
              "export/test_export_vision.py", "kernels_triton/test_triton_scan.py")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):  # xdist's queue then keeps the order below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    def file_of(item) -> str:
        return item.nodeid.split("::")[0].removeprefix("tests/")

    counts = collections.Counter(map(file_of, items))

    def rank(item):
        f = file_of(item)
        return (LONG_FILES.index(f) if f in LONG_FILES else len(LONG_FILES), -counts[f], f)

    items.sort(key=rank)  # stable: each file's tests keep their order


def pytest_unconfigure(config):
    """At its very end pytest collects garbage five times over (to report the errors of objects
    whose finaliser fails); on a worker's heap of a million objects that took 2.5-6.6 s, and in
    the controlling process after the workers had ended up to 15 s (profiled, 7 Dec 2026). One
    collection finds those objects; the heap is then frozen, so the remaining four are instant, and
    thawed at exit, where the interpreter's own clean-up expects to see it (triton's bindings
    report the objects it cannot free as leaks)."""
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)
