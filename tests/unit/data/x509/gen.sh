#!/bin/sh
# Test certificates for tests/unit/test_x509.c, made with the openssl CLI.
# TEST ONLY keys. Re-running makes new keys and serials: the tests read
# every expected value that depends on them (fingerprints) from the files.
#
#   ca.pem / ca.key           test root CA (RSA 2048, CA:TRUE, pathlen 1)
#   leaf.der                  RSA 2048 leaf signed by ca, SANs: DNS db.test,
#                             DNS *.vt.test, IP 10.1.2.3, URI spiffe://vt/db
#   ec256.der                 EC P-256 leaf signed by ca (ecdsa-with-SHA256), CN ec.test
#   sha1.der                  RSA leaf signed by ca with SHA-1
#   expired.der               leaf signed by ca, valid 2020-01-01 .. 2021-01-01
#   self1024.der              self-signed RSA 1024, CN selfsigned.test
#   other-ca.pem, unknown.der leaf signed by a CA that is not in ca.pem
#   garbage.der               bytes that are not a certificate
set -eu
cd "$(dirname "$0")"
export OPENSSL_CONF=/dev/null
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

days=3650
subj() { printf '/O=vtls-sensor unit tests/CN=%s' "$1"; }

ca() { # name
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days $days \
        -subj "$(subj "$1 Test CA")" -sha256 \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:1" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # out ca keyopts digest cn [san]
    out=$1 cakey=$2 keyopt=$3 md=$4 cn=$5 san=${6:-}
    openssl req -new -newkey "$keyopt" -nodes -keyout "$W/$out.key" -out "$W/$out.csr" \
        -subj "$(subj "$cn")" 2>/dev/null
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        [ -n "$san" ] && echo "subjectAltName=$san"
    } > "$W/$out.ext"
    openssl x509 -req -in "$W/$out.csr" -CA "$cakey.pem" -CAkey "$cakey.key" \
        -CAcreateserial -CAserial "$W/serial" -days $days -"$md" -extfile "$W/$out.ext" \
        -outform DER -out "$out.der" 2>/dev/null
}

ca ca
ca other-ca
leaf leaf ca rsa:2048 sha256 db.test "DNS:db.test,DNS:*.vt.test,IP:10.1.2.3,URI:spiffe://vt/db"
openssl ecparam -name prime256v1 -out "$W/p256.param"
leaf ec256 ca "ec:$W/p256.param" sha256 ec.test "DNS:ec.test"
leaf sha1 ca rsa:2048 sha1 sha1.test "DNS:sha1.test"
leaf unknown other-ca rsa:2048 sha256 unknown.test "DNS:unknown.test"

# Expired: `openssl ca` is the CLI that takes explicit start and end dates.
mkdir -p "$W/db"
: > "$W/db/index"
cat > "$W/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $W/db/index
new_certs_dir = $W/db
serial = $W/db/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
organizationName = optional
EOF
echo 1000 > "$W/db/serial"
openssl req -new -newkey rsa:2048 -nodes -keyout "$W/exp.key" -out "$W/exp.csr" \
    -subj "$(subj expired.test)" 2>/dev/null
openssl ca -batch -config "$W/ca.cnf" -cert ca.pem -keyfile ca.key -in "$W/exp.csr" \
    -startdate 20200101000000Z -enddate 20210101000000Z -out "$W/exp.pem" 2>/dev/null
openssl x509 -in "$W/exp.pem" -outform DER -out expired.der

# Self-signed 1024-bit RSA.
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$W/s.key" -outform DER -out self1024.der \
    -days $days -subj "$(subj selfsigned.test)" -sha256 2>/dev/null

# Not a certificate: a SEQUENCE header that lies about its length, then text.
printf '\060\202\377\377not a certificate' > garbage.der
rm -f ca.key other-ca.key
echo "x509 test data written to $(pwd)"
