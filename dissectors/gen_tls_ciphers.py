#!/usr/bin/python3
"""Generate dissectors/tls_ciphers.c: the TLS cipher suite table.

Sources (both read from the tools installed on this machine):
  - `tshark -G values`: the value strings Wireshark uses for the field
    tls.handshake.ciphersuite (the IANA registry plus a few well-known
    private or draft code points);
  - `openssl ciphers -V -stdname ALL:COMPLEMENTOFALL:@SECLEVEL=0`: IANA
    names of every suite OpenSSL knows, used to fill any code point the
    tshark list lacks and to cross-check names.

Every property is derived from the IANA name (TLS_<kx>_<auth>_WITH_<enc>_<mac>
or, for TLS 1.3, TLS_<aead>_<hash>); see classify() for the strength rules.
Usage: dissectors/gen_tls_ciphers.py > dissectors/tls_ciphers.c
"""
import os
import re
import subprocess
import sys


def tshark_suites():
    out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True,
                         check=True).stdout
    suites = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 4 and f[0] == "V" and f[1] == "tls.handshake.ciphersuite":
            suites[int(f[2])] = f[3]
    return suites


def openssl_suites():
    out = subprocess.run(["openssl", "ciphers", "-V", "-stdname",
                          "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                         capture_output=True, text=True, check=True).stdout
    suites = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and re.match(r"0x[0-9A-F]{2},0x[0-9A-F]{2}$", f[0]):
            hi, lo = f[0].split(",")
            suites[int(hi, 16) << 8 | int(lo, 16)] = f[2]
    return suites


# Key exchange part (before _WITH_) -> (kx, auth, export).
KX = {
    "NULL": ("NULL", "NULL"), "RSA": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"), "DH_RSA": ("DH", "RSA"),
    "DHE_DSS": ("DHE", "DSS"), "DHE_RSA": ("DHE", "RSA"),
    "DH_anon": ("DH", "anon"), "ECDH_anon": ("ECDH", "anon"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"), "ECDH_RSA": ("ECDH", "RSA"),
    "ECDHE_ECDSA": ("ECDHE", "ECDSA"), "ECDHE_RSA": ("ECDHE", "RSA"),
    "PSK": ("PSK", "PSK"), "DHE_PSK": ("DHE", "PSK"), "PSK_DHE": ("DHE", "PSK"),
    "RSA_PSK": ("RSA", "PSK"), "ECDHE_PSK": ("ECDHE", "PSK"),
    "RSA_FIPS": ("RSA", "RSA"), "KRB5": ("KRB5", "KRB5"), "FORTEZZA_KEA": ("FORTEZZA", "FORTEZZA"),
    "SRP_SHA": ("SRP", "SRP"), "SRP_SHA_RSA": ("SRP", "RSA"), "SRP_SHA_DSS": ("SRP", "DSS"),
    "GOSTR341094": ("GOST", "GOST"), "GOSTR341001": ("GOST", "GOST"),
    "GOSTR341112_256": ("GOST", "GOST"), "ECCPWD": ("ECCPWD", "ECCPWD"),
    "ECJPAKE": ("ECJPAKE", "ECJPAKE"),
    # Chinese national suites (not IANA): kx token then cipher.
    "ECDHE": ("ECDHE", "SM2"), "ECC": ("ECC", "SM2"), "IBSDH": ("IBSDH", "IBC"),
    "IBC": ("IBC", "IBC"),
}

# Bulk cipher token -> (enc name, key bits, aead).
ENC = [
    ("NULL", "NULL", 0, False),
    ("RC4_128", "RC4", 128, False), ("RC4_56", "RC4", 56, False), ("RC4_40", "RC4", 40, False),
    ("RC2_CBC_56", "RC2", 56, False), ("RC2_CBC_40", "RC2", 40, False),
    ("IDEA_CBC", "IDEA", 128, False),
    ("DES40_CBC", "DES", 40, False), ("DES_CBC_40", "DES", 40, False),
    ("DES_CBC", "DES", 56, False), ("3DES_EDE_CBC", "3DES", 168, False),
    ("FORTEZZA_CBC", "FORTEZZA", 80, False), ("SEED_CBC", "SEED", 128, False),
    ("AES_128_CBC", "AES-CBC", 128, False), ("AES_256_CBC", "AES-CBC", 256, False),
    ("AES_128_GCM", "AES-GCM", 128, True), ("AES_256_GCM", "AES-GCM", 256, True),
    ("AES_128_CCM_8", "AES-CCM8", 128, True), ("AES_256_CCM_8", "AES-CCM8", 256, True),
    ("AES_128_CCM", "AES-CCM", 128, True), ("AES_256_CCM", "AES-CCM", 256, True),
    ("CAMELLIA_128_CBC", "CAMELLIA-CBC", 128, False),
    ("CAMELLIA_256_CBC", "CAMELLIA-CBC", 256, False),
    ("CAMELLIA_128_GCM", "CAMELLIA-GCM", 128, True),
    ("CAMELLIA_256_GCM", "CAMELLIA-GCM", 256, True),
    ("ARIA_128_CBC", "ARIA-CBC", 128, False), ("ARIA_256_CBC", "ARIA-CBC", 256, False),
    ("ARIA_128_GCM", "ARIA-GCM", 128, True), ("ARIA_256_GCM", "ARIA-GCM", 256, True),
    ("CHACHA20_POLY1305", "CHACHA20-POLY1305", 256, True),
    ("28147_CNT", "GOST28147", 256, False),
    ("KUZNYECHIK_CTR", "KUZNYECHIK-CTR", 256, False), ("MAGMA_CTR", "MAGMA-CTR", 256, False),
    ("KUZNYECHIK_MGM", "KUZNYECHIK-MGM", 256, True), ("MAGMA_MGM", "MAGMA-MGM", 256, True),
    ("SM4_GCM", "SM4-GCM", 128, True), ("SM4_CCM", "SM4-CCM", 128, True),
    ("SM4_CBC", "SM4-CBC", 128, False), ("SM1", "SM1", 128, False),
    ("ESTREAM_SALSA20", "SALSA20", 256, False), ("SALSA20", "SALSA20", 256, False),
]

MAC = {"SHA": "SHA1", "SHA1": "SHA1", "MD5": "MD5", "SHA256": "SHA256", "SHA384": "SHA384",
       "SM3": "SM3", "NULL": "NULL", "IMIT": "GOST28147", "GOSTR3411": "GOSTR3411",
       "OMAC": "OMAC", "L": "", "S": "", "": ""}

SCSV = ("TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "TLS_FALLBACK_SCSV")


def split_enc(rest):
    """rest = '<enc>_<mac>' or '<enc>'; returns (enc, bits, aead, mac)."""
    for tok, enc, bits, aead in ENC:
        if rest == tok or rest.startswith(tok + "_"):
            tail = rest[len(tok) + 1:]
            if tail.startswith("CNT_"):
                tail = tail[4:]
            if tail not in MAC:
                raise ValueError("mac " + tail)
            return enc, bits, aead, "AEAD" if aead else MAC[tail]
    raise ValueError("enc " + rest)


def parse(name):
    """Return a dict of properties for one IANA (or vendor) suite name."""
    p = {"export": "EXPORT" in name, "tls13": False}
    base = re.sub(r"^(TLS|SSL)_", "", name)
    if name in SCSV:
        p.update(kx="SCSV", auth="SCSV", enc="NONE", bits=0, aead=False, mac="NONE")
        return p
    if "_WITH_" in base:
        kx, rest = base.split("_WITH_", 1)
        kx = re.sub(r"_EXPORT(1024)?", "", kx)
        p["kx"], p["auth"] = KX[kx]
    elif re.match(r"(AES|CHACHA20|SM4)_", base):
        # TLS 1.3 suites: kx and auth are negotiated separately (RFC 8446 B.4).
        p.update(kx="any", auth="any", tls13=True)
        rest = base
    elif base in ("SHA256_SHA256", "SHA384_SHA384"):
        # RFC 9150 integrity-only TLS 1.3 suites.
        p.update(kx="any", auth="any", tls13=True, enc="NULL", bits=0, aead=False,
                 mac=base.split("_")[0])
        return p
    else:
        kx, rest = base.split("_", 1)
        p["kx"], p["auth"] = KX[kx]
    p["enc"], p["bits"], p["aead"], p["mac"] = split_enc(rest)
    return p


def classify(p):
    """Strength class, documented in tls_ciphers.h."""
    p["pfs"] = False
    if p["kx"] == "SCSV":
        return "TLS_CS_SIGNAL"
    ephemeral = p["kx"] in ("DHE", "ECDHE", "any", "ECCPWD", "ECJPAKE", "SRP") or \
        (p["kx"] == "GOST" and p["enc"] != "GOST28147")
    p["pfs"] = ephemeral
    if (p["enc"] in ("NULL", "RC4", "DES", "RC2") or p["auth"] in ("anon", "NULL")
            or p["export"] or p["bits"] < 112):
        return "TLS_CS_INSECURE"
    if (p["enc"] in ("3DES", "IDEA") or p["mac"] in ("MD5", "SHA1") or not ephemeral):
        return "TLS_CS_WEAK"
    if p["aead"] and p["enc"] != "AES-CCM8" and (
            p["tls13"] or (p["kx"] in ("ECDHE", "DHE") and p["auth"] != "SM2")):
        return "TLS_CS_RECOMMENDED"
    return "TLS_CS_ACCEPTABLE"


def main():
    suites = tshark_suites()
    for v, n in openssl_suites().items():
        suites.setdefault(v, n)
    rows = []
    for v in sorted(suites):
        name = suites[v]
        if name.startswith("Reserved") or (v & 0x0f0f == 0x0a0a and v >> 8 == v & 0xff):
            continue  # GREASE: recognised by tls_is_grease()
        p = parse(name)
        cls = classify(p)
        flags = []
        if p["aead"]:
            flags.append("TLS_CS_F_AEAD")
        if p["pfs"]:
            flags.append("TLS_CS_F_PFS")
        if p["export"]:
            flags.append("TLS_CS_F_EXPORT")
        if p["tls13"]:
            flags.append("TLS_CS_F_TLS13")
        rows.append((v, name, p, cls, " | ".join(flags) or "0"))

    out = []
    w = out.append
    w("/* GENERATED FILE, DO NOT EDIT: made by dissectors/gen_tls_ciphers.py from\n"
      " * `tshark -G values` (tls.handshake.ciphersuite) and\n"
      " * `openssl ciphers -V -stdname ALL:COMPLEMENTOFALL:@SECLEVEL=0`.\n"
      " * Regenerate: dissectors/gen_tls_ciphers.py > dissectors/tls_ciphers.c\n"
      " * Rows are sorted by code point for binary search. */\n")
    w('#include "dissectors/tls_ciphers.h"\n\n#include <stdio.h>\n\n')
    w("static const struct tls_cipher tls_cipher_table[] = {\n")
    for v, name, p, cls, flags in rows:
        w('    {0x%04x, "%s", "%s", "%s", "%s", "%s", %d, %s, %s},\n' %
          (v, name, p["kx"], p["auth"], p["enc"], p["mac"], p["bits"], flags, cls))
    w("};\n\n")
    w(TAIL)
    # Format like the rest of the tree so `make lint` passes on the output.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fmt = subprocess.run(["clang-format", "--assume-filename=dissectors/tls_ciphers.c"],
                         input="".join(out), capture_output=True, text=True, check=True,
                         cwd=root)
    sys.stdout.write(fmt.stdout)


TAIL = """#define TLS_CIPHER_COUNT (sizeof(tls_cipher_table) / sizeof(tls_cipher_table[0]))

const struct tls_cipher *tls_cipher_find(uint16_t id)
{
    size_t lo = 0, hi = TLS_CIPHER_COUNT;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (tls_cipher_table[mid].id == id)
            return &tls_cipher_table[mid];
        if (tls_cipher_table[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t tls_cipher_count(void)
{
    return TLS_CIPHER_COUNT;
}

const struct tls_cipher *tls_cipher_at(size_t i)
{
    return i < TLS_CIPHER_COUNT ? &tls_cipher_table[i] : NULL;
}

const char *tls_cipher_name(uint16_t id, char buf[7])
{
    const struct tls_cipher *c = tls_cipher_find(id);

    if (c)
        return c->name;
    snprintf(buf, 7, "0x%04x", id);
    return buf;
}

const char *tls_cipher_strength_name(enum tls_cipher_strength s)
{
    switch (s) {
    case TLS_CS_INSECURE:
        return "insecure";
    case TLS_CS_WEAK:
        return "weak";
    case TLS_CS_ACCEPTABLE:
        return "acceptable";
    case TLS_CS_RECOMMENDED:
        return "recommended";
    case TLS_CS_SIGNAL:
        return "signal";
    case TLS_CS_UNKNOWN:
        break;
    }
    return "unknown";
}
"""

if __name__ == "__main__":
    main()
