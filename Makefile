# The two set-up commands: `make run` (the bot) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test test-fast venv venv-run engine lint bench fidelity clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Two stamps: `make run` installs the bot alone; test, lint and bench add the test extras.
$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

venv-run: $(VENV)/.installed-run

engine:
	bash scripts/rig.sh

run: venv-run
	@if [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_APP_TOKEN" ]; then \
	  echo "make run: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set: starting dockops serve (Socket Mode)."; \
	  exec $(VENV)/bin/dockops serve; \
	else \
	  echo "make run: SLACK_BOT_TOKEN/SLACK_APP_TOKEN not set: starting the local console instead (type 'help', 'ps -a'; Ctrl-D quits)."; \
	  docker version >/dev/null 2>&1 || bash scripts/rig.sh; \
	  exec $(VENV)/bin/dockops console; \
	fi

test: venv engine lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# No Docker Engine needed (DOCKER_HOST points nowhere, so a test that needs one and is not
# marked fails here): parser, policy, config and view tests. Markers: tests/conftest.py.
test-fast: venv
	DOCKER_HOST=unix:///nonexistent/docker.sock $(VENV)/bin/pytest -q -p no:cacheprovider -n 2 \
	  -m "not engine and not slack_process and not image" $(PYTEST_ARGS)

# ruff (style), mypy (types: pyproject [tool.mypy]), lint-imports (the layering: pyproject
# [tool.importlinter]).
lint: venv
	$(VENV)/bin/ruff check bot tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The share of fields equal to the docker CLI's, per command (tests/test_fidelity*.py).
fidelity: venv engine
	mkdir -p build && rm -f build/fidelity.jsonl
	FIDELITY_REPORT=$(CURDIR)/build/fidelity.jsonl $(VENV)/bin/pytest -q tests/test_fidelity*.py; \
	  status=$$?; $(PY) scripts/fidelity_report.py build/fidelity.jsonl; exit $$status

bench: venv engine
	for b in ack_latency ps_1000 logs_1gib logs_whole update_check prune_200 idle_footprint socket_ack incidents swarm; do \
	  echo "== $$b"; $(VENV)/bin/python -m benchmarks.$$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache data
