#!/usr/bin/python3
"""A Vitess-shaped gRPC server and client for the capture scripts (python3-grpcio).

No generated code: generic handlers with opaque byte payloads, so the paths on the wire
are exactly the Vitess ones while the messages are just a few protobuf-looking bytes.

  grpc_vitess.py serve --port P [--services S,...] [--cert C --key K [--client-ca CA]]
  grpc_vitess.py call --target HOST:PORT --paths /pkg.Svc/M,... [--ca CA
      [--cert C --key K] [--name SERVER_NAME]] [--repeat N] [--interval S]

serve: --services names the gRPC services to register (default: all of SERVICES);
  TLS with --cert/--key; with --client-ca the server requires a client certificate
  signed by that CA. Runs until SIGTERM/SIGINT.
call: one channel (one TCP connection), calling each path in order, the whole list
  --repeat times (0 = until SIGTERM) with --interval seconds between rounds. With
  --ca the channel is TLS, verifying the server against CA and, with --name, the
  name the client dials (sent as SNI). Prints one line per call.
Exit status 0 when every call succeeded.
"""
import argparse
import signal
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


def serve(args):
    names = args.services.split(",") if args.services else list(SERVICES)
    for name in names:
        if name not in SERVICES:
            sys.exit("unknown service %s" % name)
    from concurrent import futures
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers([make_handler(n, SERVICES[n]) for n in names])
    addr = "0.0.0.0:%d" % args.port
    if args.cert:
        creds = grpc.ssl_server_credentials(
            [(read(args.key), read(args.cert))],
            root_certificates=read(args.client_ca) if args.client_ca else None,
            require_client_auth=bool(args.client_ca))
        server.add_secure_port(addr, creds)
    else:
        server.add_insecure_port(addr)
    server.start()
    print("serving %s on %s tls=%s mtls=%s" % (",".join(names), addr, bool(args.cert),
                                                bool(args.client_ca)), flush=True)
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
