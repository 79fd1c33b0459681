# fullstop — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
# duckdb_arrow: DuckDB's Arrow bridge; libdeflate: gunzip with libdeflate (Debian's libdeflate-dev,
# linked statically). Without the libdeflate tag the build uses klauspost/compress instead.
TAGS := duckdb_arrow,libdeflate
BIN := bin/fullstop
# MinIO for the integration tests, built from its Go module and kept outside the work tree.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_DIR := $(shell $(GO) env GOPATH)/fullstop-tools/minio-$(MINIO_VERSION)
MINIO := $(MINIO_DIR)/minio
DEMO_DIR := .tmp/demo
TEST_FLAGS ?=

.PHONY: help deps build demo test postgres minio vet fmt clean bench bench-api

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install the C library the build links (libdeflate-dev, from Debian's packages) if it is missing
	@echo '#include <libdeflate.h>' | $$($(GO) env CC) -E - >/dev/null 2>&1 || { \
		echo "installing libdeflate-dev from Debian's packages"; \
		if [ "$$(id -u)" != 0 ]; then echo "not root: install the Debian package libdeflate-dev" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq libdeflate-dev >/dev/null; }

build: deps ## build bin/fullstop
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/fullstop

postgres: ## install PostgreSQL from Debian's packages if it is missing
	@.ci/postgres.sh install

$(MINIO):
	@echo "building MinIO $(MINIO_VERSION) for the integration tests (a few minutes, once)"
	GOBIN=$(MINIO_DIR) $(GO) install github.com/minio/minio@$(MINIO_VERSION)

minio: $(MINIO) ## build the MinIO server the integration tests start

demo: build postgres ## run fullstop over the real sample logs in testdata/ into a throwaway PostgreSQL and an events lake
	@set -euo pipefail; \
	rm -rf $(DEMO_DIR); mkdir -p $(DEMO_DIR); \
	url=$$(.ci/postgres.sh start $(DEMO_DIR)/pg); \
	trap '.ci/postgres.sh stop $(DEMO_DIR)/pg' EXIT; \
	echo "== throwaway PostgreSQL: $$url"; \
	echo "== fullstop backfill over testdata/cloudtrail/invictus (real CloudTrail logs, 2023-07-10)"; \
	DATABASE_URL=$$url $(BIN) --log-level warn backfill --source testdata/cloudtrail/invictus --from 2023-07-10 --to 2023-07-11 --lake $(DEMO_DIR)/lake; \
	echo "== the same again: the ledger skips every object, nothing is added"; \
	DATABASE_URL=$$url $(BIN) --log-level warn backfill --source testdata/cloudtrail/invictus --from 2023-07-10 --to 2023-07-11 --progress=false; \
	echo "== violations found"; \
	.ci/postgres.sh psql $(DEMO_DIR)/pg -P pager=off -c "SELECT violation_type_entity_id AS type, account_id, region, event_id, instance_id, left(meta_info::text, 100) AS meta_info FROM fullstop_data.violation ORDER BY type, event_id, instance_id"; \
	echo "== the events lake ($(DEMO_DIR)/lake): every event as Parquet, asked with fullstop query, joined with the violations"; \
	DATABASE_URL=$$url $(BIN) query --lake $(DEMO_DIR)/lake \
		"SELECT v.type, e.event_time, e.event_name, e.user_identity_arn, e.source_ip_address FROM violations v JOIN events e USING (event_id) ORDER BY e.event_time, v.type"; \
	$(BIN) query --lake $(DEMO_DIR)/lake --name cloudtrail-tampering

test: deps postgres minio ## run every test (starts throwaway PostgreSQL and MinIO servers itself)
	$(GO) vet -tags $(TAGS) ./...
	FULLSTOP_MINIO_BIN=$(MINIO) $(GO) test -tags $(TAGS) -count=1 -timeout 20m $(TEST_FLAGS) ./...
	@echo "== the same decompression and bad-input tests without libdeflate (klauspost/compress)"
	$(GO) test -tags duckdb_arrow -count=1 -run 'Inflater|Pipeline_BadInput' $(TEST_FLAGS) ./etl/
	@echo "== without build tags: everything builds and vets, and a command that needs the rule engine says how to build it"
	$(GO) build ./...
	$(GO) vet ./...
	$(GO) test -count=1 -run 'NotBuilt|Imports' $(TEST_FLAGS) ./cmd/fullstop/ .

# The benchmark: BENCH_EVENTS events in the corpus (cached in .tmp/bench),
# BENCH_WORKERS worker counts to compare, BENCH_FLAGS more flags (e.g.
# --skip duckdb,steady; bin/fullstop-bench -h lists them).
BENCH_EVENTS ?= 1000000
BENCH_WORKERS ?= 1,2
BENCH_FLAGS ?=

bench: build postgres minio ## benchmark fullstop against DuckDB and plain gunzip on a generated corpus (BENCH_EVENTS=1000000)
	$(GO) build -tags $(TAGS) -o bin/fullstop-bench ./cmd/fullstop-bench
	FULLSTOP_MINIO_BIN=$(MINIO) bin/fullstop-bench --events $(BENCH_EVENTS) --workers $(BENCH_WORKERS) \
		--dir .tmp/bench --fullstop $(BIN) --testdata testdata/cloudtrail --postgres-script .ci/postgres.sh $(BENCH_FLAGS)

# The REST API benchmark: BENCH_API_FLAGS more flags, e.g. --duration 5s for
# a smoke run, --compare-indexes, --without-indexes, --explain
# (bin/fullstop-bench api -h lists them).
BENCH_API_FLAGS ?=

bench-api: build postgres ## benchmark the REST API (vegeta) over 1,000,000 generated violations in a throwaway PostgreSQL
	$(GO) build -tags $(TAGS) -o bin/fullstop-bench ./cmd/fullstop-bench
	bin/fullstop-bench api --fullstop $(BIN) --dir .tmp/bench-api --postgres-script .ci/postgres.sh $(BENCH_API_FLAGS)

vet: deps ## go vet, with the build tags and without
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build and demo output (the cached bench corpus stays in .tmp/bench)
	rm -rf bin .tmp/demo
