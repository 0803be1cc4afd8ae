# Everyday targets; the release build lives in scripts/release.sh (see its header).
#
#   make build     bin/hookpoint for this machine
#   make test      go test ./... (CI: .ci/run adds -race and HOOKPOINT_TEST_STRICT=1)
#   make release   static, stripped, version-stamped binaries for amd64 and arm64 and
#                  their Debian packages in dist/, with SHA256SUMS
#   make deb       the Debian package for this machine's architecture only
#   make docs      man pages and shell completions in dist/docs
#   make ci        what CI runs (needs root: it installs and removes the package)
#   make clean

GO      ?= go
ARCH    := $(shell $(GO) env GOARCH)

.PHONY: build test release deb docs ci clean

build:
	$(GO) build -o bin/hookpoint ./cmd/hookpoint

test:
	$(GO) test ./...

release:
	scripts/release.sh amd64 arm64

deb:
	scripts/release.sh $(ARCH)

docs: build
	bin/hookpoint gen-docs dist/docs

ci:
	bash .ci/run

clean:
	rm -rf bin dist
