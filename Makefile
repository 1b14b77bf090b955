# Two commands on a fresh machine: `make book` and `make test`. Each sets itself up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED_DATA := $(abspath ../shared/data/cats_vs_dogs)

# Real photos for development and CI, unless the caller says otherwise.
ifeq ($(CONVLENS_DATA),)
ifneq ($(wildcard $(SHARED_DATA)/train),)
export CONVLENS_DATA := $(SHARED_DATA)
endif
endif
# Same outputs on every run: CPU only, quiet TensorFlow, fixed hashing.
export CUDA_VISIBLE_DEVICES := -1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
# The public cats_and_dogs_filtered.zip layout (what Colab readers get), built from $(CONVLENS_DATA).
PUBLIC_DATA := _build/public_layout
INLINE := MPLBACKEND=module://matplotlib_inline.backend_inline
# nbval re-executes the chapters on another numeric back-end than `make notebooks` stores them with
# (TensorFlow's Eigen kernels instead of oneDNN), so every test run is a cross-machine check; the
# numbers are compared with the tolerance of book/nbval_tolerance.py. `make test NBVAL_BACKEND=`
# runs on the default back-end instead.
NBVAL_BACKEND ?= TF_ENABLE_ONEDNN_OPTS=0
JB_FLAGS := -W --keep-going

.PHONY: setup book book-instructors handout test test-package unit nbval notebooks lint bench browser-deps clean \
	public-layout public-run sync sync-check lab site

setup: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-lock.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

## The students' book: stored outputs rendered, nothing executed, works offline.
book: $(STAMP) lab
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . $(JB_FLAGS)
	@echo "Book: _build/html/index.html"

## The instructors' book: the same pages with every solution shown (book/_ext/convlens_book.py).
book-instructors: $(STAMP) lab
	rm -rf _build/instructors _build/.instructors
	CONVLENS_BOOK=instructors $(VENV)/bin/jupyter-book build . $(JB_FLAGS) --path-output _build/.instructors
	mv _build/.instructors/_build/html _build/instructors && rm -rf _build/.instructors
	@echo "Instructors' book: _build/instructors/index.html"

## A handout: the same pages with the solutions removed entirely (sphinx-exercise's hide_solutions).
handout: $(STAMP) lab
	rm -rf _build/handout _build/.handout
	CONVLENS_BOOK=handout $(VENV)/bin/jupyter-book build . $(JB_FLAGS) --path-output _build/.handout
	mv _build/.handout/_build/html _build/handout && rm -rf _build/.handout
	@echo "Handout: _build/handout/index.html"

## The public site, one folder to publish (issue 29; the Pages workflow deploys it): the students'
## edition (or, with EDITION=handout, the handout edition, for a course that publishes no solution),
## the lab with its weights, the printable handout and the student assignment notebooks (make assignments).
## Never the instructors' edition, a rubric, a hidden test or an autograder: tools/check_site.py
## searches every file before the folder is put in place. Links follow convlens.colab.REPOSITORY_URL.
# SITE_DEPS: built first; `make site SITE_DEPS=` takes the assignments as committed or built.
EDITION ?= students
SITE_DIR ?= _build/site
SITE_DEPS ?= assignments
site: $(STAMP) lab $(SITE_DEPS)
	$(PY) tools/build_site.py --edition $(EDITION) --out $(SITE_DIR)

## Python (ruff), and the lab's JavaScript: ESLint (pinned in package-lock.json) and its unit tests (node --test).
lint: $(STAMP) node_modules/.package-lock.json
	$(VENV)/bin/ruff check src tests bench book
	npx --no-install eslint lab book/_static/selfcheck.js book/_static/theme_a11y.js eslint.config.mjs
	node --test lab/test/
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

## Everything: lint, unit tests, every notebook re-executed and compared (nbval), browser test
## (over the three editions of the book, freshly built; screenshots in _build/screenshots).
## The package's tests and nbval run side by side (make -j2, each one's output printed whole when
## it ends): the package's tests spend much of their time waiting on a browser or a subprocess.
## Kernels must draw inline as when the notebooks were stored: under MPLBACKEND=Agg, plt.show()
## draws nothing and nbval reports the stored figures as missing outputs. Printed numbers are
## compared with a measured tolerance (book/conftest.py, book/nbval_tolerance.py), on the
## Eigen back-end ($(NBVAL_BACKEND)).
test: $(STAMP) lint book book-instructors handout browser-deps
	rm -rf _build/screenshots
	$(MAKE) --no-print-directory -j2 --output-sync=target test-package nbval

## The package's tests alone (tests/), browser included (after make book book-instructors handout).
test-package: $(STAMP)
	$(NBVAL_BACKEND) $(INLINE) $(PY) -m pytest -q tests -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest -q tests -m "not browser and not slow"

nbval: $(STAMP)
	$(NBVAL_BACKEND) $(INLINE) $(PY) -m pytest -q book --nbval --nbval-sanitize-with book/sanitize.cfg --nbval-current-env -p no:cacheprovider

