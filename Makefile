# The two commands of the README: `go run ./examples/demo` and `make test`.

GO        ?= go
PACKAGES  := ./... ./examples/...
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):/usr/sbin:$(PATH)

.PHONY: test deps vet bench fuzz

## test: install what the tests need if missing, then vet and run every test
## (both modules, race detector, real components required).
test: deps vet
	SQLSHADOW_REQUIRE_DB=1 $(GO) test -race -timeout 30m $(PACKAGES)

## deps: install missing Debian packages and Go test tools.
deps:
	./scripts/install-deps.sh

vet:
	$(GO) vet $(PACKAGES)

## bench: Go benchmarks (figures, not pass/fail).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PACKAGES)
