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

.PHONY: help venv collection demo test units integration sanity sanity-checkout sanity-all lint docs docs-site bench molecule \
	galaxy-importer compat compat-venv clean chromium

help:
	@echo "make demo         set up everything, run the main job on the simulator, print what happened"
	@echo "make test         every gate: lint, galaxy-importer, docs, units, integration, molecule, sanity, compat"
	@echo "make units | integration | molecule | sanity | sanity-checkout | lint | galaxy-importer | docs | compat"
	@echo "make sanity-all   ansible-test sanity with every supported ansible-core (not part of make test)"
	@echo "make docs-site    the antsibull-docs site, offline, in build/docsite/build/html (not part of make test)"
	@echo "make bench        the rolling-upgrade benchmark (about 40 minutes)"

# --no-compile: most of the ~50,000 files pip writes are the ansible package's collections, never
# imported from here; Python compiles what is imported on first use.
$(VENV)/.installed: requirements.txt requirements-test.txt simulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements-test.txt
	$(PY) -m pip install --quiet --no-deps -e simulator
	touch $@

venv: $(VENV)/.installed

# The guides (docs/*.md, the single source) rendered to RST for the docs site (hack/docs_rst.py,
# docs/docsite/extra-docs.yml); git-ignored, they ship in the tarball under docs/docsite/rst/.
DOCSITE_RST := $(BUILD)/docsite-rst.stamp
$(DOCSITE_RST): $(VENV)/.installed hack/docs_rst.py docs/docsite/extra-docs.yml galaxy.yml $(wildcard docs/*.md)
	$(PY) hack/docs_rst.py
	mkdir -p $(BUILD) && touch $@

# Always rebuilt (a couple of seconds): a stale tarball would test yesterday's code.
$(TARBALL): $(VENV)/.installed $(DOCSITE_RST) FORCE
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

# Lite Server tests reach simulated servers through real OpenSSH (one sshd per server on loopback)
# and run real fio on them.
SSH_TOOLS := /usr/sbin/sshd /usr/bin/fio
$(SSH_TOOLS):
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server fio >/dev/null

# The simulators of the integration tests hand their audit logs and response samples to
# build/contract; tests/contract then checks them against the vendor SDK and docs/api-contract.yml.
# --dist loadfile: each test file's module-scoped setup (a simulator, often a pool or a fleet made by
# a playbook) runs on one worker only; spread test by test, both workers made it (test_bad_input's
# setup twice, about 7 minutes each on a loaded machine).
integration: collection chromium $(SSH_TOOLS)
	rm -rf build/contract
	MODELARTS_CONTRACT_DIR=$(CURDIR)/build/contract $(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) \
	  --dist loadfile tests/integration
	$(PY) -m pytest -q -p no:cacheprovider tests/contract

# antsibull-docs lints the docs site's sources: extra-docs.yml, the rendered guides, plugin and role
# docs, and their references to ansible.builtin and kubernetes.core (=dependent; =all would have
# ansible-doc dump every collection of the ansible package, minutes instead of seconds).
docs: collection
	$(PY) hack/check_docs.py $(INSTALLED)
	$(PY) hack/api_contract.py --check
	PATH=$(BIN):$$PATH $(BIN)/antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck --check-extra-docs-refs \
	  --validate-collection-refs=dependent --disallow-unknown-collection-refs $(INSTALLED)

# The antsibull-docs site of the installed tarball (modules, roles, plugins, the guides), offline:
# no intersphinx inventory is fetched, so links into the Ansible docsite stay unresolved; any other
# Sphinx warning (one that comes from the collection) fails (hack/docsite_warnings.py).
DOCSITE := $(BUILD)/docsite
docs-site: collection
	rm -rf $(DOCSITE) && mkdir -m 700 $(DOCSITE)
	PATH=$(BIN):$$PATH $(BIN)/antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
	  --dest-dir $(DOCSITE) modelarts.lite >/dev/null
	$(PY) -m pip install --quiet -r $(DOCSITE)/requirements.txt
	echo "intersphinx_mapping = {}  # make docs-site builds offline" >> $(DOCSITE)/conf.py
	chmod og-w $(DOCSITE)/rst
	cd $(DOCSITE) && PATH=$(BIN):$$PATH antsibull-docs --config-file antsibull-docs.cfg collection --use-current \
	  --squash-hierarchy --fail-on-error --cleanup everything --dest-dir rst modelarts.lite
	cd $(DOCSITE) && $(BIN)/sphinx-build -M html rst build -c . -q --keep-going -w sphinx-warnings.log
	$(PY) hack/docsite_warnings.py $(DOCSITE)/sphinx-warnings.log
	@echo "docs site: $(DOCSITE)/build/html/index.html"

# The whole repository with the production profile (.ansible-lint); modules resolve from the tarball.
lint: collection
	$(BIN)/ansible-lint --nocolor -q

# ansible-test needs the collection under ansible_collections/<ns>/<name>, outside this git
# work tree (inside it, ansible-test asks git for the files and finds build/ ignored). It runs on
# the installed tarball, i.e. on exactly what ships. The pip bootstrap stand-in replaces a download.
SANITY_ROOT := $(or $(TMPDIR),/tmp)/modelarts-lite-sanity-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)
# Without shellcheck, ansible-test skips its shellcheck test (roles/stress_test/files/run.sh) with
# only a warning: Debian's package.
SHELLCHECK := /usr/bin/shellcheck
$(SHELLCHECK):
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends shellcheck >/dev/null

sanity: collection $(SHELLCHECK)
	$(PY) hack/ansible_test_pip_bootstrap.py >/dev/null
	rm -rf $(SANITY_ROOT)
	$(BIN)/ansible-galaxy collection install --force --offline -p $(SANITY_ROOT) $(TARBALL) >/dev/null
	cd $(SANITY_ROOT)/ansible_collections/modelarts/lite && \
	  $(BIN)/ansible-test sanity --requirements --python 3.11 --color no

# ansible-test sanity on the repository checkout, as maintainers run it: git's file list (tracked and
# untracked, not ignored), so the simulator, bench, hack and tests too, copied under an
# ansible_collections/ path. Only the file-level tests, whose input is what differs from the tarball.
SANITY_CHECKOUT_TESTS := --test pep8 --test compile --test shebang --test line-endings --test no-smart-quotes --test empty-init
SANITY_CHECKOUT := $(SANITY_ROOT)-checkout/ansible_collections/modelarts/lite
sanity-checkout: venv
	$(PY) hack/ansible_test_pip_bootstrap.py >/dev/null
	rm -rf $(SANITY_CHECKOUT) && mkdir -p $(SANITY_CHECKOUT)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(SANITY_CHECKOUT)
	cd $(SANITY_CHECKOUT) && $(BIN)/ansible-test sanity --requirements --python 3.11 --color no $(SANITY_CHECKOUT_TESTS)

# Every supported ansible-core on the tarball (tests/sanity/ignore-<version>.txt), each in its own
# venv under build/; 2.20 and 2.21 need Python 3.12 and are skipped, saying so, without one.
SANITY_CORES := 2.16 2.17 2.18 2.19 2.20 2.21
PYTHON312 ?= $(shell command -v python3.12 2>/dev/null)
sanity-all: collection $(SHELLCHECK)
	@for core in $(SANITY_CORES); do \
	  case $$core in 2.2*) py="$(PYTHON312)"; pyver=3.12;; *) py="$(PYTHON)"; pyver=3.11;; esac; \
	  if [ -z "$$py" ]; then echo "== sanity $$core: SKIPPED, no Python 3.12 (set PYTHON312)"; continue; fi; \
	  venv=$(BUILD)/venv-core-$$core; \
	  [ -x $$venv/bin/ansible-test ] || { $$py -m venv $$venv && \
	    $$venv/bin/python -m pip install --quiet "ansible-core==$$core.*" >/dev/null; } || exit 1; \
	  $$venv/bin/python hack/ansible_test_pip_bootstrap.py >/dev/null; \
	  root=$(SANITY_ROOT)-$$core; rm -rf $$root; \
	  $(BIN)/ansible-galaxy collection install --force --offline --no-deps -p $$root $(TARBALL) >/dev/null; \
	  echo "== sanity $$core (Python $$pyver)"; \
	  ( cd $$root/ansible_collections/modelarts/lite && \
	    $$venv/bin/ansible-test sanity --requirements --python $$pyver --color no ) || exit 1; \
	done

# Galaxy's own upload check on the built tarball, offline (tests/galaxy/galaxy-importer.cfg).
# The importer exits 0 even when it logs errors, so any ERROR line fails the gate. It writes
# importer_result.json into its working directory, build/.
galaxy-importer: collection
	cd $(BUILD) && PATH=$(BIN):$$PATH GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy/galaxy-importer.cfg \
	  $(PY) -m galaxy_importer.main $(TARBALL) > $(BUILD)/galaxy-importer.log 2>&1 \
	  || { cat $(BUILD)/galaxy-importer.log; exit 1; }
	@if grep '^ERROR' $(BUILD)/galaxy-importer.log; then \
	  echo "galaxy-importer reported errors (log: $(BUILD)/galaxy-importer.log)"; exit 1; fi
	@echo "galaxy-importer: 0 errors, $$(grep -c '^WARNING' $(BUILD)/galaxy-importer.log) warnings (log: $(BUILD)/galaxy-importer.log)"

# The lean pass on the oldest supported ansible-core: core 2.16 with the kubernetes.core release
# of ansible 9 (tests/compat/requirements-2.16.txt, its own venv), the demo job and the molecule
# scenarios on the same tarball.
COMPAT_VENV := $(BUILD)/venv-2.16
$(COMPAT_VENV)/.installed: tests/compat/requirements-2.16.txt requirements.txt simulator/pyproject.toml
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --no-compile -r tests/compat/requirements-2.16.txt
	$(COMPAT_VENV)/bin/python -m pip install --quiet --no-deps -e simulator
	touch $@

compat-venv: $(COMPAT_VENV)/.installed

compat: collection $(COMPAT_VENV)/.installed $(SSH_TOOLS)
	$(COMPAT_VENV)/bin/ansible --version | head -1
	$(COMPAT_VENV)/bin/python hack/demo.py
	$(COMPAT_VENV)/bin/python extensions/molecule/run_with_simulator.py

# One scenario per role (extensions/molecule/<role>), against a simulator the script starts.
molecule: collection $(SSH_TOOLS)
	$(PY) extensions/molecule/run_with_simulator.py

# CI's budget is 30 minutes on 2 cores (per-gate timings: docs/testing.md). Making the compat venv
# is pip writing ~50,000 small files: I/O-bound (measured 63 s CPU in 7m50 wall), so it runs in the
# background, from the start, while the other gates use the CPUs; compat waits for it. Its output
# goes to build/venv-2.16.log, shown if it fails. At the end, sanity (pylint and friends: CPU) runs
# beside compat (the demo and molecule on 2.16: mostly waiting on the simulator's clock); they share
# nothing (ansible-test works in its own copy under $(SANITY_ROOT)), and sanity's output follows.
# Both take the tarball the first gates built as it is (-o): rebuilt by one, it would be reinstalled
# under the other's feet.
KEEP_COLLECTION := -o $(TARBALL) -o $(INSTALLED)/MANIFEST.json
TEST_GATES := lint galaxy-importer docs units integration molecule
test:
	mkdir -p $(BUILD)
	$(MAKE) --no-print-directory compat-venv > $(BUILD)/venv-2.16.log 2>&1 & compat_venv=$$!; \
	  $(MAKE) --no-print-directory $(TEST_GATES) || gates=$$?; \
	  wait $$compat_venv || { cat $(BUILD)/venv-2.16.log; echo "making $(COMPAT_VENV) failed"; exit 1; }; \
	  exit $${gates:-0}
	$(MAKE) --no-print-directory $(KEEP_COLLECTION) sanity sanity-checkout > $(BUILD)/sanity.log 2>&1 & sanity=$$!; \
	  $(MAKE) --no-print-directory $(KEEP_COLLECTION) compat || compat=$$?; \
	  wait $$sanity || sanity_failed=1; cat $(BUILD)/sanity.log; \
	  [ -z "$${sanity_failed:-}" ] || { echo "sanity failed (log: $(BUILD)/sanity.log)"; exit 1; }; \
	  exit $${compat:-0}

bench: collection
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) tests/output
