#!/usr/bin/env bash
# Set FieldRep up on Debian 12 (as root, or with sudo) and run it or test it.
#
#   bash scripts/setup.sh run  [ARGS...]   # the app, with a local sync server and demo
#   bash scripts/setup.sh test [PYTEST ARGS...]   # ruff, mypy and the whole test suite
#
# Each step is skipped when it is already done (system packages present, the
# virtual environment up to date with pyproject.toml), so re-runs are fast.
set -euo pipefail

MODE="${1:-}"
shift || true
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP="$VENV/.fieldrep-install-stamp"

# What Qt needs offscreen and under Xvfb (see TOOLCHAIN.md), the PDF test tools
# (poppler-utils) and Python's venv module. The CJK font ships in resources/fonts.
APT_PACKAGES=(
    python3.11 python3.11-venv
    libegl1 libgl1 libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
    libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
    libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 libfontconfig1 libfreetype6 libdbus-1-3
    libgssapi-krb5-2 xvfb xauth poppler-utils
)

say() { printf '\n\033[1m== %s\033[0m  [%s]\n' "$*" "$(elapsed)"; }
# Time since the script started, on each step's line: where a slow run spent it.
elapsed() { printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)); }
die() { printf '\n\033[1;31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

usage() {
    cat <<'USAGE'
Usage: bash scripts/setup.sh run  [fieldrep arguments]   set up, then start FieldRep
       bash scripts/setup.sh test [pytest arguments]     set up, then run every check
USAGE
}

install_system_packages() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "System packages: all present"
        return
    fi
    say "System packages: installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "run as root (or install sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
}

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    die "Python 3.11 or newer is needed (apt-get install python3.11)"
}

install_python_packages() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "Virtual environment: creating .venv"
        "$(find_python)" -m venv "$VENV"
    fi
    local wanted
    wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] &&
        "$VENV/bin/python" -c 'import fieldrep' 2>/dev/null; then
        say "Python packages: up to date"
        return
    fi
    say "Python packages: installing FieldRep and its dependencies into .venv"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]'
    echo "$wanted" >"$STAMP"
}

run_app() {
    export PATH="$VENV/bin:$PATH"
    local launcher=(fieldrep)
    if ! fieldrep --help >/dev/null 2>&1; then
        # The command line is not there yet: open the GUI directly.
        launcher=(python -m fieldrep.ui.app)
    fi
    if [ "$#" -eq 0 ]; then
        # The app itself starts a local sync server (127.0.0.1) and, on the first
        # run, builds the demo territory in your profile and signs in as its rep.
        local database
        database="$(python -c 'from fieldrep.paths import default_database_path as p; print(p())')"
        if [ ! -e "$database" ]; then
            say "First run: FieldRep builds a demo territory in $database"
        fi
    fi
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "$#" -eq 0 ]; then
        say "No display found (DISPLAY is not set)"
        cat <<'NOTE'
FieldRep is a desktop application and needs a screen. Run this command in a
desktop session, or over SSH with X forwarding (ssh -X). For now it starts on a
virtual screen (Xvfb), where nobody can see it; press Ctrl+C to stop it.
NOTE
        exec xvfb-run -a "${launcher[@]}" "$@"
    fi
    say "Starting FieldRep"
    exec "${launcher[@]}" "$@"
}

run_tests() {
    export PATH="$VENV/bin:$PATH"
    export QT_QPA_PLATFORM=offscreen
    local failed=()
    say "ruff check"
    ruff check . || failed+=("ruff check")
    say "ruff format --check"
    ruff format --check . || failed+=("ruff format")
    say "mypy (strict)"
    mypy || failed+=("mypy")
    if [ -z "${FIELDREP_TEST_DATABASE_URL:-}" ]; then
        printf '\n\033[1;33m!! FIELDREP_TEST_DATABASE_URL is not set: PostgreSQL variant skipped !!\033[0m\n'
        printf '   (set it to e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test to run it)\n'
    fi
    say "pytest"
    local status=0
    # With no path given, pytest collects tests/ (testpaths in pyproject.toml).
    # The suite runs in one pytest-xdist worker per core (2 in CI: about half the
    # time); tests marked slow start first (tests/conftest.py) and an idle worker
    # takes tests queued for the other (worksteal), so both end together. Your own
    # arguments come after these, so `-n 0` runs everything in this one process.
    python -m pytest -n auto --dist worksteal "$@" || status=$?
    case "$status" in
        0) ;;
        5) failed+=("pytest (no tests were collected)") ;;
        *) failed+=("pytest (exit code $status)") ;;
    esac
    if [ "${#failed[@]}" -ne 0 ]; then
        printf '\n\033[1;31mFAILED: %s\033[0m (%s)\n' "${failed[*]}" "$(elapsed)" >&2
        exit 1
    fi
    printf '\n\033[1;32mAll checks passed.\033[0m (%s)\n' "$(elapsed)"
}

case "$MODE" in
    run | test) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

install_system_packages
install_python_packages
if [ "$MODE" = run ]; then
    run_app "$@"
else
    run_tests "$@"
fi
