#!/usr/bin/env python3
"""Idle keep-alive memory per connection: meshgate, nginx and HAProxy in one run, on the same origin.

For each proxy (one worker each, started as the harness starts them): N client connections each send one
GET /hello with keep-alive, read the whole response and stay open. The proxy's resident memory (VmRSS of its
process tree) is read before and after; (after - before) / N is the cost of one idle keep-alive connection,
the number a platform team multiplies by pods (issue 17).

    bench/idle-memory.sh                 # 3000 connections (the reference nginx config has 4096 worker_connections)
    bench/idle-memory.sh --connections 2000
"""
import argparse
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the reference harness: process start/stop, configs, run directory)

REQUEST = b"GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n"


def rss_kib(pid):
    """VmRSS of pid and its children, in KiB."""
    total = 0
    for p in bench.tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed before a response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed mid-body")
        body += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())


def measure(name, port, pid, count):
    time.sleep(0.5)
    before = rss_kib(pid)
    conns = []
    try:
        for _ in range(count):
            s = socket.create_connection((bench.HOST, port))
            s.sendall(REQUEST)
            read_response(s)
            conns.append(s)
        time.sleep(1.0)
        after = rss_kib(pid)
    finally:
        for s in conns:
            s.close()
    per = (after - before) * 1024 / count
    print(f"| {name} | {count} | {before / 1024:.1f} | {after / 1024:.1f} | {per:,.0f} |", flush=True)
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=3000)
    ap.add_argument("--meshgate", required=True, help="meshgate binary")
    ap.add_argument("--config", required=True, help="meshgate config listening on 127.0.0.1:18090")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    count = min(args.connections, hard - 200)
    bench.prepare_rundir(keep=False)
    try:
        bench.check_ports_free([bench.UPSTREAM_PORT, 18081, 18082, 18090])
        argv, env = bench.builtin_argv("upstream")
        up = bench.start("upstream", argv, cpus="0", env=env)
        bench.wait_port(bench.UPSTREAM_PORT, up)
        print("| proxy | connections | RSS before MiB | RSS after MiB | bytes per idle connection |")
        print("|---|--:|--:|--:|--:|")
        for name in ("nginx", "haproxy"):
            argv, env = bench.builtin_argv(name)
            p = bench.start(name, argv, cpus="1", env=env)
            bench.wait_port(bench.BUILTIN[name], p)
            measure(name, bench.BUILTIN[name], p.pid, count)
            bench.stop(name, p)
        p = bench.start("meshgate", [args.meshgate, "run", "--config", args.config, "--workers", "1"], cpus="1")
        bench.wait_port(18090, p)
        measure("meshgate", 18090, p.pid, count)
        bench.stop("meshgate", p)
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
