#!/bin/bash
# Regenerate every capture in pcaps/ (as root): runs each gen script in turn and
# stops at the first failure. `make pcaps` calls this. Optional arguments limit the
# run to scripts whose name contains one of them (e.g. `all.sh tunnel`).
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "all.sh: must run as root" >&2; exit 1; }
ran=0
for script in ./*.sh; do
    case $script in ./lib.sh | ./all.sh) continue ;; esac
    if [ $# -gt 0 ]; then
        keep=0
        for want in "$@"; do [[ $script == *"$want"* ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    echo "== $script" >&2
    "$script"
    ran=$((ran + 1))
done
echo "all.sh: $ran scripts ran; check with:" \
    "/usr/bin/python3 ../../tests/replay/test_expected_tshark.py --pcaps .." >&2
