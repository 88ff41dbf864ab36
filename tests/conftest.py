import os

import pytest
import torch

# Two cores, possibly shared: spinning OpenMP threads make small products very slow.
torch.set_num_threads(int(os.environ.get("RNNKIT_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
