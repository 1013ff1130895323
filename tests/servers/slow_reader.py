#!/usr/bin/env python3
"""A receiver that pauses before reading, with a small receive buffer, so
its window fills and stays shut.

    python3 slow_reader.py PORT PAUSE [RCVBUF]

Accepts one connection on 127.0.0.1:PORT, sleeps PAUSE seconds, then reads
until the peer closes and prints `bytes=N sha256=HEX drain=S` (S: seconds
from starting to read to the last byte, for benches timing how soon the
sender resumes when the window opens).
"""
import hashlib
import socket
import sys
import time

port = int(sys.argv[1])
pause = float(sys.argv[2])
rcvbuf = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# Set before listen(): the accepted socket inherits it (and its window).
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.bind(("127.0.0.1", port))
s.listen(1)
conn, _ = s.accept()
time.sleep(pause)
read_at = time.monotonic()
last_at = read_at
h = hashlib.sha256()
total = 0
while True:
    b = conn.recv(65536)
    if not b:
        break
    last_at = time.monotonic()
    h.update(b)
    total += len(b)
drain = last_at - read_at
print(f"bytes={total} sha256={h.hexdigest()} drain={drain:.6f}", flush=True)
conn.close()
