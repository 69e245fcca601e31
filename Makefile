# tact — the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
BIN      ?= bin
GOFLAGS  ?=
PKGS     := ./...
PLUGINS  := outbox webhook mastodon bluesky example linkedin facebook x wordpress micropub

.PHONY: all build demo test vet lint bench loadtest generate fuzz clean quality

all: build

build:
	$(GO) build $(GOFLAGS) -o $(BIN)/ ./cmd/...

## demo: run the daemon on its embedded demo (temporary data, outbox plugin, default rules).
demo: build
	./$(BIN)/tactd --demo

## test: vet, staticcheck, a short run of every fuzz target, then every test with the race detector.
test: vet lint fuzz-short
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## quality: precision and recall of the default rule pack per language on rules/testdata, next to a naive baseline.
quality:
	$(GO) test -count=1 -run '^TestQuality$$' -v ./rules | grep -v '^=== RUN'

vet:
	$(GO) vet $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

## bench: Go benchmarks of every package, once each, then the load scenario (loadtest).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m $(PKGS)
	$(MAKE) loadtest

## loadtest: the real tactd on 100,000 queued posts, 1,000 rules, 100 accounts and 100 feeds
## (tact-loadgen fill + run in a temporary directory, a few minutes), printed as one table
## beside a baseline on an empty data directory. See docs/performance.md.
loadtest:
	@dir=$$(mktemp -d /tmp/tact-loadtest.XXXXXX) && \
	$(GO) build $(GOFLAGS) -o $$dir/bin/ ./cmd/tactd ./cmd/tact-loadgen && \
	$$dir/bin/tact-loadgen fill --data $$dir/data $(FILLFLAGS) && \
	$$dir/bin/tact-loadgen run --data $$dir/data --tactd $$dir/bin/tactd $(RUNFLAGS); \
	status=$$?; rm -rf $$dir; exit $$status

## fuzz: each fuzz target for FUZZTIME (default 60s), one after the other; new failing
## inputs land in the package's testdata/fuzz/ and become regression seeds.
FUZZTIME ?= 60s
FUZZ_TARGETS := FuzzParse:./rules FuzzMatch:./rules FuzzConfig:./config \
	FuzzCSVImport:./daemon/importer FuzzAPIJSON:./daemon/api FuzzAppendIndented:./daemon/api \
	FuzzParseList:./daemon/sqlite FuzzSafeNext:./daemon/web FuzzSessionCookie:./daemon/web FuzzMediaUpload:./daemon/api \
	FuzzPut:./daemon/media FuzzCountX:./plugins/sdk FuzzCommentary:./plugins/linkedin
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($${t#*:}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:}; \
	done

## fuzz-short: every fuzz target for 3s (part of make test).
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

## generate: regenerate committed code (protobuf; needs Debian's protobuf-compiler for protoc).
## The protoc plugins are pinned to the versions that made the committed code.
generate:
	GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	PATH=$(CURDIR)/$(BIN)/tools:$$PATH $(GO) generate $(PKGS)

clean:
	rm -rf $(BIN) build
