#!/usr/bin/python3
"""Write pcaps/expected/NAME.json from what a capture script configured.

Usage (called by expect_end in lib.sh):
  expected.py OUT.json capture=X.pcap script=gen/x.sh description=... \
      -- KEY=VALUE ... -- KEY=VALUE ...

Top-level KEY=VALUE pairs other than capture, script and description are
converted like flow values (e.g. ip_fragments=6). Each "--" starts one flow. Keys with a dot go into a nested object:
"tls.version=TLS 1.2", "cert.key_bits=2048" (cert.* lands in tls.cert).
Values: null, true, false and integers are converted; "rules" and "vlan" are
comma-separated lists (empty for none). Everything else stays a string.
Defaults (override as needed): proto TCP, app tls, encrypted true, midstream
false, end fin, tunnel null, vlan null, client_port null, components unknown,
rules [].
"""
import json
import sys

FLOW_DEFAULTS = {
    "client": None, "client_port": None, "server": None, "server_port": None,
    "proto": "TCP", "app": "tls", "encrypted": True, "midstream": False,
    "end": "fin", "tunnel": None, "vlan": None,
    "client_component": "unknown", "server_component": "unknown",
}
TLS_DEFAULTS = {
    "version": None, "cipher": None, "sni": None, "alpn": None, "resumed": False,
    "client_cert": "not-requested", "alert": None,
}
LISTS = {"rules", "vlan"}


def convert(key, text):
    if key in LISTS:
        if text in ("", "null") and key == "vlan":
            return None
        items = [t for t in text.split(",") if t]
        return [int(t) if t.isdigit() else t for t in items]
    if text == "null":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if text.lstrip("-").isdigit():
        return int(text)
    return text


def build_flow(pairs):
    flow = dict(FLOW_DEFAULTS)
    tls = None
    cert = None
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            sys.exit("expected.py: bad flow item %r (want KEY=VALUE)" % pair)
        if key.startswith("tls."):
            tls = tls if tls is not None else dict(TLS_DEFAULTS)
            tls[key[4:]] = convert(key[4:], value)
        elif key.startswith("cert."):
            cert = cert if cert is not None else {}
            cert[key[5:]] = convert(key[5:], value)
        else:
            flow[key] = convert(key, value)
    if cert is not None:
        tls = tls if tls is not None else dict(TLS_DEFAULTS)
        tls["cert"] = cert
    if flow["app"] == "tls" and tls is None:
        sys.exit("expected.py: TLS flow without tls.* fields")
    if tls is not None:
        flow["tls"] = tls
    flow.setdefault("rules", [])
    for need in ("client", "server", "server_port"):
        if flow[need] is None:
            sys.exit("expected.py: flow without %s" % need)
    return flow


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[1]
    groups = [[]]
    for item in argv[2:]:
        if item == "--":
            groups.append([])
        else:
            groups[-1].append(item)
    doc = {}
    for pair in groups[0]:
        key, _, value = pair.partition("=")
        doc[key] = value if key in ("capture", "script", "description") else \
            convert(key, value)
    doc["flows"] = [build_flow(g) for g in groups[1:]]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
