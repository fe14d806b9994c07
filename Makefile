# kvmfs: `make run` and `make test` are the two commands; both set up what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := build
.PHONY: setup build test run bench conformance clean

setup:
	@scripts/setup.sh

build: setup
	@scripts/build.sh

test: build
	@scripts/test.sh

run: build
	@scripts/run.sh

bench: build
	@scripts/bench.sh

conformance: build
	@scripts/conformance.sh

clean:
	rm -rf out artifacts
