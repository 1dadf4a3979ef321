# Quick start: `make demo` and `make test`. Each target does its own setup.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo demo-pipeline test proof lint pytest gotest bench compare schema clean

$(STAMP): setup.cfg pyproject.toml go-function/go.mod
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	cd go-function && go mod download
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/pipeline demo

# One whole CodePipeline execution on the emulator: source upload -> Build -> Deploy-dev -> Deploy-test ->
# the approval (by the demo's operator) -> Deploy-prod, IAM enforced (pipeline/commands/demo_pipeline.py).
demo-pipeline: setup
	$(BIN)/pipeline demo --pipeline

lint: setup
	$(BIN)/ruff check pipeline tests bench
	cd go-function && go vet ./...

# Four workers (pytest-xdist) on two cores: each has its own in-process emulator, a test file stays on one
# worker (its module fixtures are set up once). One worker keeps a core about half busy (the rest is waiting:
# stack and Lambda polls, smoke invocations, Go processes), so two workers left a core idle: measured on a clean
# clone: tests/engine/test_promote.py alone in one process used 48% of a core; the suite took 672 s on 2 workers
# and 395 s on 4 (cpu 168% of 200%), all passing. TEST_WORKERS=0 runs
# everything in this process.
TEST_WORKERS ?= 4

pytest: setup
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

gotest: setup
	cd go-function && go test ./...

# pytest exits 5 when it collects no test: make treats that as a failure.
test: lint pytest gotest

# The long reliability suites (tests marked `proof`): 50 full promotions under 20% injected faults,
# SIGKILL at every step boundary, 10 concurrent promoters as threads and as processes.
proof: setup
	$(BIN)/pytest -q -m proof

bench: setup
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/artifact.py

# One code change deployed by `pipeline promote`, by `aws cloudformation deploy` and by `sceptre launch`
# on one emulator per timing profile (instant and aws, side by side from one run), plus the dev -> test -> prod
# promotion, wave scaling, the issue-11 targets and start-up (figures in bench/RESULTS.md). The AWS CLI and Sceptre
# get their own venv so they never touch the product's pinned dependencies.
COMPARE_VENV := bench/.venv-compare

$(COMPARE_VENV)/.stamp: bench/requirements-compare.txt
	$(PYTHON) -m venv $(COMPARE_VENV)
	$(COMPARE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-compare.txt
	touch $@

compare: setup $(COMPARE_VENV)/.stamp
	$(BIN)/python bench/compare.py --tools-venv $(COMPARE_VENV) --timing instant,aws --json bench/results-compare.json

# Regenerate environments/schema.json from the config models (a test fails when it is stale).
schema: setup
	$(BIN)/python -c "from pipeline.config.schema import render_schema; \
	open('environments/schema.json', 'w').write(render_schema())"

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .ruff_cache
