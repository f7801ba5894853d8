#!/bin/sh
# Debian's `prometheus` package (prometheus and promtool) for `make rehearse` and `make test-promote`, installed when
# missing (Debian bookworm: 2.42.0). Our own Prometheus runs per command on 127.0.0.1, so the package's service is
# not wanted: where an init system started it on install (0.0.0.0:9090), it is stopped and disabled here.
set -eu

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "install_prometheus: prometheus is missing and installing it needs root: run 'apt-get install -y --no-install-recommends prometheus' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: the recommended node exporter would be one more service listening on every interface.
if ! $as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
  # A fresh machine (a CI runner) has no package lists yet.
  $as_root apt-get update -qq >/dev/null
  $as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  $as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/prometheus ]; then
  $as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
# The packaged daemon runs as user prometheus; ours run as the developer. None of the package's may be left.
if command -v pgrep >/dev/null 2>&1 && pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
  echo "install_prometheus: the package's prometheus service is still running (it listens on 0.0.0.0:9090): stop it" >&2
  exit 1
fi
prometheus --version >/dev/null 2>&1 && promtool --version >/dev/null 2>&1 || {
  echo "install_prometheus: prometheus or promtool does not run after installing the package" >&2
  exit 1
}
