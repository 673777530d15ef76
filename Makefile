# The two commands of the quick start, and the rest of the developer loop.
# CMake does the building; this file only installs what is missing and calls it.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
RUN_FLAGS ?=

.PHONY: all deps build run test test-sanitize bench image-test format clean

all: build

deps:
	scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts exptrackd on 127.0.0.1:5000 with its embedded PostgreSQL in ./exptrack-data.
run: build
	exec $(BUILD_DIR)/bin/exptrackd $(RUN_FLAGS)

# Installs, builds with warnings as errors, runs every test. The exit status is the truth.
test:
	scripts/install-deps.sh test
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEXPTRACK_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build tree.
test-sanitize:
	scripts/install-deps.sh test
	cmake -S . -B $(BUILD_DIR)-asan -DCMAKE_BUILD_TYPE=Debug -DEXPTRACK_WERROR=ON -DEXPTRACK_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)-asan -j $(JOBS)
	ctest --test-dir $(BUILD_DIR)-asan --output-on-failure -j $(JOBS)

bench: 
	scripts/install-deps.sh bench
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	tests/bench/all.sh $(BUILD_DIR)

image-test:
	scripts/install-deps.sh image
	scripts/image-test.sh

format:
	clang-format -i server/*.c server/*.h client/src/*.c client/include/*.h tests/unit/*.c tests/bench/*.c 2>/dev/null || true

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-asan
