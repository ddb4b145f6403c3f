# Targets: test (the README's test command), bench (kernel benchmarks and
# the user-facing GEMV bench), data (installs the Debian data packages the
# experiments read), build, lint.
GO ?= go

.PHONY: all build test lint bench data

all: build test

build:
	$(GO) build ./...

# The suite runs once per instruction-set level this CPU supports: native;
# then the AVX2 kernels with GODEBUG=cpu.avx512f=off (golang.org/x/sys/cpu
# honours it) where the CPU has AVX-512; then the pure-Go twins (-tags
# purego). So every machine, CI's included, tests the AVX2 path. Each run
# names the implementation it must select (ELASTIC_WANT_IMPL, checked by
# package kernels); GODEBUG adds to any the caller set.
AVX512 := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo yes)
test: lint
	@echo "== ISA level: native"
	$(GO) test -count=1 ./...
ifeq ($(AVX512),yes)
	@echo "== ISA level: avx2-fma (GODEBUG=cpu.avx512f=off)"
	GODEBUG=$${GODEBUG:+$$GODEBUG,}cpu.avx512f=off ELASTIC_WANT_IMPL=avx2-fma $(GO) test -count=1 ./...
else
	@echo "== ISA level: no AVX-512 on this CPU, so the native run was the AVX2 (or pure-Go) one"
endif
	@echo "== ISA level: purego (-tags purego)"
	ELASTIC_WANT_IMPL=purego $(GO) test -count=1 -tags purego ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 200ms ./kernels/...
	$(GO) run ./cmd/elastic bench gemv
	$(GO) run ./cmd/elastic bench gemv --rows 33278 --cols 1500

data:
	./scripts/install-data.sh
