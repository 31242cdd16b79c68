# Thin wrapper over CMake. `make run` and `make test` first install whatever
# Debian 12 packages are missing (as root), so both work on a fresh machine.

BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SENSOR      = $(BUILD)/vtls-sensor
DEMO_PCAP   = pcaps/demo-cluster.pcap
DEMO_INV    = pcaps/demo-cluster.inventory.yaml

# Build and test dependencies (Debian 12 package names).
DEPS_BUILD = build-essential cmake pkg-config libpcap-dev libssl-dev libmaxminddb-dev \
             libndpi-dev libcriterion-dev libnghttp2-dev libyaml-dev libjansson-dev \
             libmicrohttpd-dev libgnutls28-dev libcrypt-dev
DEPS_TEST  = python3 tshark clang-format prometheus curl openssl iproute2
# `make bench` compares with nDPI's reader and tshark, and profiles.
DEPS_BENCH = libndpi-bin valgrind linux-perf tcpreplay time tcpdump iproute2
# Only `make pcaps` needs the real servers.
DEPS_PCAPS = tcpdump ethtool iproute2 openssl gnutls-bin mariadb-server mariadb-client \
             etcd-server etcd-client python3-grpcio zookeeper python3-kazoo socat \
             libmaxmind-db-writer-perl

.PHONY: all deps deps-pcaps build build-asan run test bench lint format pcaps fuzz clean

all: build

deps:
	@./tools/install-deps.sh $(DEPS_BUILD) $(DEPS_TEST)

deps-pcaps:
	@./tools/install-deps.sh $(DEPS_PCAPS)

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

$(BUILD_SAN)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Sanitize

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

build-asan: $(BUILD_SAN)/Makefile
	cmake --build $(BUILD_SAN) -j $(JOBS)

run: deps build
	$(SENSOR) -r $(DEMO_PCAP) --inventory $(DEMO_INV) --ca-bundle pcaps/certs/ca.pem \
	    --rules rules/vitess-tls.yaml --summary

test: deps build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -L 'unit|replay'

bench: deps build
	@./tools/install-deps.sh $(DEPS_BENCH)
	cmake --build $(BUILD) --target bench_pcap_loop
	/usr/bin/python3 tests/bench/run.py --build $(BUILD)

lint:
	@files=$$(git ls-files '*.c' '*.h'); \
	clang-format --dry-run --Werror $$files && echo "lint: $$(echo $$files | wc -w) files formatted"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# libFuzzer targets (clang), each run for FUZZ_SECONDS on a fresh corpus in build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
              $(shell pkg-config --cflags libnghttp2 openssl yaml-0.1)
FUZZ_LIBS = $(shell pkg-config --libs libnghttp2 openssl yaml-0.1) -lpcap
fuzz:
	mkdir -p build-fuzz/corpus-stream build-fuzz/corpus-decode build-fuzz/corpus-rules
	clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_stream tests/fuzz/fuzz_stream.c \
	    dissectors/tls.c dissectors/tls_ciphers.c dissectors/fingerprint.c dissectors/digest.c \
	    dissectors/mysql.c \
	    dissectors/http2.c dissectors/http1.c dissectors/zookeeper.c $(FUZZ_LIBS)
	clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_decode tests/fuzz/fuzz_decode.c \
	    sensor/decode.c sensor/flow.c sensor/classify.c $(FUZZ_LIBS)
	clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_rules tests/fuzz/fuzz_rules.c \
	    rules/fields.c rules/rules_[a-z]*.c $(FUZZ_LIBS)
	build-fuzz/fuzz_stream -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-stream
	build-fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-decode
	build-fuzz/fuzz_rules -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/rules.dict \
	    build-fuzz/corpus-rules

pcaps: deps-pcaps
	./pcaps/gen/all.sh

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
