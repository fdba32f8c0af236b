# hlwjr — two commands for a newcomer: `make demo` and `make test`.
# Everything is installed from a bare Python 3.11 with pip into .venv.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo-out

.PHONY: install lint test demo lab bench browser clean suite

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium (and a CJK font, so screenshots are readable) for the real-browser notebook
# test; skipped with a reason if they cannot be installed.
BROWSER_PKGS := chromium chromium-driver fonts-wqy-microhei
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PKGS) >/dev/null) \
	      || echo "chromium could not be installed: the browser test will be skipped"; \
	  else echo "chromium missing and apt-get unavailable: the browser test will be skipped"; fi; \
	fi

LINTED := lib tests benchmarks tools notebooks/_build.py

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

# The official JSON-Schema-Test-Suite (fast_validate must agree with it), as shipped in the
# jsonschema sdist on PyPI: downloaded once into a git-ignored cache, never copied into the repo.
SUITE := .cache/json-schema-test-suite
$(SUITE)/.stamp: $(STAMP)
	$(PY) tools/fetch_schema_suite.py $(SUITE)
	touch $@

suite: $(SUITE)/.stamp

test: $(STAMP) browser lint $(SUITE)/.stamp
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/hlwjr demo run --out $(DEMO_DIR)

lab: $(STAMP)
	$(VENV)/bin/hlwjr lab

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
