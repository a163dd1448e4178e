# Two commands: `make run` (set up, demo data, serve on 127.0.0.1:5000; `PORT=5001 make run` for another port)
# and `make test`.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench setup browser pdf screenshots clean

setup: $(STAMP) node_modules/.installed

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

# Debian's chromium for the browser tests and diagram renders (Playwright cannot download one here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Debian's Laksaman (fonts-thai-tlwg, metric-compatible with TH Sarabun) for the official record PDF,
# and poppler-utils (pdftotext, pdftoppm) for the tests that read it.
pdf:
	@{ fc-list | grep -q Laksaman && command -v pdftotext >/dev/null 2>&1; } || { \
	  echo "installing Debian's fonts-thai-tlwg and poppler-utils"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-thai-tlwg poppler-utils; }

run: setup pdf
	$(BIN)/khanton init
	$(BIN)/khanton demo
	$(BIN)/khanton serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check engine web tests scripts
	$(BIN)/mypy

test: setup browser pdf lint
	$(BIN)/pytest -q

# Re-take the officers' guide screenshots (docs/screenshots/) from the browser tests.
screenshots: setup browser
	KHANTON_SCREENSHOTS=docs $(BIN)/pytest -q tests/web/test_browser.py tests/web/test_everyday_browser.py \
		tests/web/test_instance_page.py

# Ratios measured in one run -> docs/performance.json and .png; KHANTON_BENCH_SCALE=0.01 for a quick look.
bench: setup
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
