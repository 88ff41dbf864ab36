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


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
