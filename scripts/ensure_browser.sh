#!/usr/bin/env bash
# `make test` includes a browser journey in Debian's Chromium (Playwright's own browser download
# does not work offline, so the test drives the system browser). Install it when it is missing and
# this user may install packages; otherwise say in one line what to run.
set -euo pipefail

chromium="${BRIEFML_CHROMIUM:-}"
if [ -z "$chromium" ]; then
  chromium="$(command -v chromium || true)"
fi
if [ -n "$chromium" ] && [ -x "$chromium" ]; then
  exit 0
fi

as_root=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
fi

if command -v apt-get >/dev/null 2>&1 && [ "$as_root" != none ]; then
  echo "make test: installing Debian's chromium for the browser test (apt-get install chromium)"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
  exit 0
fi

echo "make test needs Chromium for its browser test: run 'sudo apt-get install -y chromium'" \
     "(or set BRIEFML_CHROMIUM=/path/to/chromium), then 'make test' again." >&2
exit 1
