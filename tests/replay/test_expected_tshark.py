#!/usr/bin/python3
"""Check every pcaps/expected/*.json against tshark's reading of its capture.

Run by ctest as:  test_expected_tshark.py --sensor PATH --pcaps DIR
(--sensor is ignored: this test proves the expected files right without the
sensor). For each capture it runs `tshark -T pdml` (with decode-as TLS for the
non-standard server ports of TLS flows) and compares:
  - the TCP flows: client/server address and port (client = sender of the SYN;
    for midstream flows only the address pair), cross-checked with
    `tshark -q -z conv,tcp`; how each flow ended (rst/fin/null); tunnel and VLAN
    encapsulation;
  - TLS where the handshake is visible: version, cipher (IANA name), SNI, ALPN
    (the server's choice in TLS 1.2, the client's offer in TLS 1.3 where the
    choice is encrypted), resumption, client certificate, plaintext alerts;
  - IP fragment counts where the expected file gives them;
  - the server certificate where visible: subject and issuer CN, notAfter, key
    type and size, signature algorithm, self-signed, SNI match.
Standard library only. Exits 1 with a diff on any mismatch.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

TLS_VERSIONS = {
    "0x0300": "SSL 3.0", "0x0301": "TLS 1.0", "0x0302": "TLS 1.1",
    "0x0303": "TLS 1.2", "0x0304": "TLS 1.3",
}
ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
    116: "certificate_required", 120: "no_application_protocol",
}
SIG_ALGS = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
}
EC_CURVE_BITS = {
    "1.2.840.10045.3.1.7": 256, "1.3.132.0.34": 384, "1.3.132.0.35": 521,
}
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
# Expected tunnel kind -> what must appear in frame.protocols (":"-joined).
TUNNEL_PROTOS = {
    "vxlan": "udp:vxlan:eth", "geneve": "udp:geneve:eth", "gre": "gre:ip",
    "gretap": "gre:eth", "erspan2": "gre:erspan:eth", "erspan3": "gre:erspan:eth",
    "ipip": "ip:ip", "sit": "ip:ipv6", "ip6tnl": "ipv6:ip", "ip6gre": "ipv6:gre",
    "vlan": "vlan", "qinq": "ieee8021ad:ethertype:vlan",
}


def fields(elem, name):
    """All descendant <field> elements called name, in document order."""
    return [f for f in elem.iter("field") if f.get("name") == name]


def first_show(elem, name):
    for f in elem.iter("field"):
        if f.get("name") == name:
            return f.get("show")
    return None


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.client = None  # (addr, port) of the SYN sender
        self.first = None   # (src, sport, dst, dport) of the first packet
        self.syn = False
        self.fin = False
        self.rst = False
        self.protos = set()
        self.vlans = None
        self.hs = []        # (direction, handshake element); direction "c2s"/"s2c"/"?"
        self.alerts = []    # (direction, level, desc)
        self.tls_records = 0


def packet_endpoints(pkt):
    """Innermost IP addresses and the TCP ports of one PDML packet."""
    src = dst = None
    for proto in pkt.findall("proto"):
        name = proto.get("name")
        if name == "ip":
            src, dst = first_show(proto, "ip.src"), first_show(proto, "ip.dst")
        elif name == "ipv6":
            src, dst = first_show(proto, "ipv6.src"), first_show(proto, "ipv6.dst")
        elif name in ("icmp", "icmpv6"):
            return None
        elif name == "tcp":
            return (src, int(first_show(proto, "tcp.srcport")), dst,
                    int(first_show(proto, "tcp.dstport")), proto)
    return None


def read_streams(pcap, tls_ports):
    cmd = ["tshark", "-r", pcap, "-T", "pdml", "-o", "tcp.analyze_sequence_numbers:TRUE",
           "-o", "tcp.reassemble_out_of_order:TRUE"]
    for port in sorted(tls_ports):
        cmd += ["-d", "tcp.port==%d,tls" % port]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    streams = {}
    for pkt in ET.fromstring(out).iter("packet"):
        ep = packet_endpoints(pkt)
        if ep is None:
            continue
        src, sport, dst, dport, tcp = ep
        sid = int(first_show(tcp, "tcp.stream"))
        st = streams.setdefault(sid, Stream(sid))
        if st.first is None:
            st.first = (src, sport, dst, dport)
        flags = int(first_show(tcp, "tcp.flags"), 16)
        if flags & 0x02 and not flags & 0x10 and st.client is None:
            st.client = (src, sport)
            st.syn = True
        st.fin |= bool(flags & 0x01)
        st.rst |= bool(flags & 0x04)
        protos = first_show(pkt, "frame.protocols") or ""
        st.protos.add(protos)
        vids = [int(f.get("show")) for f in pkt.iter("field")
                if f.get("name") in ("vlan.id", "ieee8021ad.id")]
        if st.vlans is None:
            st.vlans = vids
        direction = "?"
        if st.client is not None:
            direction = "c2s" if (src, sport) == st.client else "s2c"
        for rec in fields(pkt, "tls.record"):
            st.tls_records += 1
        for hs in fields(pkt, "tls.handshake"):
            if first_show(hs, "tls.handshake.type") is not None:
                st.hs.append((direction, hs))
        for al in fields(pkt, "tls.alert_message"):
            level = first_show(al, "tls.alert_message.level")
            desc = first_show(al, "tls.alert_message.desc")
            if desc is not None:
                st.alerts.append((direction, int(level), int(desc)))
    return streams


def conv_pairs(pcap):
    """Address/port pairs of `tshark -q -z conv,tcp` (unordered)."""
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "conv,tcp"],
                         capture_output=True, check=True, text=True).stdout
    pairs = []
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+<->\s+(\S+)\s", line)
        if not m:
            continue
        a, b = (tuple(x.rsplit(":", 1)) for x in m.groups())
        pairs.append(frozenset([(a[0], int(a[1])), (b[0], int(b[1]))]))
    return pairs


def stream_orientation(st):
    """(client, cport, server, sport) for a stream, or None for midstream."""
    if st.client is None:
        return None
    src, sport, dst, dport = st.first
    if (src, sport) == st.client:
        return (src, sport, dst, dport)
    return (dst, dport, src, sport)


def flow_matches(flow, st):
    o = stream_orientation(st)
    if o is None:
        src, sport, dst, dport = st.first
        ends = {(src, sport), (dst, dport)}
        want = {flow["server"], flow["client"]}
        if {a for a, _ in ends} != want:
            return False
        return any(a == flow["server"] and p == flow["server_port"] for a, p in ends)
    client, cport, server, sport = o
    if (client, server, sport) != (flow["client"], flow["server"], flow["server_port"]):
        return False
    return flow["client_port"] is None or flow["client_port"] == cport


class Checker:
    def __init__(self):
        self.errors = []
        self.checked = 0

    def eq(self, where, what, want, got):
        self.checked += 1
        if want != got:
            self.errors.append("%s: %s: expected %r, tshark says %r" % (where, what, want, got))


def cert_names(cert_elem, which):
    """CN of the issuer or subject of one certificate element."""
    node = None
    for f in cert_elem.iter("field"):
        if f.get("name") == "x509af." + which:
            node = f
            break
    if node is None:
        return None, None
    cn = None
    for rdn in fields(node, "x509if.RelativeDistinguishedName_item_element"):
        if first_show(rdn, "x509if.oid") == "2.5.4.3":
            for f in rdn.iter("field"):
                name = f.get("name", "")
                if name.startswith("x509sat.") and name != "x509sat.DirectoryString":
                    cn = f.get("show")
    return cn, node.get("value")


def cert_facts(cert_elem):
    facts = {}
    signed = fields(cert_elem, "x509af.signedCertificate_element")[0]
    facts["subject_cn"], subj_raw = cert_names(signed, "subject")
    facts["issuer_cn"], iss_raw = cert_names(signed, "issuer")
    facts["self_signed"] = subj_raw == iss_raw
    na = fields(signed, "x509af.notAfter")[0]
    t = None
    for f in na.iter("field"):
        if f.get("name") in ("x509af.utcTime", "x509af.generalizedTime"):
            t = f.get("show")
    m = re.match(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", t or "")
    facts["not_after"] = "%s-%s-%sT%s:%s:%sZ" % m.groups() if m else t
    sig = fields(signed, "x509af.signature_element")[0]
    oid = first_show(sig, "x509af.algorithm.id")
    facts["sig_alg"] = SIG_ALGS.get(oid, oid)
    spki = fields(signed, "x509af.subjectPublicKeyInfo_element")[0]
    kalg = first_show(spki, "x509af.algorithm.id")
    if kalg == "1.2.840.113549.1.1.1":
        facts["key_type"] = "RSA"
        mod = fields(spki, "pkcs1.modulus")[0]
        size = int(mod.get("size"))
        raw = mod.get("value", "")
        if raw.startswith("00"):
            size -= 1
        facts["key_bits"] = size * 8
    elif kalg == "1.2.840.10045.2.1":
        facts["key_type"] = "EC"
        curve = None
        for f in spki.iter("field"):
            if f.get("show") in EC_CURVE_BITS:
                curve = f.get("show")
        facts["key_bits"] = EC_CURVE_BITS.get(curve)
    else:
        facts["key_type"] = kalg
    facts["dns_names"] = [f.get("show") for f in fields(signed, "x509ce.dNSName")]
    return facts


def name_matches(sni, names):
    sni = sni.lower()
    for n in names:
        n = (n or "").lower()
        if n == sni:
            return True
        if n.startswith("*.") and "." in sni and sni.split(".", 1)[1] == n[2:]:
            return True
    return False


def hs_of(st, htype, direction=None):
    return [h for d, h in st.hs
            if first_show(h, "tls.handshake.type") == str(htype)
            and (direction is None or d == direction)]


def check_tls(ck, where, flow, st):
    want = flow.get("tls")
    if not want:
        return
    shs = hs_of(st, 2)
    chs = hs_of(st, 1)
    if flow.get("midstream") or not chs:
        print("  %s: TLS handshake not in capture, TLS fields not checked" % where)
        return
    ch = chs[-1]
    ck.eq(where, "tls.sni", want.get("sni"),
          first_show(ch, "tls.handshake.extensions_server_name"))
    if not shs:
        ck.eq(where, "tls.version", want.get("version"), None)
        return
    sh = shs[-1]
    ver = first_show(sh, "tls.handshake.extensions.supported_version")
    ver = ver or first_show(sh, "tls.handshake.version")
    version = TLS_VERSIONS.get(ver, ver)
    ck.eq(where, "tls.version", want.get("version"), version)
    cs = fields(sh, "tls.handshake.ciphersuite")[0].get("showname", "")
    m = re.match(r"Cipher Suite: (\S+) \(0x", cs)
    ck.eq(where, "tls.cipher", want.get("cipher"), m.group(1) if m else cs)
    if version == "TLS 1.3":
        offered = [f.get("show") for f in fields(ch, "tls.handshake.extensions_alpn_str")]
        if want.get("alpn") is not None:
            ck.eq(where, "tls.alpn (offered by client)", True, want["alpn"] in offered)
        psk = [f for f in fields(sh, "tls.handshake.extension.type") if f.get("show") == "41"]
        ck.eq(where, "tls.resumed", want.get("resumed", False), bool(psk))
        if "hello_retry" in want:
            hrr = [h for h in shs if (first_show(h, "tls.handshake.random") or "")
                   .replace(":", "") == HRR_RANDOM]
            ck.eq(where, "tls.hello_retry", want["hello_retry"], bool(hrr))
    else:
        alpn = first_show(sh, "tls.handshake.extensions_alpn_str")
        ck.eq(where, "tls.alpn", want.get("alpn"), alpn)
        full = bool(hs_of(st, 11, "s2c") or hs_of(st, 12, "s2c"))
        ck.eq(where, "tls.resumed", want.get("resumed", False), not full)
        check_client_cert(ck, where, want, st)
    check_alert(ck, where, want, st)
    check_cert(ck, where, want, st)


def check_client_cert(ck, where, want, st):
    expect = want.get("client_cert")
    if expect in (None, "not-observable"):
        return
    if not hs_of(st, 13, "s2c"):
        got = "not-requested"
    else:
        ccert = hs_of(st, 11, "c2s")
        length = first_show(ccert[0], "tls.handshake.certificates_length") if ccert else None
        got = "presented" if length not in (None, "0") else "requested-none"
    ck.eq(where, "tls.client_cert", expect, got)
    if got == "presented" and "client_cert_subject_cn" in want:
        facts = cert_facts(fields(hs_of(st, 11, "c2s")[0], "tls.handshake.certificate")[0])
        ck.eq(where, "tls.client_cert_subject_cn", want["client_cert_subject_cn"],
              facts["subject_cn"])
        if "client_cert_not_after" in want:
            ck.eq(where, "tls.client_cert_not_after", want["client_cert_not_after"],
                  facts["not_after"])


def check_alert(ck, where, want, st):
    fatal = [ALERTS.get(desc, str(desc)) for _, level, desc in st.alerts if level == 2]
    expect = want.get("alert")
    if expect is None:
        ck.eq(where, "tls.alert (plaintext fatal alerts)", [], fatal)
    elif fatal:
        ck.eq(where, "tls.alert", expect, fatal[0])
    else:
        print("  %s: alert %s is encrypted, not checked" % (where, expect))


def check_cert(ck, where, want, st):
    if "cert" in want and want["cert"] is None:
        ck.eq(where, "no server Certificate message (cert null)", 0, len(hs_of(st, 11, "s2c")))
        return
    cert = want.get("cert")
    if not cert or not cert.get("observable"):
        return
    msgs = hs_of(st, 11, "s2c")
    if not msgs:
        ck.eq(where, "cert.observable", True, False)
        return
    leafs = fields(msgs[0], "tls.handshake.certificate")
    if not leafs:
        ck.eq(where, "cert.observable (certificate list empty)", True, False)
        return
    got = cert_facts(leafs[0])
    for key in ("subject_cn", "issuer_cn", "not_after", "key_type", "key_bits", "sig_alg",
                "self_signed"):
        if key in cert:
            ck.eq(where, "cert." + key, cert[key], got[key])
    sni = want.get("sni")
    if "sni_match" in cert and sni:
        names = got["dns_names"] or [got["subject_cn"]]
        ck.eq(where, "cert.sni_match", cert["sni_match"], name_matches(sni, names))


def check_encap(ck, where, flow, st):
    tunnel = flow.get("tunnel")
    if tunnel:
        token = TUNNEL_PROTOS.get(tunnel, tunnel)
        ok = all(token in p for p in st.protos)
        ck.eq(where, "tunnel %s (%s in every frame)" % (tunnel, token), True, ok)
    ck.eq(where, "vlan", flow.get("vlan"), st.vlans or None)


def check_end(ck, where, flow, st):
    got = "rst" if st.rst else ("fin" if st.fin else None)
    ck.eq(where, "end", flow.get("end"), got)


# ---------------------------------------------------------------------------------
# Application checks (MySQL greeting/login, HTTP/2 gRPC :path, HTTP/1.1 paths,
# ZooKeeper ConnectRequest), for
# the expected files of gen/mysql-*.sh, gen/grpc-*.sh, gen/etcd-*.sh, gen/zk-*.sh and
# gen/demo-cluster.sh, which add "mysql", "grpc", "http" and "zk" objects to flows.
# Read with `tshark -T fields` (decode-as on the flows' server ports), joined to the
# flows above by tcp.stream.

APP_SEP = "\x1e"
_APP_CACHE = {}


def app_fields(pcap, decode, display, names):
    """Rows of tshark fields (lists split on APP_SEP) for packets matching display."""
    key = (pcap, tuple(decode), display, tuple(names))
    if key in _APP_CACHE:
        return _APP_CACHE[key]
    cmd = ["tshark", "-r", pcap, "-Y", display, "-T", "fields", "-E", "aggregator=" + APP_SEP,
           "-E", "occurrence=a"]
    for port, proto in decode:
        cmd += ["-d", "tcp.port==%d,%s" % (port, proto)]
    for n in names:
        cmd += ["-e", n]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    rows = []
    for line in out.split("\n"):  # not splitlines(): it also splits on APP_SEP
        if not line:
            continue
        cols = [c.split(APP_SEP) if c else [] for c in line.split("\t")]
        rows.append((cols + [[]] * len(names))[:len(names)])
    _APP_CACHE[key] = rows
    return rows


def mysql_facts(pcap, port, sid):
    """Greeting and login facts of one MySQL stream as tshark reads them."""
    rows = app_fields(pcap, [(port, "mysql")], "mysql",
                      ["tcp.stream", "tcp.srcport", "mysql.version", "mysql.caps.server",
                       "mysql.caps.client", "mysql.user", "mysql.client_auth_plugin",
                       "mysql.auth_switch_request.name"])
    facts = {}
    for stream, sport, version, scaps, ccaps, user, plugin, switch in rows:
        if not stream or int(stream[0]) != sid:
            continue
        from_server = int(sport[0]) == port
        if from_server and switch and "auth_switch" not in facts:
            facts["auth_switch"] = switch[0]
        if from_server and version and "server_version" not in facts:
            facts["server_version"] = version[0]
            facts["server_ssl"] = bool(int(scaps[0], 16) & 0x0800) if scaps else None
        if not from_server and ccaps and "client_ssl" not in facts:
            facts["client_ssl"] = bool(int(ccaps[0], 16) & 0x0800)
            facts["user"] = user[0] if user else None
            if plugin:
                facts["auth_plugin"] = plugin[0]
    return facts


def check_mysql(ck, where, want, pcap, port, sid):
    got = mysql_facts(pcap, port, sid)
    for key in ("server_version", "server_ssl", "client_ssl", "user", "auth_plugin",
                "auth_switch"):
        if key in want and (key != "auth_plugin" or want[key] is not None):
            ck.eq(where, "mysql." + key, want[key], got.get(key))
    if "downgrade" in want:
        down = bool(got.get("server_ssl")) and got.get("client_ssl") is False
        ck.eq(where, "mysql.downgrade", want["downgrade"], down)


def h2_paths(pcap, port, sid):
    """:path values of one h2c stream in order of first use ("" when not decodable)."""
    rows = app_fields(pcap, [(port, "http2")], "http2.type == 1",
                      ["tcp.stream", "http2.header.name", "http2.header.value"])
    paths = []
    for stream, hnames, hvalues in rows:
        if not stream or int(stream[0]) != sid or len(hnames) != len(hvalues):
            continue
        for n, v in zip(hnames, hvalues):
            if n == ":path" and v and v not in paths:
                paths.append(v)
    return paths


def http1_paths(pcap, port, sid):
    rows = app_fields(pcap, [(port, "http")], "http.request",
                      ["tcp.stream", "http.request.uri"])
    paths = []
    for stream, uris in rows:
        if stream and int(stream[0]) == sid:
            for u in uris:
                if u not in paths:
                    paths.append(u)
    return paths


def zk_connect(pcap, port, sid):
    """(protocolVersion, timeout) of the ConnectRequest opening one ZooKeeper stream,
    read from the raw payload (tshark 4.0 has no ZooKeeper dissector)."""
    rows = app_fields(pcap, [], "tcp.len > 0 && tcp.dstport == %d" % port,
                      ["tcp.stream", "tcp.payload"])
    for stream, payload in rows:
        if stream and int(stream[0]) == sid and payload:
            b = bytes.fromhex(payload[0].replace(":", ""))
            if len(b) >= 20 and int.from_bytes(b[0:4], "big") in (44, 45):
                return (int.from_bytes(b[4:8], "big", signed=True),
                        int.from_bytes(b[16:20], "big", signed=True))
            return None
    return None


def check_app(ck, where, flow, st, pcap):
    port = flow["server_port"]
    if flow.get("mysql") and not flow.get("midstream"):
        check_mysql(ck, where, flow["mysql"], pcap, port, st.sid)
    grpc = flow.get("grpc")
    if grpc is not None and "paths" in grpc:
        if flow.get("encrypted"):
            print("  %s: gRPC paths are encrypted, not checked" % where)
        else:
            ck.eq(where, "grpc.paths", grpc["paths"], h2_paths(pcap, port, st.sid))
    zk = flow.get("zk")
    if zk and not flow.get("midstream") and not flow.get("encrypted"):
        got = zk_connect(pcap, port, st.sid)
        ck.eq(where, "zk ConnectRequest (protocol_version, session_timeout_ms)",
              (zk.get("protocol_version"), zk.get("session_timeout_ms")), got)
    http = flow.get("http")
    if http is not None and "paths" in http and not flow.get("encrypted"):
        ck.eq(where, "http.paths", http["paths"], http1_paths(pcap, port, st.sid))


def check_fragments(ck, name, pcap, exp):
    """ipv4_fragments / ipv6_fragments: frames that are IP fragments (not reassembled)."""
    if "ipv4_fragments" not in exp and "ipv6_fragments" not in exp:
        return
    out = subprocess.run(["tshark", "-r", pcap, "-o", "ip.defragment:FALSE",
                          "-o", "ipv6.defragment:FALSE", "-T", "fields", "-e", "ip.flags.mf",
                          "-e", "ip.frag_offset", "-e", "ipv6.fraghdr.offset"],
                         capture_output=True, check=True, text=True).stdout
    v4 = v6 = 0
    for line in out.splitlines():
        mf, off, off6 = (line.split("\t") + ["", "", ""])[:3]
        if mf == "1" or off not in ("", "0"):
            v4 += 1
        if off6 != "":
            v6 += 1
    if "ipv4_fragments" in exp:
        ck.eq(name, "ipv4_fragments", exp["ipv4_fragments"], v4)
    if "ipv6_fragments" in exp:
        ck.eq(name, "ipv6_fragments", exp["ipv6_fragments"], v6)


def check_capture(path, pcap_dir, ck):
    with open(path, encoding="utf-8") as f:
        exp = json.load(f)
    pcap = os.path.join(pcap_dir, exp["capture"])
    name = exp["capture"]
    if not os.path.exists(pcap):
        ck.errors.append("%s: capture %s missing" % (os.path.basename(path), pcap))
        return
    flows = [fl for fl in exp["flows"] if fl.get("proto", "TCP") == "TCP"]
    tls_ports = {fl["server_port"] for fl in flows
                 if fl.get("app") == "tls" and fl["server_port"] != 443}
    streams = read_streams(pcap, tls_ports)
    check_fragments(ck, name, pcap, exp)
    ck.eq(name, "number of TCP flows", len(flows), len(streams))
    pairs = conv_pairs(pcap)
    stream_pairs = sorted(frozenset([(s.first[0], s.first[1]), (s.first[2], s.first[3])])
                          for s in streams.values())
    ck.eq(name, "conv,tcp pairs", sorted(set(pairs), key=sorted),
          sorted(set(stream_pairs), key=sorted))
    free = dict(streams)
    for i, flow in enumerate(flows):
        where = "%s flow %d (%s -> %s:%s)" % (name, i, flow["client"], flow["server"],
                                             flow["server_port"])
        match = next((s for s in free.values() if flow_matches(flow, s)), None)
        if match is None:
            seen = [stream_orientation(s) or ("midstream",) + s.first for s in streams.values()]
            ck.errors.append("%s: no such flow in capture; tshark flows: %s" % (where, seen))
            continue
        del free[match.sid]
        ck.checked += 1
        ck.eq(where, "midstream (no SYN)", bool(flow.get("midstream")), not match.syn)
        check_end(ck, where, flow, match)
        check_encap(ck, where, flow, match)
        if flow.get("app") == "tls" and not flow.get("midstream"):
            ck.eq(where, "TLS records seen", True, match.tls_records > 0)
        check_tls(ck, where, flow, match)
        check_app(ck, where, flow, match, pcap)  # application section above
    print("%-28s %d flows" % (name, len(flows)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensor", help="ignored")
    ap.add_argument("--pcaps", required=True, help="the pcaps/ directory")
    ap.add_argument("only", nargs="*", help="limit to these expected/*.json names")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.pcaps, "expected", "*.json")))
    if args.only:
        files = [f for f in files if os.path.basename(f)[:-5] in args.only]
    if not files:
        print("no expected files in %s/expected" % args.pcaps)
        return 1
    ck = Checker()
    for path in files:
        check_capture(path, args.pcaps, ck)
    print("checked %d expected files, %d comparisons, %d mismatches"
          % (len(files), ck.checked, len(ck.errors)))
    for e in ck.errors:
        print("MISMATCH " + e)
    return 1 if ck.errors else 0


if __name__ == "__main__":
    sys.exit(main())
