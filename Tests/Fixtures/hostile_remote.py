#!/usr/bin/env python3
"""A remote cache on 127.0.0.1 that answers in one hostile or careless way, for RemoteInputTests.

usage: hostile_remote.py MODE PORT_FILE LOG_FILE

It listens on a free loopback port, writes the port to PORT_FILE, and appends one line per request
to LOG_FILE: the method, the path and the Authorization header ("-" when none). Modes:

  negative-length  every GET answers Content-Length: -1
  huge-chunk       every GET answers a chunk of size 7ffffffffffffff0
  huge-body        every GET declares 2 GiB and sends zeros until the client goes
  endless-chunks   every GET sends 64 KiB chunks until the client goes (no length at all)
  keep-alive       a real store (PUT, HEAD, GET) that keeps every connection open after answering
  dev-zero         a real store, except that every manifest names /dev/zero as a header
  corrupt-blob     a real store, except that every blob it sends has its first byte flipped

It stops by itself after 10 minutes.
"""
import socket
import sys
import threading
import time

mode, port_file, log_file = sys.argv[1], sys.argv[2], sys.argv[3]
store = {}
lock = threading.Lock()
DEADLINE = time.monotonic() + 600


def log(method, path, authorization):
    with lock, open(log_file, "a") as out:
        out.write(f"{method} {path} {authorization or '-'}\n")


def read_request(conn, pending):
    """One request: (method, path, headers, body, rest) or None when the client is gone."""
    while b"\r\n\r\n" not in pending:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    head, _, pending = pending.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(pending) < length:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    return method, path, headers, pending[:length], pending[length:]


def send_endless(conn, head, chunked):
    conn.sendall(head)
    block = b"\0" * 65536
    piece = b"10000\r\n" + block + b"\r\n" if chunked else block
    try:
        while time.monotonic() < DEADLINE:
            conn.sendall(piece)
    except OSError:
        pass


def answer(conn, method, path, body):
    """The store's answer, bent by the mode. Returns False to close the connection."""
    if mode == "negative-length" and method == "GET":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nxyz")
        return False
    if mode == "huge-chunk" and method == "GET":
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7ffffffffffffff0\r\nxyz")
        return False
    if mode == "huge-body" and method == "GET":
        send_endless(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n", chunked=False)
        return False
    if mode == "endless-chunks" and method == "GET":
        send_endless(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked=True)
        return False
    status, payload = b"200 OK", b""
    with lock:
        if method == "PUT":
            store[path] = body
            status = b"201 Created"
        elif path in store:
            payload = store[path]
            if mode == "dev-zero" and path.split("/")[-2] == "ac" and payload.startswith(b"swbpf-cache-manifest"):
                payload = b"swbpf-cache-manifest 1\n/dev/zero\n"
            if mode == "corrupt-blob" and path.split("/")[-2] == "cas" and payload:
                payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
        else:
            status = b"404 Not Found"
    sent = b"" if method == "HEAD" else payload
    conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + sent)
    # keep-alive keeps the connection open, as HTTP/1.1 allows; the others close it after answering.
    return mode == "keep-alive"


def serve(conn):
    with conn:
        conn.settimeout(600)
        pending = b""
        while True:
            try:
                request = read_request(conn, pending)
            except OSError:
                return
            if request is None:
                return
            method, path, headers, body, pending = request
            log(method, path, headers.get("authorization"))
            try:
                if not answer(conn, method, path, body):
                    return
            except OSError:
                return


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(1)
    with open(port_file + ".tmp", "w") as out:
        out.write(str(listener.getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    while time.monotonic() < DEADLINE:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
