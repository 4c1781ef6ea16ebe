# replica: `make test` and `make figures` install what they need into .venv first
# (with the optional dask extra, so that the tests of `sweep --dask` run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CONFIGS := $(wildcard configs/*.yaml)
FIGURES := $(patsubst configs/%.yaml,results/%.pdf,$(CONFIGS))

.PHONY: install test test-slow lint bench figures clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check replica tests

test: $(STAMP) lint
	$(BIN)/pytest -q

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

bench: $(STAMP)
	$(BIN)/pytest -q -m benchmark tests/benchmarks --benchmark-columns=min,mean,max,rounds

figures: $(FIGURES)

results/%.pdf: configs/%.yaml $(STAMP)
	$(BIN)/replica run $<

# figures that draw another config's table beside their own (plot.compare)
results/binary_1rsb.pdf: results/binary_rs.pdf
results/local_entropy_binary.pdf: results/franz_parisi_binary.pdf

clean:
	rm -rf $(VENV) build *.egg-info replica.egg-info
