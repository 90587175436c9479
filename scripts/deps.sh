#!/bin/sh
# Ensures the Debian packages the project builds and runs with are installed.
# Run by `make` before anything is compiled. As root it installs what is missing
# with apt-get; otherwise it prints the exact command to run and fails.
set -eu

PACKAGES="gcc make libopenblas-dev liblapacke-dev libsqlite3-dev sqlite3 libpng-dev libcairo2-dev fonts-dejavu-core libmatio-dev zlib1g-dev dataset-fashion-mnist"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "deps: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends $missing >&2
fi
