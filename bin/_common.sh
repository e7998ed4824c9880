# Shared by bin/demo and bin/test: sourced, not run. Works from the repository root.

PYTHON="${PYTHON:-python3}"

say() { printf '\n==> %s\n' "$*"; }

# ensure_venv TARGET: create .venv if it is missing, then `pip install -e TARGET` into it.
ensure_venv() {
    if [ ! -x .venv/bin/python ]; then
        if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11" >&2
            exit 1
        fi
        say "Creating .venv with $("$PYTHON" --version)"
        "$PYTHON" -m venv .venv
    fi
    say "pip install -e $1"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$1"
}

# ensure_pdf_libs: Debian's Pango, HarfBuzz-Subset and a font, which WeasyPrint (document PDFs)
# loads at run time; installed only where missing. Elsewhere (no dpkg) install them by hand.
ensure_pdf_libs() {
    local pkgs="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
    command -v dpkg >/dev/null 2>&1 || return 0
    # shellcheck disable=SC2086
    dpkg -s $pkgs >/dev/null 2>&1 && return 0
    say "Installing Debian's Pango, HarfBuzz-Subset and DejaVu fonts for document PDFs"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs
}
