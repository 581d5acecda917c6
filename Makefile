# magbuilder — `make issue` builds the sample issue, `make test` runs the tests.
# Both create or refresh the virtualenv (.venv) from the locked requirements.lock and install
# the few Debian packages the tools need, so a fresh clone needs no manual step.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ISSUE  ?=
OUT    ?= build
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

UV     := uv==0.13.9

.PHONY: issue archive docs test test-fast bench lint format check system venv lock clean

# Every issue in issues/ (both samples, the November one with its Norwegian edition), or one:
# make issue ISSUE=issues/2026-12.yaml
issue: venv system
	$(BIN)/magbuilder build $(or $(ISSUE),--all) --out $(OUT)

# The static archive of every issue in issues/ (builds what is missing) in build/site/.
archive: venv system
	$(BIN)/magbuilder archive --out $(OUT)/site

check: venv
	$(BIN)/magbuilder check $(or $(ISSUE),issues/2026-12.yaml)

# The reference (docs/, mkdocs.yml) as a site in build/docs/. Strict: a link to a missing page
# or heading stops the build, and `make test` builds it first. Not --quiet (nor -v): in
# MkDocs 1.6 either one lets warnings through strict mode (mkdocs#4126, #3991).
docs: venv
	$(BIN)/mkdocs build --strict -d $(OUT)/docs

# The complete suite (what .ci/run calls): docs, lint, then every test, browsers, full layouts.
# Two processes, a test file each at a time: one waits on servers, browsers and subprocesses
# while the other lays out, and a file's shared fixtures (whole magazines) are made once.
test: venv system node_modules/.installed docs
	$(BIN)/ruff check magbuilder tests bench
	$(BIN)/ruff format --check magbuilder tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The inner loop: no browser, no whole magazines (tests marked slow or browser), on every core.
test-fast: venv system
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser"

# Speed and memory: generated issues of 10/20/40 reviews against plain WeasyPrint (measured,
# and projected to more cores), the preview's save-to-pages time and memory over 50 saves, and
# sends to 10,000 and 100,000 recipients over 1 and 4 SMTP connections to a local sink (each
# exactly once, with peak memory). Results in build/bench/.
bench: venv system
	$(BIN)/python bench/layout_bench.py
	$(BIN)/python bench/preview_bench.py
	$(BIN)/python bench/send_bench.py

lint: venv
	$(BIN)/ruff check magbuilder tests bench
	$(BIN)/ruff format --check magbuilder tests bench

format: venv
	$(BIN)/ruff format magbuilder tests bench
	$(BIN)/ruff check --fix magbuilder tests bench

venv: $(VENV)/.installed

# Exactly the locked versions (with their hashes), then magbuilder itself without dependencies:
# two machines get the same WeasyPrint, Pyphen, fontTools, Pillow… and so the same pages.
# uv (pinned) installs them: the same hash-checked wheels as pip, in a fifth of the time.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q '$(UV)'
	$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes --no-deps -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

# Resolve pyproject.toml's ranges again (newest versions, every Python from 3.11, every
# platform) into requirements.lock; commit it after `make test` passes.
lock: venv
	$(BIN)/python -m pip install -q '$(UV)'
	$(BIN)/uv pip compile pyproject.toml --extra test --extra docs --universal --python-version 3.11 \
	  --generate-hashes --upgrade --quiet -o requirements.lock

# The official MJML validator, Ace by DAISY and axe-core (npm), used by the tests. No browser
# is downloaded (.puppeteerrc.cjs): Ace drives Debian's Chromium.
node_modules/.installed: package.json .puppeteerrc.cjs
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages: Pango for WeasyPrint, poppler-utils (pdftoppm) for page renders,
# Chromium for rendering the email and the archive in tests, Node.js for the MJML validator and
# Ace, Java for EPUBCheck, Dovecot for the bounce import's IMAP tests (started by the tests on
# a free loopback port; the system-wide service is not needed), openssl for the TLS tests'
# certificates. No fonts: builds use the layout's fonts only.
# Installed only when missing.
system:
	@missing=""; \
	ldconfig -p | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	{ command -v dovecot || [ -x /usr/sbin/dovecot ]; } >/dev/null || missing="$$missing dovecot-imapd"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(OUT)
