#!/usr/bin/python3
"""A Vitess-shaped gRPC server and client for the capture scripts (python3-grpcio).

No generated code: generic handlers with opaque byte payloads, so the paths on the wire
are exactly the Vitess ones while the messages are just a few protobuf-looking bytes.

  grpc_vitess.py serve --port P [--services S,...] [--cert C --key K [--client-ca CA]
      [--optional-tls]]
  grpc_vitess.py call --target HOST:PORT --paths /pkg.Svc/M,... [--ca CA
      [--cert C --key K] [--name SERVER_NAME]] [--repeat N] [--interval S]

serve: --services names the gRPC services to register (default: all of SERVICES);
  TLS with --cert/--key; with --client-ca the server requires a client certificate
  signed by that CA. --optional-tls accepts TLS and plaintext on the one port, as Vitess's
  --grpc-enable-optional-tls does: a small splicer on the port peeks at the first byte of
  each connection (0x16, a TLS handshake record, or not) and relays it over loopback to a
  TLS or a plaintext gRPC server (invisible on the captured interface). Runs until
  SIGTERM/SIGINT.
call: one channel (one TCP connection), calling each path in order, the whole list
  --repeat times (0 = until SIGTERM) with --interval seconds between rounds. With
  --ca the channel is TLS, verifying the server against CA and, with --name, the
  name the client dials (sent as SNI). Prints one line per call.
Exit status 0 when every call succeeded.
"""
import argparse
import signal
import socket
import sys
import threading
import time

import grpc

# service -> {method: kind}; "unary" or "stream" (server streaming).
SERVICES = {
    "vtgateservice.Vitess": {"Execute": "unary"},
    "queryservice.Query": {"Execute": "unary", "StreamHealth": "stream"},
    "tabletmanagerservice.TabletManager": {"Ping": "unary"},
    "vtctlservice.Vtctld": {"GetKeyspaces": "unary"},
}
STREAM_MESSAGES = 3
STREAM_GAP = 0.05


def reply_for(path, request):
    """A small opaque reply naming the path (protobuf field 1, length-delimited)."""
    body = ("ok " + path).encode() + b" " + request[:16]
    return b"\x0a" + bytes([len(body)]) + body


def make_handler(service, methods):
    handlers = {}
    for method, kind in methods.items():
        path = "/%s/%s" % (service, method)
        if kind == "unary":
            def unary(request, context, path=path):
                return reply_for(path, request)
            handlers[method] = grpc.unary_unary_rpc_method_handler(unary)
        else:
            def stream(request, context, path=path):
                for i in range(STREAM_MESSAGES):
                    yield reply_for(path, request + bytes([0x10, i]))
                    time.sleep(STREAM_GAP)
            handlers[method] = grpc.unary_stream_rpc_method_handler(stream)
    return grpc.method_handlers_generic_handler(service, handlers)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pump(src, dst):
    """Copy src to dst until EOF, then half-close dst (so FINs pass through)."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def splice(conn, tls_port, plain_port):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    first = conn.recv(1, socket.MSG_PEEK)
    if not first:
        conn.close()
        return
    port = tls_port if first[0] == 0x16 else plain_port
    back = socket.create_connection(("127.0.0.1", port))
    back.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(back, conn), daemon=True)
    t.start()
    pump(conn, back)
    t.join()
    conn.close()
    back.close()


def optional_tls_listener(port, tls_port, plain_port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)

    def loop():
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=splice, args=(conn, tls_port, plain_port),
                             daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def serve(args):
    names = args.services.split(",") if args.services else list(SERVICES)
    for name in names:
        if name not in SERVICES:
            sys.exit("unknown service %s" % name)
    from concurrent import futures
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers([make_handler(n, SERVICES[n]) for n in names])
    addr = "0.0.0.0:%d" % args.port
    if args.optional_tls:
        if not args.cert:
            sys.exit("--optional-tls needs --cert and --key")
        plain_port = server.add_insecure_port("127.0.0.1:0")
        addr = "127.0.0.1:0"
    if args.cert:
        creds = grpc.ssl_server_credentials(
            [(read(args.key), read(args.cert))],
            root_certificates=read(args.client_ca) if args.client_ca else None,
            require_client_auth=bool(args.client_ca))
        bound = server.add_secure_port(addr, creds)
    else:
        server.add_insecure_port(addr)
    server.start()
    if args.optional_tls:
        optional_tls_listener(args.port, bound, plain_port)
    print("serving %s on port %d tls=%s mtls=%s optional=%s"
          % (",".join(names), args.port, bool(args.cert), bool(args.client_ca),
             bool(args.optional_tls)), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(0.5).wait()
    return 0


def channel_for(args):
    if not args.ca:
        return grpc.insecure_channel(args.target)
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key) if args.key else None,
        certificate_chain=read(args.cert) if args.cert else None)
    options = []
    if args.name:
        options.append(("grpc.ssl_target_name_override", args.name))
    return grpc.secure_channel(args.target, creds, options=options)


def call_once(channel, path, serial):
    service, method = path.strip("/").split("/")
    kind = SERVICES.get(service, {}).get(method, "unary")
    request = b"\x0a\x08select 1" + bytes([0x10, serial & 0x7F])
    if kind == "stream":
        replies = list(channel.unary_stream(path)(request, timeout=10))
        return len(replies)
    channel.unary_unary(path)(request, timeout=10)
    return 1


def call(args):
    paths = [p for p in args.paths.split(",") if p]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    channel = channel_for(args)
    grpc.channel_ready_future(channel).result(timeout=10)
    rounds = 0
    while not stop.is_set():
        for path in paths:
            n = call_once(channel, path, rounds)
            print("%s -> %d message(s)" % (path, n), flush=True)
        rounds += 1
        if args.repeat and rounds >= args.repeat:
            break
        stop.wait(args.interval)
    channel.close()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--services", default="")
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--client-ca")
    s.add_argument("--optional-tls", action="store_true")
    c = sub.add_parser("call")
    c.add_argument("--target", required=True)
    c.add_argument("--paths", required=True)
    c.add_argument("--ca")
    c.add_argument("--cert")
    c.add_argument("--key")
    c.add_argument("--name")
    c.add_argument("--repeat", type=int, default=1)
    c.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    return serve(args) if args.cmd == "serve" else call(args)


if __name__ == "__main__":
    sys.exit(main())
