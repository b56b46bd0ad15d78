#!/bin/sh
# deps.sh — installs the Debian packages bpfrt needs, if any are missing.
set -e

PKGS="gcc make libc6-dev clang-19 llvm-19 libclang-rt-19-dev bpftool xxd libzydis-dev libelf-dev libbpf-dev libpcap-dev"
# The XDP examples: captures.py and the model (python3).
PKGS="$PKGS python3"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: missing packages:$missing (run as root, or install them)" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null 2>&1 || {
	$SUDO apt-get update -qq >/dev/null
	$SUDO apt-get install -y -qq $missing >/dev/null
}
