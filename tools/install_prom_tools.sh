#!/bin/sh
# Puts promtool, amtool and prometheus into DIR (default .tools/bin): promtool and amtool for `make test`, prometheus
# (and promtool) for `make rehearse` and `make test-promote`, which start their own on 127.0.0.1. The Debian packages'
# binaries, unpacked, never installed: no service (the package's would listen on 0.0.0.0:9090), no root needed once
# the package lists exist. Tools already on PATH are kept.
set -eu
dir=${1:-.tools/bin}
mkdir -p "$dir"
for pair in promtool:prometheus prometheus:prometheus amtool:prometheus-alertmanager; do
  tool=${pair%%:*}
  package=${pair#*:}
  if command -v "$tool" >/dev/null 2>&1 || [ -x "$dir/$tool" ]; then
    continue
  fi
  work=$(mktemp -d)
  if ! (cd "$work" && apt-get download "$package" >/dev/null 2>&1); then
    # A fresh machine has no package lists yet; root (or passwordless sudo, as on hosted CI runners) may fetch them.
    as_root=""
    [ "$(id -u)" = 0 ] || as_root="sudo -n"
    if $as_root apt-get update -qq >/dev/null 2>&1 && (cd "$work" && apt-get download "$package" >/dev/null 2>&1); then
      :
    else
      echo "install_prom_tools: cannot get $tool: Debian package '$package' could not be downloaded" \
           "(run 'apt-get update' as root, or put $tool on PATH)" >&2
      rm -rf "$work"
      exit 1
    fi
  fi
  dpkg-deb -x "$work"/*.deb "$work/unpacked"
  cp "$work/unpacked/usr/bin/$tool" "$dir/$tool"
  rm -rf "$work"
  "$dir/$tool" --version >/dev/null 2>&1 || { echo "install_prom_tools: $dir/$tool does not run" >&2; exit 1; }
done
