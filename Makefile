# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-test lint ingest-report clean screenshot build-index bench eval fit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/gunicorn --config gunicorn.conf.py \
		--bind 127.0.0.1:$(PORT)

test: install-test
	$(BIN)/ruff check service tests
	$(BIN)/python -m pytest

# docs/screenshot.png: the page with a cited answer, taken by the browser test in headless Chromium
screenshot: install-test
	POLICY_QA_SCREENSHOT=docs/screenshot.png $(BIN)/python -m pytest -m browser -k screenshot_of_a_cited_answer

ingest-report: install
	$(BIN)/policy-qa ingest

build-index: install
	$(BIN)/policy-qa build-index

# ../shared/eval/run_eval.py over dev, dev-colloquial and dev-docs against real servers, one table
eval: install
	$(BIN)/python scripts/evaluate.py

# refit the answerability model on the 'fit' part of the shared sets (service/data/answerability.json)
fit: install
	$(BIN)/pip install --quiet -e '.[fit]'
	$(BIN)/python scripts/fit_answerability.py

# the benchmark in docs/perf.md (needs wrk: apt-get install wrk; about 15 minutes on 2 cores)
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# in-process answer latency over dev-colloquial.jsonl, today's engine beside the one of commit 25e4cfa,
# shipped corpus and 100k clauses (bench/understanding.md; 5-12 minutes here, most of it ingest at 100k)
.PHONY: bench-understanding
bench-understanding: install
	$(BIN)/python bench/understanding.py
