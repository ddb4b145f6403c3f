# Targets: test (the README's test command), bench (kernel benchmarks and
# the user-facing GEMV bench), data (installs the Debian data packages the
# experiments read), build, lint.
GO ?= go

.PHONY: all build test test-purego lint bench data

all: build test

build:
	$(GO) build ./...

# The suite runs twice: with the assembly kernels this CPU supports, and
# with -tags purego so the pure-Go twins are exercised everywhere.
test: lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./...

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
