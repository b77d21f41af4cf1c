# modelarts.lite: one entry point for setting up, testing and demonstrating the collection.
# Every target installs what it needs from this repository's own files; nothing by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(abspath $(VENV))/bin/python
BIN := $(abspath $(VENV))/bin
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)

BUILD := $(abspath build)
# Unit tests import plugins through a link to this work tree, so they always see the current code.
DEV_TREE := $(BUILD)/ansible_collections/modelarts/lite
# Integration tests, the demo and sanity use the collection exactly as it ships (built tarball).
INSTALL_ROOT := $(BUILD)/install
INSTALLED := $(INSTALL_ROOT)/ansible_collections/modelarts/lite
TARBALL := $(BUILD)/dist/modelarts-lite-$(VERSION).tar.gz

PYTEST_WORKERS ?= 2
export ANSIBLE_COLLECTIONS_PATH := $(INSTALL_ROOT)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

FORCE:

.PHONY: help venv collection demo test units integration sanity lint docs bench molecule clean chromium

help:
	@echo "make demo         set up everything, run the main job on the simulator, print what happened"
	@echo "make test         every gate: lint, docs, units, integration, sanity"
	@echo "make units | integration | molecule | sanity | lint | docs | bench"

$(VENV)/.installed: requirements.txt requirements-test.txt simulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	$(PY) -m pip install --quiet --no-deps -e simulator
	touch $@

venv: $(VENV)/.installed

# Always rebuilt (a couple of seconds): a stale tarball would test yesterday's code.
$(TARBALL): $(VENV)/.installed FORCE
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null

$(INSTALLED)/MANIFEST.json: $(TARBALL)
	rm -rf $(INSTALLED)
	$(BIN)/ansible-galaxy collection install --force --offline -p $(INSTALL_ROOT) $(TARBALL) >/dev/null
	touch $@

$(DEV_TREE):
	mkdir -p $(dir $(DEV_TREE))
	ln -sfn $(CURDIR) $(DEV_TREE)

collection: $(INSTALLED)/MANIFEST.json $(DEV_TREE)

demo: collection
	$(PY) hack/demo.py

units: venv $(DEV_TREE)
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/unit
	cd simulator && $(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests

# Integration tests render the rollout timeline in headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq \
	  --no-install-recommends chromium >/dev/null; }

# Lite Server tests reach simulated servers through real OpenSSH (one sshd per server on loopback).
SSH_TOOLS := /usr/sbin/sshd
$(SSH_TOOLS):
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server >/dev/null

# The simulators of the integration tests hand their audit logs and response samples to
# build/contract; tests/contract then checks them against the vendor SDK and docs/api-contract.yml.
integration: collection chromium $(SSH_TOOLS)
	rm -rf build/contract
	MODELARTS_CONTRACT_DIR=$(CURDIR)/build/contract $(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/integration
	$(PY) -m pytest -q -p no:cacheprovider tests/contract

docs: collection
	$(PY) hack/check_docs.py $(INSTALLED)
	$(PY) hack/api_contract.py --check

# The whole repository with the production profile (.ansible-lint); modules resolve from the tarball.
lint: collection
	$(BIN)/ansible-lint --nocolor -q

# ansible-test needs the collection under ansible_collections/<ns>/<name>, outside this git
# work tree (inside it, ansible-test asks git for the files and finds build/ ignored). It runs on
# the installed tarball, i.e. on exactly what ships. The pip bootstrap stand-in replaces a download.
SANITY_ROOT := $(or $(TMPDIR),/tmp)/modelarts-lite-sanity-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)
sanity: collection
	$(PY) hack/ansible_test_pip_bootstrap.py >/dev/null
	rm -rf $(SANITY_ROOT)
	$(BIN)/ansible-galaxy collection install --force --offline -p $(SANITY_ROOT) $(TARBALL) >/dev/null
	cd $(SANITY_ROOT)/ansible_collections/modelarts/lite && \
	  $(BIN)/ansible-test sanity --requirements --python 3.11 --color no

# One scenario per role (extensions/molecule/<role>), against a simulator the script starts.
molecule: collection $(SSH_TOOLS)
	$(PY) extensions/molecule/run_with_simulator.py

test: lint docs units integration molecule sanity

bench: collection
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) tests/output
