#!/usr/bin/env bash
# Called by `make test`: the KVM selftests on tests/conformance/expected-pass.txt must still pass.
# Runs only those (building the selftests first if they are missing); exits 1 on any regression.
# With an empty list it says so and exits 0 without building anything.
set -euo pipefail
cd "$(dirname "$0")/.."
LIST=${KVMFS_CONFORMANCE_EXPECTED:-tests/conformance/expected-pass.txt}  # the variable: for trying the guard on another list
if ! sed 's/#.*//' "$LIST" 2>/dev/null | grep -q '[^[:space:]]'; then
  echo "conformance-guard: $LIST lists no tests yet; nothing to guard"
  exit 0
fi
mkdir -p .cache/conformance
if ! build_out=$(tests/conformance/build-selftests.sh 2>&1); then
  echo "$build_out" >&2
  echo "conformance-guard: the selftests did not build" >&2
  exit 1
fi
RUNNER=.cache/conformance/runner
if ! dotnet build tests/Kvmfs.Conformance/Kvmfs.Conformance.csproj -c Release --nologo --verbosity quiet \
       --artifacts-path "$RUNNER" > "$RUNNER.log" 2>&1; then
  cat "$RUNNER.log" >&2
  echo "conformance-guard: the runner did not build" >&2
  exit 1
fi
# Progress lines go to stderr; keep the make test output to the summary.
exec dotnet "$RUNNER/bin/Kvmfs.Conformance/release/Kvmfs.Conformance.dll" --guard --expected "$LIST" "$@" 2>/dev/null
