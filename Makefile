# The two commands of the quick start, and the rest of the developer loop.
# CMake does the building; this file only installs what is missing and calls it.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
RUN_FLAGS ?=

.PHONY: all deps build run test check test-sanitize fuzz-smoke bench image-test format clean

all: build

deps:
	scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEXPTRACK_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts exptrackd on 127.0.0.1:5000 with its embedded PostgreSQL in ./exptrack-data.
run: build
	exec $(BUILD_DIR)/bin/exptrackd $(RUN_FLAGS)

# Installs, builds with warnings as errors, runs every test. The exit status is the truth.
test:
	scripts/install-deps.sh test
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEXPTRACK_WERROR=ON -DEXPTRACK_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The structural gates: every scripts/check/*.sh, given the build dir of
# make test (some read its libraries or compile_commands.json). Each prints
# what it found and exits non-zero on a violation; all run, then the first
# failure fails the target.
check:
	scripts/install-deps.sh test
	@rc=0; for s in scripts/check/*.sh; do \
	    echo "check: $$s"; bash $$s $(BUILD_DIR) || { echo "check: $$s FAILED"; rc=1; }; \
	done; exit $$rc

# The same suite under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer, in its own build tree. Any report fails: the
# cmocka and client programs exit non-zero, and the API tests' harness fails a
# test file whose exptrackd printed one (also at exit: leaks).
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-sanitize:
	scripts/install-deps.sh test
	cmake -S . -B $(BUILD_DIR)-asan -DCMAKE_BUILD_TYPE=Debug -DEXPTRACK_WERROR=ON -DEXPTRACK_SANITIZE=ON -DEXPTRACK_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)-asan -j $(JOBS)
	$(SANITIZE_ENV) ctest --test-dir $(BUILD_DIR)-asan --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# Every libFuzzer target of tests/fuzz for FUZZ_SECONDS each, from the
# committed corpus (read only: new inputs go to $(BUILD_DIR)-fuzz/work).
# Crashes are kept in $(BUILD_DIR)-fuzz/crashes and fail the target.
FUZZ_TARGETS = fuzz_search fuzz_request fuzz_artifact_path fuzz_query fuzz_registry_filter \
	fuzz_logged_models_filter fuzz_http_head fuzz_traces_filter fuzz_otlp fuzz_span_writer
FUZZ_SECONDS ?= 20
fuzz-smoke:
	scripts/install-deps.sh fuzz
	cmake -S . -B $(BUILD_DIR)-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXPTRACK_WERROR=ON -DEXPTRACK_FUZZ=ON -DEXPTRACK_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	mkdir -p $(BUILD_DIR)-fuzz/crashes
	set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD_DIR)-fuzz/work/$$t; \
	    echo "fuzz-smoke: $$t for $(FUZZ_SECONDS) s"; \
	    if ! $(BUILD_DIR)-fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(BUILD_DIR)-fuzz/crashes/$$t- \
	        $(BUILD_DIR)-fuzz/work/$$t tests/fuzz/corpus/$${t#fuzz_} >$(BUILD_DIR)-fuzz/work/$$t.log 2>&1; then \
	        tail -n 60 $(BUILD_DIR)-fuzz/work/$$t.log; echo "fuzz-smoke: $$t FAILED"; exit 1; \
	    fi; \
	    grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|Done )' $(BUILD_DIR)-fuzz/work/$$t.log || true; \
	done

bench: 
	scripts/install-deps.sh bench
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DEXPTRACK_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	tests/bench/all.sh $(BUILD_DIR)

image-test:
	scripts/install-deps.sh image
	scripts/image-test.sh

# Formats every tracked C file: the set scripts/check/format.sh checks.
format:
	files=$$(git ls-files '*.c' '*.h') && clang-format -i $$files

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-asan $(BUILD_DIR)-fuzz
