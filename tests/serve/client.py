#!/usr/bin/env python3
"""HTTP clients for the serve tests, good and bad, on plain sockets (no curl needed).

  client.py get PORT PATH OUT [METHOD [ACCEPT]]  prints the status code and the
                                        Content-Type, the body into OUT; ACCEPT: the
                                        Accept header's value
  client.py raw PORT BYTES              sends BYTES (Python escapes: \\r\\n) and prints
                                        the status line of the answer
  client.py flood PORT N                holds N connections that send nothing, then a
                                        GET /metrics must still answer 200; prints it
  client.py slow PORT SECONDS           half a request, then waits: prints how many
                                        seconds until the server closed the connection
                                        (or "open" after SECONDS)
  client.py gone PORT N                 N requests whose client closes before the answer
                                        (the server writes into a closed socket)
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    return s


def read_all(s):
    data = b""
    while True:
        k = s.recv(65536)
        if not k:
            return data
        data += k


def request(port, method, path, accept=None):
    s = connect(port)
    extra = f"Accept: {accept}\r\n" if accept else ""
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: golat-test\r\n{extra}\r\n".encode())
    data = read_all(s)
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode()
    headers = dict(
        (k.strip().lower(), v.strip())
        for k, _, v in (line.decode().partition(":") for line in head.split(b"\r\n")[1:])
    )
    if method != "HEAD" and "content-length" in headers and int(headers["content-length"]) != len(body):
        raise SystemExit(f"FAIL: Content-Length {headers['content-length']}, body {len(body)} bytes")
    return status, headers, body


def main():
    cmd, port = sys.argv[1], sys.argv[2]
    if cmd == "get":
        method = sys.argv[5] if len(sys.argv) > 5 else "GET"
        accept = sys.argv[6] if len(sys.argv) > 6 else None
        status, headers, body = request(port, method, sys.argv[3], accept)
        with open(sys.argv[4], "wb") as f:
            f.write(body)
        print(status.split(" ")[1], headers.get("content-type", ""))
    elif cmd == "raw":
        s = connect(port)
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
        print(read_all(s).split(b"\r\n")[0].decode())
    elif cmd == "flood":
        idle = [connect(port) for _ in range(int(sys.argv[3]))]
        t = time.monotonic()
        status, _, _ = request(port, "GET", "/metrics")
        print(status.split(" ")[1], f"{time.monotonic() - t:.1f}s")
        for s in idle:
            s.close()
    elif cmd == "slow":
        s = connect(port)
        s.sendall(b"GET /metr")
        s.settimeout(float(sys.argv[3]))
        t = time.monotonic()
        try:
            data = s.recv(100)
            print(f"{time.monotonic() - t:.0f}" if not data else f"answered {data[:20]!r}")
        except socket.timeout:
            print("open")
        except ConnectionResetError:
            print(f"{time.monotonic() - t:.0f}")
    elif cmd == "gone":
        for _ in range(int(sys.argv[3])):
            s = connect(port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            s.close()  # with linger 0: a reset, the answer goes nowhere
        print("done")


if __name__ == "__main__":
    main()
