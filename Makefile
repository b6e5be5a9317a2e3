# Two commands: `make run` serves the API, `make test` runs the whole suite.
# Both create .venv and install the pinned requirements (again only when requirements.txt changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

.PHONY: run test bench seed clean-data

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@cp requirements.txt $(STAMP)

run: $(STAMP)
	$(BIN)/python -m apps.api.boot

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-data:
	rm -rf .data
