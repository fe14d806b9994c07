#!/usr/bin/env bash
# Cross-builds the Linux KVM selftests for arm64 from Debian's linux-source-6.1 package into
# .cache/conformance/ (git-ignored). Rebuilds only what is missing or stale:
#   src/      the few parts of the kernel tree the build needs (Makefiles, scripts, uapi, tools)
#   usr/      the arm64 uapi headers from `make headers_install` of that same tree
#   bin/      the test programs (aarch64/<name> and the generic ones), dynamically linked
#   tests.txt every test the selftests Makefile builds for arm64 (TEST_GEN_PROGS_aarch64)
# Two build fixes live in tests/conformance/include/ (our own headers; the tests are unchanged).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
ROOT=$REPO/.cache/conformance
PKG=linux-source-6.1
TARBALL=/usr/src/$PKG.tar.xz
KVM_REL=tools/testing/selftests/kvm
JOBS=$(nproc)
mkdir -p "$ROOT"

# 1. The kernel source package (a registry package).
if ! dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "install ok installed" || [ ! -f "$TARBALL" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "conformance: installing $PKG"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends "$PKG" >/dev/null ||
    { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends "$PKG" >/dev/null; }
fi
VERSION=$(dpkg-query -W -f='${Version}' "$PKG")

# The build is current when the package version and our build inputs match the stamp and
# every test program exists.
inputs_hash=$(cat "$0" "$REPO"/tests/conformance/include/*.h "$REPO"/tests/conformance/include/linux/*.h | sha256sum | cut -c1-16)
STAMP="$PKG $VERSION $inputs_hash"
all_built() {
  [ -s "$ROOT/tests.txt" ] || return 1
  local t
  while read -r t; do [ -x "$ROOT/bin/$t" ] || return 1; done < "$ROOT/tests.txt"
}
if [ "$(cat "$ROOT/build.stamp" 2>/dev/null)" = "$STAMP" ] && all_built; then
  echo "conformance: selftests up to date ($PKG $VERSION, $(wc -l < "$ROOT/tests.txt") tests in $ROOT/bin)"
  exit 0
fi

start=$(date +%s%N)
SRC=$ROOT/src/$PKG

# 2. Extract only what the headers and the kvm selftests need (about 17 MB of 1.4 GB).
if [ "$(cat "$ROOT/src/.version" 2>/dev/null)" != "$VERSION" ]; then
  echo "conformance: extracting the needed parts of $TARBALL"
  rm -rf "$ROOT/src" "$ROOT/usr" "$ROOT/bin"
  mkdir -p "$ROOT/src"
  P=$PKG
  tar -xJf "$TARBALL" -C "$ROOT/src" --wildcards \
    "$P/Makefile" "$P/scripts/*" "$P/include/uapi/*" "$P/arch/arm64/Makefile" "$P/arch/arm64/include/uapi/*" \
    "$P/tools/build/*" "$P/tools/scripts/*" "$P/tools/include/*" "$P/tools/arch/arm64/*" "$P/tools/lib/rbtree.c" \
    "$P/$KVM_REL/*" "$P/tools/testing/selftests/rseq/*" "$P/tools/testing/selftests/lib.mk" \
    "$P/tools/testing/selftests/kselftest*"
  echo "$VERSION" > "$ROOT/src/.version"
fi

# 3. The arm64 uapi headers of this very tree (the selftests' KHDR_INCLUDES).
if [ ! -f "$ROOT/usr/include/linux/kvm.h" ] || [ ! -f "$ROOT/usr/include/asm/kvm.h" ]; then
  echo "conformance: make ARCH=arm64 headers_install"
  rm -rf "$ROOT/usr"
  make -s -j"$JOBS" -C "$SRC" ARCH=arm64 INSTALL_HDR_PATH="$ROOT/usr" headers_install > "$ROOT/headers.log" 2>&1 ||
    { tail -20 "$ROOT/headers.log" >&2; echo "conformance: headers_install failed (log: $ROOT/headers.log)" >&2; exit 1; }
fi

# 4. The arm64 test list, as the selftests Makefile defines it.
sed -n 's/^TEST_GEN_PROGS_aarch64 *+= *//p' "$SRC/$KVM_REL/Makefile" | tr -d ' \t' > "$ROOT/tests.txt"
[ -s "$ROOT/tests.txt" ] || { echo "conformance: no arm64 tests found in the selftests Makefile" >&2; exit 1; }

# 5. Cross-build (make is incremental inside bin/). Our include dir comes after the tree's
#    own include paths, so it only supplies what the tree lacks.
echo "conformance: cross-building $(wc -l < "$ROOT/tests.txt") KVM selftests for arm64 (-j$JOBS)"
mkdir -p "$ROOT/bin"
if ! make -j"$JOBS" -C "$SRC/$KVM_REL" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
      OUTPUT="$ROOT/bin" KHDR_INCLUDES="-isystem $ROOT/usr/include" \
      EXTRA_CFLAGS="-I$REPO/tests/conformance/include -include $REPO/tests/conformance/include/kvmfs-selftest-compat.h" \
      > "$ROOT/build.log" 2>&1; then
  grep -E 'error|Error' "$ROOT/build.log" | head -20 >&2
  echo "conformance: selftests build failed (log: $ROOT/build.log)" >&2
  exit 1
fi
missing=()
while read -r t; do [ -x "$ROOT/bin/$t" ] || missing+=("$t"); done < "$ROOT/tests.txt"
if [ ${#missing[@]} -ne 0 ]; then
  echo "conformance: not built: ${missing[*]} (log: $ROOT/build.log)" >&2
  exit 1
fi
echo "$STAMP" > "$ROOT/build.stamp"
awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN { printf "%.1f\n", ns / 1e9 }' > "$ROOT/build-seconds"
echo "conformance: built $(wc -l < "$ROOT/tests.txt") selftests in $(cat "$ROOT/build-seconds") s ($ROOT/bin)"
