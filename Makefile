# The handful of commands everyone runs. `make test` and `make run` install what is missing.
PY ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed

.PHONY: test run cluster lint unit bench vocab train bot-validate bot-stories bot-e2e chromium

# pip's own output (this machine's configuration warns about every package, setuptools about
# the editable install) goes to var/install.log; on failure its end is shown.
SHELL := /bin/bash
QUIET = >> var/install.log 2>&1 || { tail -n 30 var/install.log; exit 1; }

$(APP_STAMP): pyproject.toml
	@echo "install: the app environment ($(VENV); log in var/install.log) ..."
	@mkdir -p var && $(PY) -m venv $(VENV)
	@$(VENV)/bin/pip install -q -U pip $(QUIET)
	@$(VENV)/bin/pip install -q -e '.[dev]' $(QUIET)
	@touch $@

# Rasa 3.6.21 declares Python <3.11; the pinned set below is known to work on 3.11
# (see bot/requirements-rasa.txt), hence --no-deps --ignore-requires-python.
$(RASA_STAMP): bot/requirements-rasa.txt bot/requirements-bot.txt
	@echo "install: the Rasa environment ($(RASA_VENV); log in var/install.log) ..."
	@mkdir -p var && $(PY) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q -U pip $(QUIET)
	@$(RASA_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r bot/requirements-rasa.txt $(QUIET)
	@$(RASA_VENV)/bin/pip install -q --no-deps -r bot/requirements-bot.txt $(QUIET)
	@touch $@

lint: $(APP_STAMP)
	$(VENV)/bin/ruff check .

unit: $(APP_STAMP) train chromium
	$(VENV)/bin/pytest -q tests

# Browser tests (tests/browser) drive Debian's Chromium; Playwright's own download is not used.
# A CJK font makes the screenshots in artifacts/screenshots/ readable.
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	fc-list :lang=zh | grep -q . || apt-get install -y fonts-wqy-zenhei || true

test: lint bot-validate bot-stories unit

# --- Rasa bot (issue 3) ---------------------------------------------------------------
RASA := PYTHONPATH=bot $(RASA_VENV)/bin/rasa
MODEL := bot/models/current.tar.gz

# Regenerate the jieba dictionary, lookup tables and templated NLU data from knowledge/data.
vocab: $(APP_STAMP)
	$(VENV)/bin/python bot/scripts/gen_vocab.py
	$(VENV)/bin/python bot/scripts/gen_nlu.py

# Trains only when bot inputs changed (content hash); the model lands in bot/models/.
train: $(RASA_STAMP)
	@$(RASA_VENV)/bin/python bot/scripts/train.py

bot-validate: $(RASA_STAMP)
	bash bot/scripts/validate.sh

bot-stories: train
	$(RASA) test core -m $(MODEL) --stories tests/bot/stories --fail-on-prediction-errors \
		--out results/stories

# The held-out resident questions against a live stack (also part of `unit`).
bot-e2e: $(APP_STAMP) train
	$(VENV)/bin/pytest -q tests/e2e

# Every process under supervisord (deploy/launch.py): a process that dies is restarted.
# The two environments install side by side; training starts as soon as Rasa's is there.
run:
	@$(MAKE) --no-print-directory -j2 $(APP_STAMP) train
	@$(VENV)/bin/python deploy/launch.py run

# The scaled topology on this machine: PostgreSQL (DATABASE_URL), Redis (REDIS_URL),
# RASA_REPLICAS Rasa servers (default 2) behind the gateway.
cluster:
	@$(MAKE) --no-print-directory -j2 $(APP_STAMP) train
	@$(VENV)/bin/python deploy/launch.py cluster

bench: $(APP_STAMP)
	$(VENV)/bin/python -m bench.knowledge
