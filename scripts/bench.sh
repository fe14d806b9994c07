#!/usr/bin/env bash
# make bench: kvmfs user mode against qemu-aarch64-static on the same busybox workloads, side by side in one run.
# Prints instructions executed, MIPS, both wall times and the ratio (kvmfs/qemu); writes artifacts/bench.md.
# KVMFS=path overrides the kvmfs binary (default out/kvmfs, built if missing); BENCH_MIB=64 sets the sha256 size.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kvmfs=${KVMFS:-$root/out/kvmfs}
busybox=$root/.cache/guest/busybox
qemu=qemu-aarch64-static
sha_mib=${BENCH_MIB:-64}
gzip_mib=$(( sha_mib / 4 ))

[ -x "$kvmfs" ] || scripts/build.sh
[ -f "$busybox" ] || { echo "bench: $busybox missing (make setup fetches it)" >&2; exit 1; }
command -v "$qemu" >/dev/null || { echo "bench: $qemu missing (make setup installs qemu-user-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inputs: pseudo-random bytes for sha256 (content does not change its speed), text for gzip.
head -c "$((sha_mib << 20))" /dev/urandom > "$work/data.bin"
awk -v n="$((gzip_mib << 20))" 'BEGIN { srand(1); w = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"; split(w, a, " ");
  while (t < n) { l = a[int(rand() * 10) + 1] " " int(rand() * 1000000) " " a[int(rand() * 10) + 1] "\n"; printf "%s", l; t += length(l) } }' \
  > "$work/text.txt"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# bench NAME ARGS...: runs busybox ARGS under both, compares stdout digests, fills the result variables.
bench() {
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$kvmfs" user --stats -- "$busybox" "$@" > "$work/ours.out" 2> "$work/ours.err" || { cat "$work/ours.err" >&2; echo "bench: kvmfs user failed on $name" >&2; exit 1; }
  t1=$(now)
  k_wall=$(secs "$t0" "$t1")
  t0=$(now)
  "$qemu" "$busybox" "$@" > "$work/qemu.out" 2> "$work/qemu.err" || { cat "$work/qemu.err" >&2; echo "bench: qemu failed on $name" >&2; exit 1; }
  t1=$(now)
  q_wall=$(secs "$t0" "$t1")
  local ours theirs
  ours=$(sha256sum < "$work/ours.out" | cut -c1-64)
  theirs=$(sha256sum < "$work/qemu.out" | cut -c1-64)
  if [ "$ours" != "$theirs" ]; then
    echo "bench: $name: outputs differ (kvmfs $ours, qemu $theirs)" >&2; exit 1
  fi
  # kvmfs user: instructions N, wall S s, M MIPS, exit E
  local stats
  stats=$(grep '^kvmfs user: instructions' "$work/ours.err" | tail -1)
  insns=$(sed -E 's/.*instructions ([0-9]+),.*/\1/' <<< "$stats")
  cpu_wall=$(sed -E 's/.*wall ([0-9.]+) s.*/\1/' <<< "$stats")
  mips=$(sed -E 's/.* ([0-9.]+) MIPS.*/\1/' <<< "$stats")
  ratio=$(awk -v k="$k_wall" -v q="$q_wall" 'BEGIN { printf "%.1f", (q > 0 ? k / q : 0) }')
  printf '%-28s %14s insns %8s MIPS   kvmfs %7ss   qemu %7ss   ratio %6sx   outputs identical\n' \
    "$name" "$insns" "$mips" "$k_wall" "$q_wall" "$ratio"
  rows+="| $name | $insns | $mips | $k_wall | $q_wall | ${ratio}x | identical |"$'\n'
}

rows=""
echo "kvmfs user vs $qemu ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
bench "sha256sum ${sha_mib} MiB" sha256sum "$work/data.bin"
sha_digest=$(cut -c1-64 "$work/ours.out")
echo "  digest $sha_digest (kvmfs and qemu agree)"
bench "gzip -c ${gzip_mib} MiB text" gzip -c -n "$work/text.txt"

mkdir -p artifacts
{
  echo "# make bench"
  echo
  echo "kvmfs user mode (the ARMv8-A interpreter at EL0 with the Linux syscall layer) against qemu-aarch64-static"
  echo "($($qemu --version | head -1)), Debian busybox-static arm64, run side by side on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Wall times include process start. MIPS = instructions retired / kvmfs's own run time."
  echo "Host load when written: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes both times noisy)."
  echo
  echo "| workload | instructions | MIPS | kvmfs wall s | qemu wall s | kvmfs/qemu | outputs |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s' "$rows"
  echo
  echo "sha256 digest of the ${sha_mib} MiB input: \`$sha_digest\` (identical under both)."
} > artifacts/bench.md
echo "bench: written artifacts/bench.md"
