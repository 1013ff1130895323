#!/usr/bin/env python3
"""A listener with a small MSS, for recipes/segments.craft.

    python3 recipes/servers/small_server.py PORT [--mss N]

Accepts one connection on 127.0.0.1:PORT, reads until the peer closes, and
prints how many bytes it got.
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 1234
mss = int(sys.argv[sys.argv.index("--mss") + 1]) if "--mss" in sys.argv else 1000
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
s.bind(("127.0.0.1", port))
s.listen(1)
conn, _ = s.accept()
total = 0
while True:
    b = conn.recv(65536)
    if not b:
        break
    total += len(b)
print(f"received {total} bytes", flush=True)
conn.close()
