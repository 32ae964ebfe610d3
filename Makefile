# The two commands: `make demo` runs the pipeline locally, `make test` runs every check (`make test-fast`: all
# but the tests marked slow, for a change in progress).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml setup.py | cksum | cut -d' ' -f1)
# The transform's C hot path, once it has one: built in place for this machine by the editable install
# (setup.py), and again whenever its source is newer than the build.
NATIVE := $(patsubst %.c,%.abi3.so,$(wildcard transform_lambda/*.c))

.PHONY: demo test test-fast lint bench sanitize lock clean

$(STAMP): requirements.lock pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	# The project itself, editable: the `eventlake` command, importable from any directory; setup.py builds
	# the C hot path in place.
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(NATIVE): %.abi3.so: %.c | $(STAMP)
	$(PY) -m pip install --quiet --no-deps -e .

demo: $(STAMP) $(NATIVE)
	$(PY) -m eventlake demo $(ARGS)

lint: $(STAMP) $(NATIVE)
	$(PY) -m ruff check .

# One worker per core (pytest-xdist), tests handed out as workers free up: the suite's e2e runs are long and
# few, so work stealing keeps both cores busy to the end. Plain `pytest` still runs everything in one process.
test: lint
	$(PY) -m pytest -q -n auto --dist worksteal

test-fast: lint
	$(PY) -m pytest -q -n auto --dist worksteal -m "not slow"

# One entry point (python -m benchmarks --help lists every bench), one process per bench: the dedupe
# bench's boto3 and Powertools stay out of the transform bench's heap. --compaction runs on its own.
bench: $(STAMP) $(NATIVE)
	$(PY) -m benchmarks $(if $(WRITE),--write)
	$(PY) -m benchmarks --dedupe $(if $(WRITE),--write)
	$(PY) -m benchmarks --pruning $(if $(WRITE),--write)
	$(PY) -m benchmarks --conversion $(if $(WRITE),--write)

# The compiled transform under AddressSanitizer and UndefinedBehaviorSanitizer: a planted read must be caught,
# then the differential tests, 100,000 Hypothesis examples and a fuzz run (tools/sanitize/run; CI runs it).
sanitize: $(STAMP)
	tools/sanitize/run

lock:
	$(PYTHON) -m venv /tmp/eventlake-lock
	/tmp/eventlake-lock/bin/pip install --quiet -r requirements.txt
	/tmp/eventlake-lock/bin/pip freeze > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(NATIVE)
