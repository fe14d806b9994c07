#!/usr/bin/env bash
# make build: the kvmfs program into out/ (out/kvmfs) and the preload shim for aarch64 and the host.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build kvmfs.sln -c Release --nologo --verbosity quiet -p:WarningLevel=0 | { grep -E "error|Error" || true; }
dotnet publish daemon/Server/Kvmfs.Daemon.csproj -c Release --nologo --verbosity quiet -o out/bin >/dev/null
ln -sf bin/kvmfs out/kvmfs
if [ -f protocol/shim/Makefile ]; then
  make -s -C protocol/shim OUT="$PWD/out/lib"
fi
echo "build: ok (out/kvmfs)"
