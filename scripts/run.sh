#!/usr/bin/env bash
# make run: stock QEMU (Debian's arm64 qemu-system-aarch64, under qemu-aarch64-static on other
# hosts) with -accel kvm on kvmfs, booting the guest kernel in .cache/guest/Image. Every KVM ioctl
# QEMU makes is printed decoded as it happens (kvmfs exec --trace) and kept in out/run/.
set -uo pipefail
cd "$(dirname "$0")/.."
IMAGE=.cache/guest/Image
[ -s "$IMAGE" ] || { echo "run: $IMAGE missing (make setup downloads it)" >&2; exit 1; }
[ -x out/kvmfs ] || { echo "run: out/kvmfs missing (make build)" >&2; exit 1; }
mkdir -p out/run
TRACE=out/run/qemu-trace.txt
QEMU=(qemu-system-aarch64 -M "${KVMFS_RUN_MACHINE:-virt}" -accel kvm -cpu host -m 512 -smp "${KVMFS_RUN_SMP:-1}"
      -nographic -nic none -kernel "$IMAGE" -append "console=ttyAMA0 earlycon")
echo "run: out/kvmfs exec --trace -- ${QEMU[*]}"
echo "run: (the trace is also written to $TRACE; KVMFS_RUN_TIMEOUT=${KVMFS_RUN_TIMEOUT:-120}s ends the run)"
# The trace goes to the file; tail shows it live while QEMU's own output goes to the terminal.
: > "$TRACE"
tail -n +1 -f "$TRACE" &
tailer=$!
out/kvmfs exec --trace="$TRACE" -- "${QEMU[@]}" </dev/null &
vmm=$!
# QEMU does not exit when KVM_RUN reports a failure (it stops the VM and waits for its monitor):
# once the trace shows one, stop it. Also stop at the time limit.
limit=$(( $(date +%s) + ${KVMFS_RUN_TIMEOUT:-120} ))
reason=""
while kill -0 "$vmm" 2>/dev/null; do
  if grep -qP 'KVM_RUN\(vcpu \d+\) = (-1 (?!EINTR|EAGAIN)|0 -> KVM_EXIT_(INTERNAL_ERROR|FAIL_ENTRY|UNKNOWN))' "$TRACE"; then
    sleep 1; reason="KVM_RUN reported a failure (guest execution not available yet)"; kill -TERM "$vmm"; break
  fi
  if [ "$(date +%s)" -ge "$limit" ]; then reason="time limit"; kill -TERM "$vmm"; break; fi
  sleep 0.3
done
wait "$vmm"; rc=$?
sleep 0.3
kill "$tailer" 2>/dev/null; wait "$tailer" 2>/dev/null
calls=$(wc -l < "$TRACE")
failed=$(grep -c ') = -1 ' "$TRACE" || true)
runs=$(grep -c 'KVM_RUN(' "$TRACE" || true)
echo "run: QEMU ended (status $rc${reason:+, stopped: $reason}) after $calls KVM ioctls ($failed failed, $runs KVM_RUN); trace in $TRACE"
# 125/126/127: kvmfs exec could not start the daemon or the VMM at all.
case "$rc" in 125|126|127) exit "$rc" ;; esac
[ "$calls" -gt 0 ]
