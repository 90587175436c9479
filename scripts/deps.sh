#!/bin/sh
# Ensures the Debian packages the project builds and runs with are installed.
# Run by `make` before anything is compiled. As root it installs what is missing
# with apt-get; otherwise it prints the exact command to run and fails.
set -eu

PACKAGES="gcc make libopenblas-dev liblapacke-dev libsqlite3-dev sqlite3 libpng-dev libcairo2-dev fonts-dejavu-core libmatio-dev zlib1g-dev dataset-fashion-mnist"

# Optional: without them the rest builds and bin/train-mpi (data-parallel
# training over MPI) is left out.
OPTIONAL="libopenmpi-dev openmpi-bin"

missing_of() {
    for p in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) ;;
            *) printf ' %s' "$p" ;;
        esac
    done
}
# shellcheck disable=SC2086
missing=$(missing_of $PACKAGES)
# shellcheck disable=SC2086
optional=$(missing_of $OPTIONAL)

[ -z "$missing$optional" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if [ -n "$optional" ]; then
        echo "deps: optional Debian packages missing:$optional (bin/train-mpi, data-parallel training, is not built)" >&2
        echo "deps: install them with:  sudo apt-get install -y$optional" >&2
    fi
    [ -z "$missing" ] && exit 0
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi
missing="$missing$optional"

echo "deps: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends $missing >&2
fi
