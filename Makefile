# OpsDeck's tasks. The two a new user needs: `make run` and `make test`.
# Both install whatever is missing first (scripts/setup.sh), then do their job.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= always

.PHONY: run test setup ui lint supply-chain test-ui test-rust e2e bindings fmt clean-screenshots bench fuzz

## Open the desktop app on the embedded SQLite store (platform data dir, or OPSDECK_DATA_DIR).
run: setup ui
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "error: no display to open the window on; run this from a desktop session, or under Xvfb: Xvfb :99 & DISPLAY=:99 make run" >&2; exit 2; fi
	$(CARGO) run -p opsdeck-app

## Every test: lints, UI unit tests, Rust unit and black-box tests, and the end-to-end journeys.
test: setup ui lint supply-chain test-ui test-rust

setup:
	@scripts/setup.sh

## Build the web UI into ui/dist (the app embeds it).
ui:
	cd ui && npm run --silent build -- --logLevel warn

# Performance figures (BENCHMARKS.md); not part of `make test`.
bench: setup
	bash scripts/bench.sh

# Fuzz the parsers of outside input, FUZZ_SECONDS each (fuzz/fuzz_targets);
# not part of `make test`. cargo fuzz passes sanitizer flags only nightly
# compilers take; RUSTC_BOOTSTRAP=1 lets this machine's stable one accept them.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= pem_der config_text otlp_decode metrics_exposition scan_engine
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for target in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$target && \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target corpus/$$target seeds/$$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=2048 || exit 1; \
	done

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	cd ui && npm run --silent check

## cargo deny (licences, bans, sources, advisories) and npm audit; see deny.toml.
supply-chain:
	@scripts/supply-chain.sh

test-ui:
	cd ui && npm test --silent

# One run of every Rust test in the workspace, including the end-to-end suite
# (which builds the app and starts its own Xvfb and tauri-driver).
test-rust:
	$(CARGO) test --workspace --locked

## Only the end-to-end journeys (screenshots land in target/e2e-screenshots/).
e2e: setup ui
	$(CARGO) test -p opsdeck-tests --test e2e --locked

## Rewrite ui/src/lib/bindings from the Rust types after changing them.
bindings:
	UPDATE_BINDINGS=1 $(CARGO) test -p opsdeck --lib app_code
	UPDATE_BINDINGS=1 $(CARGO) test -p opsdeck-app --lib bindings

fmt:
	$(CARGO) fmt --all
