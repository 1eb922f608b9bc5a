# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/briefml up

# The browser journey needs Debian's Chromium: installed here when missing (see the script).
browser:
	bash scripts/ensure_browser.sh

# The suite runs on two processes (pytest-xdist), each with its own embedded Postgres; a test
# file stays on one process, so a module's trained fixtures are made once, and files go out in
# the order tests/conftest.py puts them (slowest first). TEST_PROCESSES=0 runs it in one.
TEST_PROCESSES ?= 2
test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
