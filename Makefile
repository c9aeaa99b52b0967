# The handful of commands everyone runs. `make test` and `make run` install what is missing.
PY ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed

.PHONY: test run lint unit bench

$(APP_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# Rasa 3.6.21 declares Python <3.11; the pinned set below is known to work on 3.11
# (see bot/requirements-rasa.txt), hence --no-deps --ignore-requires-python.
$(RASA_STAMP): bot/requirements-rasa.txt
	$(PY) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q -U pip
	$(RASA_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r bot/requirements-rasa.txt
	touch $@

lint: $(APP_STAMP)
	$(VENV)/bin/ruff check .

unit: $(APP_STAMP)
	$(VENV)/bin/pytest -q tests

test: lint unit

bench: $(APP_STAMP)
	$(VENV)/bin/python -m bench.knowledge
