#!/usr/bin/env bash
# make test: every test project in the solution, then one summary line for CI.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet test kvmfs.sln -c Release --no-build --nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# dotnet test prints one "Passed!/Failed!  - Failed: N, Passed: N, Skipped: N, Total: N" line per project.
read -r passed failed skipped < <(awk -F'[:,]' '/ - Failed: *[0-9]+, Passed:/ {f+=$2; p+=$4; s+=$6} END {print p+0, f+0, s+0}' "$log")
rm -f "$log"
# The KVM selftests that passed before must still pass (issue 4's guard).
guard=0
if [ -x scripts/conformance-guard.sh ]; then
  scripts/conformance-guard.sh || guard=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ] && [ "$guard" = 0 ]
