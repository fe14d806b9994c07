#!/usr/bin/env bash
# make conformance: the Linux kernel's KVM selftests (arm64) run against kvmfs (issue 4).
#  1. tests/conformance/build-selftests.sh: Debian's linux-source-6.1, cross-built for arm64
#     into .cache/conformance/bin (only when missing or stale).
#  2. the runner (tests/Kvmfs.Conformance, C#): every arm64 test through `out/kvmfs exec --`
#     (plain qemu-aarch64-static while exec is not built), each with a time limit; prints the
#     table and, last, `totals: N pass, N fail, N skip, N timeout (of N)`; writes
#     .cache/conformance/results.{md,json}. Exit 1 if a test on tests/conformance/expected-pass.txt
#     no longer passes.
# Arguments go to the runner, e.g. `scripts/conformance.sh --only aarch64/get-reg-list --timeout 30`.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/conformance/build-selftests.sh
RUNNER=.cache/conformance/runner
if ! dotnet build tests/Kvmfs.Conformance/Kvmfs.Conformance.csproj -c Release --nologo --verbosity quiet \
       --artifacts-path "$RUNNER" > "$RUNNER.log" 2>&1; then
  cat "$RUNNER.log" >&2
  echo "conformance: the runner did not build" >&2
  exit 2
fi
exec dotnet "$RUNNER/bin/Kvmfs.Conformance/release/Kvmfs.Conformance.dll" "$@"
