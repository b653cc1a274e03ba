# `make test` is the whole suite: unit, snapshot, CLI and property tests, then the external
# validators on every example's generated artifacts. It installs what it needs by itself.
CARGO ?= cargo
# Cargo's output folder, where CARGO_TARGET_DIR puts it (e.g. one shared by several clones).
TARGET := $(or $(CARGO_TARGET_DIR),target)
MLOPSC := $(TARGET)/debug/mlopsc
EXAMPLES := $(wildcard examples/*/mlops.yaml)

# A check that cannot run here (no ../shared, see MLOPSC_SHARED_DIR) prints one `skipped:` line
# and appends it here; `make test` repeats them at the end, since cargo hides what passing
# tests print. Under CI=true such checks fail instead (scripts/lib/optional.sh,
# tests/common/optional.rs).
export MLOPSC_SKIP_LOG := $(abspath $(TARGET))/skipped.txt

# Each phase's wall time, in seconds, printed at the end: the suite's budget is measured, not
# guessed (CONTRIBUTING.md, "The suite's time").
PHASE_TIMES := $(abspath $(TARGET))/phase-times.txt
# $(call timed,NAME,COMMAND): runs COMMAND as a recipe line would, and records its time.
define timed
@echo '$(2)'; start=$$(date +%s); $(2); status=$$?; \
  echo "$(1) $$(( $$(date +%s) - start ))" >> "$(PHASE_TIMES)"; exit $$status
endef

.PHONY: test skip-log tools rust-tests generated-check external deploy-tests

test: skip-log tools rust-tests generated-check external deploy-tests
	@awk '{ printf "  %-16s %5d s\n", $$1, $$2; total += $$2 } END { printf "  %-16s %5d s\n", "total", total }' "$(PHASE_TIMES)"
	@if [ -s "$(MLOPSC_SKIP_LOG)" ]; then \
	  echo "make test: passed, but skipped what this machine lacks:"; sort -u "$(MLOPSC_SKIP_LOG)"; \
	else echo "make test: all checks passed"; fi

skip-log:
	@mkdir -p "$(TARGET)" && : > "$(MLOPSC_SKIP_LOG)" && : > "$(PHASE_TIMES)"

tools:
	$(call timed,tools,scripts/install-tools.sh && scripts/install-sdk.sh)

# The compiler core, without the AWS SDK: fast, and proof that the core does not need it.
rust-tests:
	$(call timed,rust-tests,$(CARGO) test --workspace --no-default-features --all-targets)

# generated/ must be exactly what examples/ compile to (with the default build, as installed).
generated-check: rust-tests
	$(call timed,generated-check,$(CARGO) build --quiet && for spec in $(EXAMPLES); do $(MLOPSC) build "$$spec" --check || exit 1; done)

# Independent validators, written by others, on every example's output.
external: generated-check
	$(call timed,external,scripts/check-artifacts.sh)

# The default build, with the `aws` feature: the unit tests of the AWS half, the CLI and its
# help as installed, and plan/apply/destroy through the real AWS SDK against moto_server,
# which the tests start on 127.0.0.1 (and refuse any other endpoint).
deploy-tests: external
	$(call timed,deploy-tests,$(CARGO) test --workspace --lib --test cli --test cli_help --test deploy --test deploy_offline --test end_to_end)
