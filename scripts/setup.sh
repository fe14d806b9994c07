#!/usr/bin/env bash
# make setup: installs what kvmfs needs on a Debian bookworm machine, idempotently.
#  - apt: qemu-user-static (runs arm64 VMMs on x86), the aarch64 cross compiler and headers
#    (shim, layout test, our own test programs), fuse3 (fusermount for the file system),
#    rsync (kernel headers_install), and stock QEMU for arm64 (qemu-system-arm:arm64, multiarch).
#  - NuGet restore of the solution.
#  - guest assets: Debian's arm64 kernel and busybox-static, downloaded as .debs into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=.cache
mkdir -p "$CACHE"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

NATIVE_PKGS=(qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross
             binutils-aarch64-linux-gnu fuse3 rsync make gcc cpio xz-utils file)
ARM64_PKGS=(qemu-system-arm:arm64)

missing=()
for p in "${NATIVE_PKGS[@]}" "${ARM64_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "setup: installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# binfmt may be absent (containers): kvmfs exec calls qemu-aarch64-static explicitly, so that is fine.

# NuGet restore (the offline folder first, the registry for the rest).
dotnet restore kvmfs.sln --verbosity quiet

# Guest assets: the arm64 kernel Image and busybox, from Debian's registry, unpacked into .cache/guest.
GUEST="$CACHE/guest"
if [ ! -s "$GUEST/Image" ] || [ ! -x "$GUEST/busybox" ]; then
  mkdir -p "$CACHE/debs" "$GUEST"
  kpkg=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$kpkg" ] || { echo "setup: cannot resolve the arm64 kernel package" >&2; exit 1; }
  (cd "$CACHE/debs" && apt-get download "$kpkg" busybox-static:arm64)
  rm -rf "$CACHE/unpack" && mkdir -p "$CACHE/unpack"
  for d in "$CACHE"/debs/*.deb; do dpkg-deb -x "$d" "$CACHE/unpack"; done
  cp "$(ls "$CACHE"/unpack/boot/vmlinuz-* | head -1)" "$GUEST/Image"
  cp "$CACHE/unpack/bin/busybox" "$GUEST/busybox"
  chmod +x "$GUEST/busybox"
  rm -rf "$CACHE/unpack"
fi
echo "setup: ok"
