# Builds the fullstop binary. DuckDB and libdeflate are linked statically
# through cgo, so the build needs gcc, libdeflate-dev and the build tags.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libdeflate-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -tags duckdb_arrow,libdeflate -trimpath -ldflags "-s -w" -o /out/fullstop ./cmd/fullstop

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/fullstop /usr/local/bin/fullstop
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/fullstop"]
CMD ["serve"]
