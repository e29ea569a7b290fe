#!/usr/bin/env bash
# Regenerate the test PKI used by the TLS tests.
#
# Uses only the `openssl` CLI (written and tested against OpenSSL 3.0; newer
# releases should work too).  Every run regenerates every file from scratch with fresh
# keys and random serial numbers.  The output is committed; see README.md.
#
# Keys are written in the "traditional" encodings (SEC1 "EC PRIVATE KEY",
# PKCS#1 "RSA PRIVATE KEY") which BearSSL's br_skey_decoder reads directly.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# Validity of every "good" certificate: fixed dates (50 years) rather than
# "now + N days", so the files do not depend on the generating machine's
# clock and are already valid on a machine whose clock is somewhat behind.
GOOD_START=20200101000000Z
GOOD_END=20700101000000Z
umask 022

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------------------
# Extension profiles
# ---------------------------------------------------------------------------
cat >"$TMP/ext.cnf" <<'EOF'
[root_ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[intermediate_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_localhost]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_localhost_rsa]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_wronghost]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[selfsigned]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
EOF

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Positive random 128-bit serial: 16 bytes, first byte 0x10..0x7f so the
# DER INTEGER is never negative and always exactly 16 bytes long.
serial() {
    printf '0x%02x%s' $((RANDOM % 0x70 + 0x10)) "$(openssl rand -hex 15)"
}

# ec_key OUT: ECDSA P-256 key, SEC1 "EC PRIVATE KEY" PEM, named curve.
ec_key() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/k.pem"
    openssl ec -in "$TMP/k.pem" -out "$1" 2>/dev/null
    rm -f "$TMP/k.pem"
}

# rsa_key OUT: RSA 2048 key, PKCS#1 "RSA PRIVATE KEY" PEM.
rsa_key() {
    openssl genrsa -out "$TMP/k.pem" 2048 2>/dev/null
    openssl rsa -in "$TMP/k.pem" -traditional -out "$1" 2>/dev/null
    rm -f "$TMP/k.pem"
}

# csr KEY SUBJECT OUT
csr() {
    openssl req -new -sha256 -key "$1" -subj "$2" -out "$3"
}

# sign_dated CSR CA_CERT CA_KEY EXT_SECTION STARTDATE ENDDATE OUT
# CA_CERT "-" means self-signed (signed by CA_KEY, the CSR's own key).
# `openssl x509 -req` / `openssl req -x509` in OpenSSL 3.0 have no
# -not_before/-not_after, so every certificate is issued with `openssl ca`
# and a throwaway database (deleted right away) to set exact validity dates.
sign_dated() {
    local issuer=()
    local db="$TMP/ca-db"
    rm -rf "$db"
    mkdir -p "$db/newcerts"
    : >"$db/index.txt"
    serial | cut -c3- >"$db/serial"
    if [ "$2" = "-" ]; then issuer=(-selfsign); else issuer=(-cert "$2"); fi
    cat >"$db/ca.cnf" <<EOF
[ca]
default_ca = tmp_ca
[tmp_ca]
dir              = $db
database         = \$dir/index.txt
new_certs_dir    = \$dir/newcerts
serial           = \$dir/serial
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
[policy_any]
organizationName = optional
commonName       = supplied
EOF
    openssl ca -batch -config "$db/ca.cnf" -notext -preserveDN \
        "${issuer[@]}" -keyfile "$3" \
        -in "$1" -startdate "$5" -enddate "$6" \
        -extfile "$TMP/ext.cnf" -extensions "$4" -out "$7" 2>"$TMP/ca.log" \
        || { cat "$TMP/ca.log" >&2; exit 1; }
    rm -rf "$db"
}

# sign CSR CA_CERT CA_KEY EXT_SECTION OUT  (normal validity window)
sign() {
    sign_dated "$1" "$2" "$3" "$4" "$GOOD_START" "$GOOD_END" "$5"
}

# leaf NAME KEYTYPE(ec|rsa) EXT_SECTION CN CA_CERT CA_KEY
#   -> NAME.key, NAME.pem
leaf() {
    "${2}_key" "$1.key"
    csr "$1.key" "/O=llmsplit tests/CN=$4" "$TMP/$1.csr"
    sign "$TMP/$1.csr" "$5" "$6" "$3" "$1.pem"
}

