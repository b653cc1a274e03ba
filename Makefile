# `make test` is the whole suite: unit, snapshot, CLI and property tests, then the external
# validators on every example's generated artifacts. It installs what it needs by itself.
CARGO ?= cargo
MLOPSC := target/debug/mlopsc
EXAMPLES := $(wildcard examples/*/mlops.yaml)

.PHONY: test tools rust-tests generated-check external deploy-tests

test: tools rust-tests generated-check external deploy-tests
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

# plan/apply/destroy through the real AWS SDK against moto_server, which the tests start on
# 127.0.0.1 (and refuse any other endpoint). The `aws` feature pulls in the AWS SDK crates.
deploy-tests: external
	$(CARGO) test --features aws --test deploy --test deploy_offline
