#!/usr/bin/python3
"""TLS client on Python's ssl module (OpenSSL underneath) for cases s_client cannot
make: IP options on IPv4, extension headers on IPv6 (both set on the TCP socket,
so the kernel puts them on every packet the client sends).

  pyclient.py HOST PORT --sni NAME --cafile CA [--tls12] [--ip-options HEX]
              [--hopopts HEX] [--dstopts HEX]

Sends "hello vtls\n", prints the reply, sends close_notify and closes (FIN).
Exits 1 if the handshake, the verification or the exchange fails.
"""
import argparse
import socket
import ssl
import sys

IPV6_HOPOPTS = 54
IPV6_DSTOPTS = 59


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--sni", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--tls12", action="store_true", help="TLS 1.2 only")
    ap.add_argument("--ip-options", help="IPv4 options, hex (IP_OPTIONS)")
    ap.add_argument("--hopopts", help="IPv6 hop-by-hop header, hex (IPV6_HOPOPTS)")
    ap.add_argument("--dstopts", help="IPv6 destination options header, hex (IPV6_DSTOPTS)")
    args = ap.parse_args()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    raw = socket.socket(family, socket.SOCK_STREAM)
    if args.ip_options:
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes.fromhex(args.ip_options))
    if args.hopopts:
        raw.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, bytes.fromhex(args.hopopts))
    if args.dstopts:
        raw.setsockopt(socket.IPPROTO_IPV6, IPV6_DSTOPTS, bytes.fromhex(args.dstopts))
    raw.settimeout(10)
    raw.connect((args.host, args.port))

    ctx = ssl.create_default_context(cafile=args.cafile)
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    conn = ctx.wrap_socket(raw, server_hostname=args.sni)
    print("version", conn.version(), "cipher", conn.cipher()[0])
    conn.sendall(b"hello vtls\n")
    reply = conn.recv(100)
    print("reply", reply.decode(errors="replace").strip())
    sock = conn.unwrap()
    sock.close()
    return 0 if reply.strip() == b"sltv olleh" else 1


if __name__ == "__main__":
    sys.exit(main())
