#!/bin/sh
# usage: deps.sh [--optional] PACKAGE:FILE ...
# Makes sure each Debian PACKAGE is installed (FILE is a file it provides). As root, installs
# the missing ones with apt-get; otherwise prints the command to run and fails. With --optional
# the packages only widen what the tests can check: a failed install is reported, not fatal.
optional=0
if [ "$1" = "--optional" ]; then optional=1; shift; fi
missing=""
for spec in "$@"; do
  pkg=${spec%%:*}; file=${spec#*:}
  [ -e "$file" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1; } ||
    { echo "llmsplit: could not install:$missing" >&2; [ $optional = 1 ] && exit 0; exit 1; }
  exit 0
fi
if [ $optional = 1 ]; then
  echo "llmsplit: note: tests that need$missing will be skipped (sudo apt-get install -y$missing)" >&2
  exit 0
fi
echo "llmsplit: missing packages:$missing" >&2
echo "run: sudo apt-get install -y$missing" >&2
exit 1
