#!/bin/sh
# usage: deps.sh PACKAGE:FILE ...  Makes sure each Debian PACKAGE is installed (FILE is a file it
# provides). As root, installs the missing ones with apt-get; otherwise prints the command to run.
missing=""
for spec in "$@"; do
  pkg=${spec%%:*}; file=${spec#*:}
  [ -e "$file" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing; } ||
    { echo "llmsplit: could not install:$missing" >&2; exit 1; }
  exit 0
fi
echo "llmsplit: missing packages:$missing" >&2
echo "run: sudo apt-get install -y$missing" >&2
exit 1
