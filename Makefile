# The pipeline: `make assess` (main job) and `make test` (every test), each setting up
# the local virtual environment first if it is missing or out of date.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PERIOD ?=

.PHONY: help venv ingest assess test bench data clean

help:
	@echo "make assess   assessment of every period of the bundled data -> reports/"
	@echo "make test     every test (pytest + nbval over notebooks/)"
	@echo "make ingest   bundled data -> data/processed/"
	@echo "make bench    benchmarks (detection, scale, notebook, assess --all, bulletin extraction, hostile inputs)"
	@echo "make data     regenerate data/raw/synthetic_city (deterministic; should not change it)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

ingest: $(STAMP)
	$(BIN)/anquan ingest data/raw/synthetic_city/reports_clean.csv \
		data/raw/synthetic_city/exposure.csv data/raw/synthetic_city/ledger.csv \
		--output data/processed

assess: $(STAMP) ingest
	$(BIN)/anquan assess --all --data data/raw/synthetic_city --output reports

test: $(STAMP)
	$(BIN)/python -m pytest tests --nbval-lax notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/detection.py
	$(BIN)/python benchmarks/bulletin_extraction.py
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/ledger.py
	$(BIN)/python benchmarks/hostile.py
	$(BIN)/python benchmarks/notebook.py
	$(BIN)/python benchmarks/assess_all.py

data: $(STAMP)
	$(BIN)/python -m anquan_analysis.synth --output data/raw/synthetic_city

clean:
	rm -rf reports/* data/processed/*.parquet data/processed/*.csv .pytest_cache
