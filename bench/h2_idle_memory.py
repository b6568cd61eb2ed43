#!/usr/bin/env python3
"""Idle HTTP/2 connection memory: opens N h2c connections to PORT, sends one GET /hello on each (raw preface,
SETTINGS and one HEADERS frame), reads the answers, keeps them open, and prints the RSS growth of process PID per
connection. Used for bench/reports/2026-12-07-h2-s14.md:

    python3 bench/h2_idle_memory.py 18483 2000 $(pgrep -f "meshgate run")
"""
import socket, struct, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
pid = int(sys.argv[3])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
def frame(t, f, sid, p): return struct.pack(">I", len(p))[1:] + bytes([t, f]) + struct.pack(">I", sid) + p
path=b"/hello"; auth=b"127.0.0.1"
block = b"\x82\x86" + b"\x04" + bytes([len(path)]) + path + b"\x01" + bytes([len(auth)]) + auth
req = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4,0,0,b"") + frame(1,5,1,block)
base = rss(); socks=[]
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); socks.append(s)
    if i % 100 == 99: time.sleep(0.05)
time.sleep(1)
for s in socks:
    s.setblocking(False)
    try:
        while s.recv(65536): pass
    except BlockingIOError: pass
time.sleep(1)
after = rss()
print(f"{n} h2c connections after one stream each: RSS {base} -> {after} KiB, {(after-base)*1024/n:.0f} B per connection")
