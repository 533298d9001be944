#!/usr/bin/env bash
# All set-up for a fresh Debian machine: the TeX Live toolchain for handouts and headless Chromium for
# the HTML handouts' tests (when root with apt),
# a virtual environment .venv in the repository (so an externally managed system Python, PEP 668,
# is never touched), and chainrule in it, editable, with its test extras.
# Afterwards: .venv/bin/chainrule, .venv/bin/python -m pytest (or `. .venv/bin/activate`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv
DEBS="texlive-latex-base texlive-latex-recommended texlive-pictures latexmk poppler-utils chromium"

apt_ok() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }

apt_install() {
    echo "setup: installing $*" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if apt_ok; then
    missing=""
    for deb in $DEBS; do
        dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing="$missing $deb"
    done
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086
        apt_install $missing
    fi
fi

venv_works() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }

if ! venv_works; then
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian's python3 makes virtual environments only with its python3-venv package (ensurepip)
        if apt_ok; then
            apt_install python3-venv
            "$PYTHON" -m venv "$VENV"
        else
            echo "setup: '$PYTHON -m venv' failed; install Debian's python3-venv (as root: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
echo "setup: chainrule $("$VENV/bin/chainrule" --version | cut -d' ' -f2) in $VENV (run .venv/bin/chainrule, or activate: . $VENV/bin/activate)" >&2
