# The two commands of the README:
#   make test   unit tests + every chapter through nbmake (2 workers); keeps the executed chapters
#   make book   executes the chapters (re-using what `make test` executed) and builds _build/html
#   make pdf    the whole book as one PDF, _build/pdf/rnn-book.pdf (after `make test`, like `make book`)
#   make colab-check   after `make test`: every chapter again as in Colab (fresh Python 3.12 venv, wheel, default
#               threads), its claims compared with the test run's (tools/colab_check.py)
# Each creates .venv when it is missing and installs requirements.txt plus rnnbook (editable).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The data mirror: ../shared/data beside the checkout when it exists (CI, course machines).
RNNBOOK_DATA ?= $(shell [ -d ../shared/data ] && cd ../shared/data && pwd)
export RNNBOOK_DATA
# Threads: conftest.py gives every test process (and the notebook kernels it starts) one sleeping OpenMP/BLAS thread.
WIDGET_JS := _build/static/widgets/html-manager/dist/embed-amd.js

.PHONY: test book pdf venv clean colab-check claims-seeds
.DEFAULT_GOAL := test

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 --nbmake --nbmake-timeout=300 --durations=15 book tests

# Widget manager JS for the static HTML: installed from npm at build time, never committed.
$(WIDGET_JS):
	mkdir -p _build/npm _build/static/widgets/html-manager
	npm install --silent --no-audit --no-fund --prefix _build/npm @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8
	cp _build/npm/node_modules/requirejs/require.js _build/static/widgets/require.js
	cp -r _build/npm/node_modules/@jupyter-widgets/html-manager/dist _build/static/widgets/html-manager/

book: $(VENV)/.installed $(WIDGET_JS)
	$(PY) tools/book_cache.py _build/executed _build/.jupyter_cache
	$(VENV)/bin/jupyter-book build -W -n --keep-going .
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The PDF: the single-page HTML build (from the same execution cache: nothing runs again), printed by headless
# Chromium once MathJax has typeset (tools/pdf.py says why this route).
pdf: $(VENV)/.installed $(WIDGET_JS)
	$(PY) tools/book_cache.py _build/executed _build/.jupyter_cache
	$(VENV)/bin/jupyter-book build --builder singlehtml -W -n --keep-going .
	$(PY) tools/pdf.py _build/singlehtml _build/pdf/rnn-book.pdf

# The Colab-like run: fresh venv with $(COLAB_PYTHON) (default: Python 3.12), only ipykernel + torch; compares with
# the chapters `make test` kept in _build/executed/. Threads stay at their default, so run it alone.
# COLAB_CHAPTERS="01 02" runs some chapters only (CI runs them all).
COLAB_PYTHON ?=
COLAB_CHAPTERS ?=
colab-check: $(VENV)/.installed
	$(PY) tools/colab_check.py $(if $(COLAB_PYTHON),--python $(COLAB_PYTHON)) $(COLAB_CHAPTERS)

# Every chapter at seeds 0, 1, 2 (RNNBOOK_SEED): which claims hold at which seed, and each asserted number's margin
# over its threshold. Not part of `make test` (three times its chapters); results in _build/claims-seeds/.
claims-seeds: $(VENV)/.installed
	$(PY) tools/claims_seeds.py --seeds 0 1 2

clean:
	rm -rf _build

# make full: execute the chapters at RNNBOOK_SCALE=full (on the GPU when there is one) and print per chapter the
# time, peak memory, whether every claim holds and the numbers behind them (tools/full_scale.py). Executed chapters
# go to _build/full/. A subset and a per-cell limit: make full CHAPTERS="03 10" CELL_TIMEOUT=120
CHAPTERS ?=
CELL_TIMEOUT ?=
.PHONY: full
full: $(VENV)/.installed
	$(PY) tools/full_scale.py $(CHAPTERS) $(if $(CELL_TIMEOUT),--cell-timeout $(CELL_TIMEOUT)) --out _build/full \
		--json _build/full/results.json