# ---------------------------------------------------------------------------
# Clean previous output
# ---------------------------------------------------------------------------
rm -f ./*.pem ./*.key ./*.srl

# ---------------------------------------------------------------------------
# Root CA and intermediate CA
# ---------------------------------------------------------------------------
ec_key root-ca.key
csr root-ca.key "/O=llmsplit tests/CN=llmsplit Test Root CA" "$TMP/root-ca.csr"
sign "$TMP/root-ca.csr" - root-ca.key root_ca root-ca.pem

ec_key intermediate-ca.key
csr intermediate-ca.key "/O=llmsplit tests/CN=llmsplit Test Intermediate CA" \
    "$TMP/intermediate-ca.csr"
sign "$TMP/intermediate-ca.csr" root-ca.pem root-ca.key intermediate_ca \
    intermediate-ca.pem

# ---------------------------------------------------------------------------
# Good server leaves (ECDSA and RSA), signed by the intermediate
# ---------------------------------------------------------------------------
leaf leaf-ecdsa ec  leaf_localhost localhost intermediate-ca.pem intermediate-ca.key
cat leaf-ecdsa.pem intermediate-ca.pem >leaf-ecdsa-chain.pem

leaf leaf-rsa   rsa leaf_localhost_rsa localhost intermediate-ca.pem intermediate-ca.key
cat leaf-rsa.pem intermediate-ca.pem >leaf-rsa-chain.pem

# ---------------------------------------------------------------------------
# Incomplete chain: valid leaf, but the file holds only the leaf
# ---------------------------------------------------------------------------
leaf nointermediate ec leaf_localhost localhost intermediate-ca.pem intermediate-ca.key

# ---------------------------------------------------------------------------
# Expired and not-yet-valid leaves (forced dates via `openssl ca`)
# ---------------------------------------------------------------------------
ec_key expired.key
csr expired.key "/O=llmsplit tests/CN=localhost" "$TMP/expired.csr"
sign_dated "$TMP/expired.csr" intermediate-ca.pem intermediate-ca.key \
    leaf_localhost 20010101000000Z 20020101000000Z "$TMP/expired.pem"
cat "$TMP/expired.pem" intermediate-ca.pem >expired-chain.pem

ec_key notyet.key
csr notyet.key "/O=llmsplit tests/CN=localhost" "$TMP/notyet.csr"
sign_dated "$TMP/notyet.csr" intermediate-ca.pem intermediate-ca.key \
    leaf_localhost 20900101000000Z 21000101000000Z "$TMP/notyet.pem"
cat "$TMP/notyet.pem" intermediate-ca.pem >notyet-chain.pem

# ---------------------------------------------------------------------------
# Wrong host name: SAN only DNS:wrong.example, CN wrong.example
# ---------------------------------------------------------------------------
leaf wronghost ec leaf_wronghost wrong.example intermediate-ca.pem intermediate-ca.key
cat wronghost.pem intermediate-ca.pem >wronghost-chain.pem
rm -f wronghost.pem

# ---------------------------------------------------------------------------
# Self-signed localhost certificate (not from our root)
# ---------------------------------------------------------------------------
ec_key selfsigned.key
csr selfsigned.key "/O=llmsplit tests/CN=localhost" "$TMP/selfsigned.csr"
sign "$TMP/selfsigned.csr" - selfsigned.key selfsigned selfsigned.pem

# ---------------------------------------------------------------------------
# Unrelated second root, with a localhost leaf signed directly by it
# ---------------------------------------------------------------------------
ec_key "$TMP/other-root-ca.key"
csr "$TMP/other-root-ca.key" \
    "/O=llmsplit tests (other)/CN=llmsplit Other Test Root CA" \
    "$TMP/other-root-ca.csr"
sign "$TMP/other-root-ca.csr" - "$TMP/other-root-ca.key" root_ca \
    other-root-ca.pem

ec_key otherroot.key
csr otherroot.key "/O=llmsplit tests/CN=localhost" "$TMP/otherroot.csr"
sign "$TMP/otherroot.csr" other-root-ca.pem "$TMP/other-root-ca.key" \
    leaf_localhost otherroot-chain.pem

rm -f ./*.srl
chmod 644 ./*.pem ./*.key   # throwaway test keys: readable by any test user
shopt -s nullglob
files=(./*.pem ./*.key)
echo "make-certs.sh: generated ${#files[@]} files in $(pwd)"
