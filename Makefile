# The README's two commands.  Everything else is CMake and ctest.
#   make run    install what is missing, build, start aurid with a simulated phone
#   make check  install test tools, build (plain, ASan+UBSan, fuzz), run every test
#   make hil    the hardware-in-the-loop test alone (QEMU, real kernel devices)

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= 2
MAKEFLAGS  += --no-print-directory
RUNDIR     ?= .run

.PHONY: run check hil deps test-deps users build build-asan build-fuzz clean

deps:
	@packaging/dev/install-deps packaging/dev/build-deps.txt

test-deps:
	@packaging/dev/install-deps packaging/dev/build-deps.txt packaging/dev/test-deps.txt

users:
	@packaging/dev/create-users

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAURID_TEST_HOOKS=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: test-deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DAURID_SANITIZE=ON -DAURID_TEST_HOOKS=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)

build-fuzz: test-deps
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DAURID_SANITIZE=ON -DAURID_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j$(JOBS)

run: deps users build
	@packaging/dev/run-sim $(BUILD) $(RUNDIR)

# aurid's linux HAL on real kernel devices in QEMU (tests/hil/run), from the
# plain build with AURID_HIL on; the kernel is kept in $(BUILD)/hil-work.
hil: test-deps build
	@cmake -S . -B $(BUILD) -DAURID_HIL=ON >/dev/null
	@echo "== plain build: hardware-in-the-loop test (QEMU)"
	cd $(BUILD) && ctest --output-on-failure -L hil

check: test-deps users build build-asan build-fuzz hil
	@echo "== plain build: unit and integration tests"
	cd $(BUILD) && ctest --output-on-failure -j1 -LE hil
	@echo "== ASan+UBSan build: unit and integration tests"
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j1
	@echo "== fuzz targets (clang, libFuzzer)"
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz -j1

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
