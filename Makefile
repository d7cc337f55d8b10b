# edgelink: `make dev` serves the Worker locally, `make test` runs every test.
# Every target installs what is missing first and is quick when nothing is.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
WORKER_BUILD_VERSION := 0.8.7
TOOLS := .tools
SOURCES := $(shell find src -name '*.rs' -o -name '*.js' -o -name '*.mjs') Cargo.toml Cargo.lock
DASHBOARD_SOURCES := $(shell find dashboard -type f)
# Debian's chromium, driven by playwright-core in the browser tests (a browser download cannot work here).
CHROMIUM := /usr/bin/chromium

# Offline-safe build: worker-build would otherwise download these from GitHub.
export WASM_BINDGEN_BIN = $(HOME)/.cargo/bin/wasm-bindgen
export WASM_OPT_BIN = $(CURDIR)/node_modules/.bin/wasm-opt
export ESBUILD_BIN = $(CURDIR)/node_modules/.bin/esbuild

.PHONY: dev test unit js e2e build dashboard chromium tools lint fmt clean bench bench-profiles bench-reconcile

dev: build .dev.vars
	wrangler d1 migrations apply DB --local
	@echo
	@echo "edgelink on http://localhost:8787  (admin token in .dev.vars)"
	@echo "  dashboard: http://localhost:8787/dashboard/  (sign in with the admin token: $$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars))"
	@echo "  a first user and its API key:"
	@echo "  curl -s -X POST localhost:8787/api/admin/users -H \"Authorization: Bearer $$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)\" -d '{\"email\":\"me@example.com\"}'"
	@echo
	wrangler dev --port 8787 --test-scheduled

test: build $(CHROMIUM)
	cargo test --lib
	node --test tests/js/*.test.mjs
	cargo test --test '*'

unit:
	cargo test --lib

# The JS glue's pure functions and binding names, with Node's built-in test runner.
js:
	node --test tests/js/*.test.mjs

# Runs the e2e suites against a build that is assumed current.
e2e: build $(CHROMIUM)
	cargo test --test '*'

# Redirect speed against a ceiling and a JS peer, work per redirect, bundle size and start-up, API
# speed, in the local workerd through miniflare's API (BENCHMARKS.md). Prints figures, never fails
# for being slow. Installs wrk (apt), oha and twiggy (crates.io) and Node 24 (npm, for the wasm
# start-up time) when missing.
bench: build $(TOOLS)/twiggy $(TOOLS)/oha
	node bench/dashboard.mjs
	node bench/run.mjs

# Bundle size and redirect speed of [profile.release] / wasm-opt variants, built in target/bench/.
bench-profiles: tools $(TOOLS)/twiggy
	node bench/profiles.mjs

$(TOOLS)/twiggy:
	@mkdir -p $(TOOLS)
	twiggy --version >/dev/null 2>&1 || cargo install twiggy --version 0.8.0
	@touch $@

# Per-request latency: wrk corrects its percentiles for coordinated omission, so a rare pause of
# the runtime sets every contender's p99; oha reports them as measured (BENCHMARKS.md, "Method").
$(TOOLS)/oha:
	@mkdir -p $(TOOLS)
	oha --version 2>/dev/null | grep -x 'oha 1.16.0' >/dev/null || cargo install oha --version 1.16.0 --locked
	@touch $@

# Reconciles 100,000 links with 1 % drift in the local runtime (BENCH_LINKS=n to resize).
bench-reconcile: build
	cargo bench --bench reconcile

build: build/index.js assets/dashboard/index.html

# The dashboard (TypeScript in dashboard/) into assets/dashboard/, served by Workers static assets.
dashboard: assets/dashboard/index.html

assets/dashboard/index.html: $(DASHBOARD_SOURCES) node_modules/.package-lock.json
	node dashboard/build.mjs

chromium: $(CHROMIUM)

$(CHROMIUM):
	$$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -qq
	$$([ "$$(id -u)" = 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

build/index.js: $(SOURCES) $(TOOLS)/wasm-bindgen-$(WASM_BINDGEN_VERSION) $(TOOLS)/worker-build-$(WORKER_BUILD_VERSION) $(TOOLS)/wasm32 node_modules/.package-lock.json
	worker-build --release
	@touch $@

tools: $(TOOLS)/wasm32 $(TOOLS)/wasm-bindgen-$(WASM_BINDGEN_VERSION) $(TOOLS)/worker-build-$(WORKER_BUILD_VERSION) node_modules/.package-lock.json

$(TOOLS)/wasm32:
	@mkdir -p $(TOOLS)
	rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@touch $@

# The CLI must equal the lockfile's wasm-bindgen to the patch; --locked can fail here, so it is not used.
$(TOOLS)/wasm-bindgen-$(WASM_BINDGEN_VERSION):
	@mkdir -p $(TOOLS)
	wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@touch $@

$(TOOLS)/worker-build-$(WORKER_BUILD_VERSION):
	@mkdir -p $(TOOLS)
	worker-build --version 2>/dev/null | grep -q '$(WORKER_BUILD_VERSION)' || cargo install worker-build --version $(WORKER_BUILD_VERSION)
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-fund --no-audit
	@touch $@

# A fresh random admin token for local development only; never committed.
.dev.vars:
	@echo "ADMIN_TOKEN=dev-$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > $@
	@echo "ANALYTICS_SALT=$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >> $@
	@echo "wrote .dev.vars with a new local ADMIN_TOKEN and ANALYTICS_SALT"

lint: node_modules/.package-lock.json
	tsc -p dashboard
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt

clean:
	rm -rf build assets/dashboard assets/_headers target .wrangler $(TOOLS)
