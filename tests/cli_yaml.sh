#!/bin/sh
# `llmsplit json FILE.yaml`: how a YAML config is read, printed as JSON; errors as FILE:LINE:COL.
# Then the reader against PyYAML (Debian's python3-yaml, what LiteLLM reads config.yaml with) on
# the realistic LiteLLM configs in tests/data/yaml and on generated and mutated documents
# (tests/yaml_oracle.py). usage: cli_yaml.sh TOOL
tool=${1:-build/llmsplit}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
printf 'model_list:\n  - model_name: chat   # the group\n    litellm_params:\n      model: gpt-4\n      tpm: 80_000\n      cost: 0.00000015\n      x: 1e-6\n' > "$tmp/c.yaml"
want='{"model_list":[{"model_name":"chat","litellm_params":{"model":"gpt-4","tpm":80000,"cost":1.5e-7,"x":"1e-6"}}]}'

"$tool" json "$tmp/c.yaml" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_yaml_prints_the_json_it_reads [ $rc = 0 -a "$(cat "$tmp/out")" = "$want" -a ! -s "$tmp/err" ]

cp "$tmp/c.yaml" "$tmp/c.yml"
"$tool" json --check "$tmp/c.yml" > "$tmp/out" 2>&1; rc=$?
check cli_yaml_yml_extension_and_check [ $rc = 0 -a ! -s "$tmp/out" ]

"$tool" json --yaml - < "$tmp/c.yaml" > "$tmp/out" 2>&1; rc=$?
check cli_yaml_reads_stdin_with_yaml_option [ $rc = 0 -a "$(cat "$tmp/out")" = "$want" ]

printf 'model_list:\n  - model_name: chat\n\tlitellm_params: {}\n' > "$tmp/tab.yaml"
"$tool" json "$tmp/tab.yaml" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_yaml_error_is_file_line_col [ $rc = 1 -a ! -s "$tmp/out" -a \
  "$(cat "$tmp/err")" = "llmsplit: config: $tmp/tab.yaml:3:1: a tab: YAML indents and separates with spaces only; replace it" ]

printf 'a: 1\na: 2\n' > "$tmp/dup.yaml"
"$tool" json "$tmp/dup.yaml" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_yaml_repeated_key_is_refused [ $rc = 1 -a -n "$(grep "dup.yaml:2:1: a key repeated" "$tmp/err")" ]

cp "$tmp/c.yaml" "$tmp/c.json"
"$tool" json "$tmp/c.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_yaml_json_files_stay_strict_json [ $rc = 1 -a "$(cat "$tmp/err")" = "llmsplit: json: 1:1: unexpected character" ]

# ---- against PyYAML ----
py=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
  echo "skip cli_yaml_matches_pyyaml: python3 with PyYAML not installed (apt-get install python3-yaml; make test-deps does)"
  exit 0
fi
"$py" "$here/yaml_oracle.py" "$tool" "$here/data/yaml" "$tmp" "${LLMSPLIT_YAML_ORACLE_N:-1500}" "${LLMSPLIT_YAML_ORACLE_SEED:-1}" > "$tmp/oracle" 2>&1; rc=$?
sed 's/^/  /' "$tmp/oracle"
check cli_yaml_matches_pyyaml_or_refuses [ $rc = 0 ]
