# One entry point for everything: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10; everything else runs on 3.11 (see docs/architecture.md).
find_python = $(firstword $(foreach p,$(1),$(shell $(p) -c 'import sys' >/dev/null 2>&1 && echo $(p))))
PY310 ?= $(call find_python,python3.10 $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) /usr/bin/python3.10)
PY311 ?= $(call find_python,python3.11 $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11) /usr/bin/python3.11)

BOT_VENV := .venvs/bot
CRM_VENV := .venvs/crm
BOT_PY := $(BOT_VENV)/bin/python
CRM_PY := $(CRM_VENV)/bin/python
# A venv is (re)installed only when its lock file changes: the stamp names the lock's hash.
BOT_STAMP := $(BOT_VENV)/.installed-$(shell sha256sum requirements/bot.lock | cut -c1-16)
CRM_STAMP := $(CRM_VENV)/.installed-$(shell sha256sum requirements/crm.lock | cut -c1-16)
# The widget's npm packages are reinstalled when its lock changes, and widget.js is rebuilt
# when any of its inputs (lock, build script, sources) changes: both stamps name a hash.
WIDGET_INPUTS := widget/package-lock.json widget/build.mjs $(sort $(wildcard widget/src/*.js))
WIDGET_MODULES_STAMP := widget/node_modules/.installed-$(shell sha256sum widget/package-lock.json | cut -c1-16)
WIDGET_STAMP := widget/dist/.built-$(shell cat $(WIDGET_INPUTS) | sha256sum | cut -c1-16)
PIP_QUIET := --quiet --disable-pip-version-check
# Rasa 3.6 and its TensorFlow print pages of deprecation noise; real problems still show.
RASA_QUIET := PYTHONWARNINGS=ignore::DeprecationWarning,ignore::PendingDeprecationWarning TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false

.PHONY: help setup system-deps venvs widget train run test test-actions test-crm test-e2e validate test-stories lint format bench-crm bench-bot bench-handoff eval-faq eval-nlu clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: system-deps venvs widget faq-encoder train ## create both environments, install everything, train the model if its inputs changed

system-deps: ## install the system packages the stack needs (redis-server for `make run`, chromium for the browser tests)
	@command -v redis-server >/dev/null || { echo "setup: installing redis-server"; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	@# Debian's build: Playwright drives it as it is (never `playwright install`, which downloads one).
	@command -v chromium >/dev/null || { echo "setup: installing chromium"; apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

venvs: $(BOT_STAMP) $(CRM_STAMP)

$(BOT_STAMP): requirements/bot.lock
	@test -n "$(PY310)" || { echo "setup: Python 3.10 not found (Rasa 3.6 needs it); set PY310=/path/to/python3.10"; exit 1; }
	@test -x $(BOT_PY) || $(PY310) -m venv $(BOT_VENV)
	@echo "setup: installing the bot environment (Python 3.10, Rasa)"
	$(BOT_PY) -m pip install $(PIP_QUIET) -r requirements/bot.lock
	@rm -f $(BOT_VENV)/.installed-* && touch $@

$(CRM_STAMP): requirements/crm.lock
	@test -n "$(PY311)" || { echo "setup: Python 3.11 not found; set PY311=/path/to/python3.11"; exit 1; }
	@test -x $(CRM_PY) || $(PY311) -m venv $(CRM_VENV)
	@echo "setup: installing the CRM environment (Python 3.11, FastAPI, sentence-transformers)"
	@# torch alone first: pip then takes the CPU wheel on this disk instead of a CUDA build.
	$(CRM_PY) -m pip install $(PIP_QUIET) "torch==2.13.0"
	$(CRM_PY) -m pip install $(PIP_QUIET) -r requirements/crm.lock
	@rm -f $(CRM_VENV)/.installed-* && touch $@

widget: $(WIDGET_STAMP) ## build widget/dist/widget.js (npm ci, esbuild) if its inputs changed

$(WIDGET_MODULES_STAMP): widget/package-lock.json
	@command -v npm >/dev/null || { echo "setup: npm not found (the widget builds with Node 20 and npm)"; exit 1; }
	@echo "setup: installing the widget's npm packages"
	cd widget && npm ci --no-audit --no-fund
	@touch $@

$(WIDGET_STAMP): $(WIDGET_MODULES_STAMP) $(WIDGET_INPUTS)
	cd widget && node build.mjs
	@rm -f widget/dist/.built-* && touch $@

.PHONY: faq-encoder
# Every setup: a no-op (~1 s, the inputs are hashed) unless the model or the exporter changed.
faq-encoder: $(CRM_STAMP) ## export the FAQ search encoder to ONNX unless a cached export fits (faq/search/onnx_model.py)
	@$(CRM_PY) -m faq.search.export_encoder

# After faq-encoder: the NLU pipeline's sentence encoder is that export (bot/components/).
train: venvs faq-encoder ## train the Rasa model unless one exists for the current bot/ inputs
	@$(CRM_PY) -m devstack.model train

run: ## start Redis (if REDIS_URL is unset), the CRM, the action server and Rasa; Ctrl-C stops all
	@$(CRM_PY) -m devstack.run

test: validate test-actions test-crm test-stories test-e2e ## every test suite, data validation and test stories

validate: ## rasa data validate
	cd bot && $(RASA_QUIET) ../$(BOT_PY) -m rasa data validate --fail-on-warnings --quiet

test-actions: ## action unit tests and the NLU sentence encoder's (bot environment)
	env $$($(CRM_PY) -m devstack.model encoder-env) $(BOT_PY) -m pytest tests/actions tests/bot -p no:cacheprovider

test-crm: ## CRM tests on SQLite and PostgreSQL, FAQ search tests, devstack and benchmark tests
	$(CRM_PY) -m pytest tests/crm_backend tests/faq tests/devstack tests/bench

test-stories: ## Rasa test stories against the trained model
	cd bot && $(RASA_QUIET) ../$(BOT_PY) -m rasa test core --stories tests --model $$(cd .. && $(CRM_PY) -m devstack.model path) \
		--out ../data/rasa-test-results --fail-on-prediction-errors --quiet

test-e2e: ## end-to-end: real CRM, action server, Rasa, Redis and PostgreSQL
	$(CRM_PY) -m pytest tests/e2e

lint: ## ruff and mypy
	$(CRM_PY) -m ruff check .
	$(CRM_PY) -m ruff format --check .
	$(CRM_PY) -m mypy crm_backend devstack faq bench tests/crm_backend tests/faq tests/devstack tests/bench tests/e2e tests/databases.py
	$(BOT_PY) -m mypy --python-version 3.10 actions tests/actions
	@# bot/ has its own config (bot/mypy.ini says why): mypy crashes on the bot env's pydantic 1.
	cd bot && ../$(BOT_PY) -m mypy --config-file mypy.ini channels components tools event_broker.py lock_store.py rasa_server.py tracker_store.py

format: ## apply ruff's formatting and safe fixes
	$(CRM_PY) -m ruff check --fix .
	$(CRM_PY) -m ruff format .

bench-crm: ## order lookup vs a trivial endpoint on PostgreSQL with 1M orders, into docs/benchmarks.md
	@command -v wrk >/dev/null || { echo "bench-crm: installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(CRM_PY) -m bench.crm $(BENCH_ARGS)

bench-bot: train ## order-status turn vs a bare `rasa init` model at 1/10/20 conversations, into docs/benchmarks.md
	$(CRM_PY) -m bench.bot_turns $(BENCH_ARGS)

bench-handoff: train ## handoff latency both ways (agent → widget, customer → console) vs the bare transports, nothing lost, into docs/benchmarks.md
	$(CRM_PY) -m bench.handoff $(BENCH_ARGS)

eval-faq: $(CRM_STAMP) faq-encoder ## FAQ search: BM25/dense/hybrid quality, threshold calibration, latency to 100k articles, into docs/benchmarks.md
	$(CRM_PY) -m bench.faq_eval $(EVAL_ARGS)

eval-nlu: $(BOT_STAMP) faq-encoder ## NLU: 5-fold cross-validation, own-words holdout, out-of-scope recall (~20 min), into docs/benchmarks.md
	@# bot/ on the path: config.yml names bot/components/ as Rasa does when it runs in bot/.
	$(RASA_QUIET) PYTHONPATH=bot env $$($(CRM_PY) -m devstack.model encoder-env) $(BOT_PY) -m bench.eval_nlu $(EVAL_ARGS)

clean: ## remove environments, models and runtime data (keeps the shared model cache)
	rm -rf .venvs bot/models data .mypy_cache .ruff_cache .pytest_cache
