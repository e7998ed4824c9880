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