## Re-execute every notebook in place (what the book stores and nbval compares), timing each;
## then their text twins (make sync).
notebooks: $(STAMP)
	cd book && for nb in $(notdir $(NOTEBOOKS)); do \
		SECONDS=0; \
		MPLBACKEND=module://matplotlib_inline.backend_inline ../$(VENV)/bin/jupyter execute --inplace --timeout=900 $$nb || exit 1; \
		echo "$$nb: executed in $$SECONDS s"; \
	done
	$(PY) tools/clean_notebooks.py --in-place $(NOTEBOOKS)
	$(PY) tools/sync_notebooks.py

## Every chapter executed top to bottom against the public archive's layout (train 1000 + 1000,
## validation 500 + 500, no test/, files cat.N.jpg), built from the shared photos by
## tools/make_public_layout.py. Errors only, no output comparison; executed copies in
## _build/public_run (the chapters themselves are never rewritten).
public-layout: $(STAMP)
	@test -n "$(CONVLENS_DATA)" || { echo "Set CONVLENS_DATA to the shared photos (train/, validation/)"; exit 2; }
	$(PY) tools/make_public_layout.py "$(CONVLENS_DATA)" --out $(PUBLIC_DATA)

public-run: public-layout
	CONVLENS_DATA=$(abspath $(PUBLIC_DATA)) $(INLINE) $(PY) tools/run_notebooks.py --out _build/public_run --timeout 1200 $(NOTEBOOKS)

## Text twins of the chapters (book/text/*.md, MyST markdown, no outputs) for review:
## `make sync` rewrites them from the notebooks, `make sync-check` fails when a pair is out of step.
sync: $(STAMP)
	$(PY) tools/sync_notebooks.py

sync-check: $(STAMP)
	$(PY) tools/sync_notebooks.py --check

bench: $(STAMP) lab
	$(PY) bench/bench_train.py
	$(PY) bench/bench_filters.py
	$(PY) bench/bench_gradcam.py
	$(PY) bench/bench_lab.py

## The live lab (book/lab.md and the `convlens-lab` panels, book/_ext/convlens_lab.py), all build
## outputs in $(LAB_DIR), which the book copies into its _static/lab: TensorFlow.js and its WASM
## back-end from the npm registry (pinned by package-lock.json, `npm ci`), the committed weights in
## TensorFlow.js's weights format with the layer list read from Keras (python -m convlens.tfjs),
## the sample photos (from $$CONVLENS_DATA), and the lab's ES modules (lab/*.js: the page's and its worker's).
LAB_DIR := _build/lab
LAB_NPM := node_modules/.package-lock.json
LAB_VENDOR := node_modules/@tensorflow/tfjs/dist/tf.min.js \
	$(addprefix node_modules/@tensorflow/tfjs-backend-wasm/dist/,tf-backend-wasm.min.js tfjs-backend-wasm.wasm \
	tfjs-backend-wasm-simd.wasm tfjs-backend-wasm-threaded-simd.wasm)

lab: $(LAB_DIR)/lab.json $(LAB_NPM)
	mkdir -p $(LAB_DIR)/vendor
	cp $(LAB_VENDOR) $(LAB_DIR)/vendor/
	cp lab/*.js lab/convlens-lab.css $(LAB_DIR)/

$(LAB_DIR)/lab.json: $(STAMP) src/convlens/tfjs.py data/lab_samples.json $(LAB_DIR)/.photos $(wildcard data/models/*.weights.h5)
	$(PY) -m convlens.tfjs --out $(LAB_DIR)

# Which photo folder the samples came from: rewritten (and the lab rebuilt) only when $$CONVLENS_DATA
# changes, so that a lab built without the photos is not kept once they are there (issue 29).
$(LAB_DIR)/.photos: FORCE
	@mkdir -p $(LAB_DIR) && echo "$(CONVLENS_DATA)" | cmp -s - $@ || echo "$(CONVLENS_DATA)" > $@

FORCE:

$(LAB_NPM): package.json package-lock.json
	@command -v npm >/dev/null || { echo "The lab needs Node.js and npm (Debian: apt-get install nodejs npm)"; exit 2; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## Debian's Chromium for the browser test (Playwright's Python package, in the lock, drives it).
browser-deps:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium package for the browser test"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version 2>/dev/null

clean:
	rm -rf _build

## Assignments (issue 27): from each chapter and its book/assignments/NN.yml, a student notebook
## (no solutions; also committed as assignments/NN/, what Colab opens), otter-grader's autograder
## and an instructor copy, in _build/assignments/NN/; and the print-ready exercise sheet,
## _build/print/exercises.html. `make grade CHAPTER=02_activations SUBMISSIONS=folder` grades a
## folder of submitted notebooks without Docker into SUBMISSIONS/grades.csv (points per question).
.PHONY: assignments grade print
assignments: $(STAMP)
	$(PY) tools/make_assignments.py --update --print

print: $(STAMP)
	$(PY) tools/make_assignments.py --print

grade: $(STAMP)
	@test -n "$(CHAPTER)" -a -n "$(SUBMISSIONS)" || { echo "Usage: make grade CHAPTER=02_activations SUBMISSIONS=folder [JOBS=2]"; exit 2; }
	test -f _build/assignments/$(CHAPTER)/autograder.zip || $(PY) tools/make_assignments.py $(CHAPTER)
	$(PY) tools/grade_assignments.py $(CHAPTER) "$(SUBMISSIONS)" --jobs $(or $(JOBS),1)
