#!/usr/bin/env bash
# Makes sure headless Chromium is available for the audit report test (internal/cli
# TestAuditHTMLInChromium): installs the Debian package `chromium` when /usr/bin/chromium (or
# $ABKIT_CHROMIUM) is missing. Installing needs root (CI runs as root); elsewhere it says what to
# run. Prints the path of the browser on success.
set -euo pipefail

bin=${ABKIT_CHROMIUM:-/usr/bin/chromium}
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: $bin is missing; install it with: sudo apt-get install chromium" >&2
  exit 1
fi
echo "ensure-chromium: installing the Debian package chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
if ! [ -x "$bin" ]; then
  echo "ensure-chromium: chromium was installed but $bin is still missing" >&2
  exit 1
fi
echo "$bin"
