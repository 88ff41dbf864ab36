# Two entry points for a fresh machine (see README):
#   make demo  - set up, then train the character language model on the built-in corpus
#   make test  - set up, then run the test suite
PYTHON ?= python3
# torch==2.13.0 is pinned so pip takes the CPU wheel on this machine's disk rather than a CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: setup demo test bench

setup:
	$(PYTHON) -m pip install -q "$(TORCH_PIN)"
	$(PYTHON) -m pip install -q -e ".[test]"

demo: setup
	$(PYTHON) -m rnnkit train textgen --preset demo

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/cpu_layers.py
