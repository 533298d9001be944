#!/usr/bin/env bash
# All set-up for a fresh Debian machine: the TeX Live toolchain for handouts
# (when root with apt), then chainrule itself with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBS="texlive-latex-base texlive-latex-recommended texlive-pictures latexmk poppler-utils"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    missing=""
    for deb in $DEBS; do
        dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing="$missing $deb"
    done
    if [ -n "$missing" ]; then
        echo "setup: installing$missing" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
