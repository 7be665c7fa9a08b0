# Tsudoi — the two quick-start commands are `make run` and `make test`.
.PHONY: run test test-dates dev build release bench bench-hostile e2e check fmt

## Set up what is missing, build release, serve on http://127.0.0.1:3000 with demo data.
run:
	scripts/setup.sh release
	scripts/build.sh release
	TSUDOI_DEMO=1 target/release/tsudoi

## Set up what is missing and run every test (what CI runs).
test:
	scripts/test.sh

## Development: rebuild (dev profile) and restart the server whenever a source file changes.
dev:
	scripts/setup.sh build
	scripts/dev.sh

build:
	scripts/setup.sh build
	scripts/build.sh dev

release:
	scripts/setup.sh release
	scripts/build.sh release

## Benchmarks on a release build; prints a table and writes docs/BENCHMARKS.md.
bench:
	scripts/setup.sh bench
	scripts/build.sh release
	scripts/bench.sh

# Only the hostile-input section of docs/BENCHMARKS.md (a few minutes).
bench-hostile:
	scripts/build.sh release
	TSUDOI_BENCH_ONLY=hostile python3 scripts/bench.py

## The Rust and browser tests with the clock started on other days (needs `make build`).
test-dates:
	scripts/test-dates.sh

## Only the browser tests (needs a dev build: `make build`).
e2e:
	cd end2end && npx playwright test

fmt:
	cargo fmt
