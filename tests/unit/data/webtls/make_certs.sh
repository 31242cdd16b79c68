#!/bin/sh
# Make a throwaway PKI for the metrics endpoint tests in directory $1:
# ca.crt/ca.key, server.crt/server.key (CN=localhost, SAN localhost,
# 127.0.0.1, ::1), client.crt/client.key signed by the CA, and
# rogue.crt/rogue.key, a self-signed client certificate the CA never saw.
set -eu
dir=$1
cd "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=vtls-test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null

sign() { # name subject extensions
    openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -out "$1.crt" -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
sign server /CN=localhost \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
sign client /CN=prometheus "extendedKeyUsage=clientAuth"

openssl req -x509 $ec -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue \
    -addext extendedKeyUsage=clientAuth 2>/dev/null
