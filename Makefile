# tact — the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
BIN      ?= bin
GOFLAGS  ?=
PKGS     := ./...
PLUGINS  := outbox webhook mastodon bluesky example

.PHONY: all build demo test vet lint bench generate fuzz clean

all: build

build:
	$(GO) build $(GOFLAGS) -o $(BIN)/ ./cmd/...

## demo: run the daemon on its embedded demo (temporary data, outbox plugin, default rules).
demo: build
	./$(BIN)/tactd --demo

## test: vet, staticcheck, then every test with the race detector.
test: vet lint
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

vet:
	$(GO) vet $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

## bench: Go benchmarks of every package, once each, as one table.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m $(PKGS)

## generate: regenerate committed code (protobuf).
generate:
	$(GO) generate $(PKGS)

clean:
	rm -rf $(BIN) build
