# `make test` is the whole suite: unit, snapshot, CLI and property tests, then the external
# validators on every example's generated artifacts. It installs what it needs by itself.
CARGO ?= cargo
MLOPSC := target/debug/mlopsc
EXAMPLES := $(wildcard examples/*/mlops.yaml)

.PHONY: test tools rust-tests generated-check external

test: tools rust-tests generated-check external
	@echo "make test: all checks passed"

tools:
	scripts/install-tools.sh

rust-tests:
	$(CARGO) test --all-targets

# generated/ must be exactly what examples/ compile to.
generated-check: rust-tests
	$(CARGO) build --quiet
	@for spec in $(EXAMPLES); do $(MLOPSC) build "$$spec" --check || exit 1; done

# Independent validators, written by others, on every example's output.
external: generated-check
	scripts/check-artifacts.sh
