"""The toolkit itself: the scripted server does what the edge tests rely on."""

from __future__ import annotations

import itertools
import socket
import zlib

from rawserver import (
    Conn,
    RawServer,
    compressed_pieces,
    head,
    lazy_bytes,
    once,
    response,
    stream_events,
)


def test_lazy_bytes_is_lazy_and_exact() -> None:
    endless = lazy_bytes(None)
    assert sum(len(p) for p in itertools.islice(endless, 3)) == 3 * 65536
    assert sum(len(p) for p in lazy_bytes(100_001)) == 100_001


def test_compressed_pieces_decode_piece_by_piece() -> None:
    events = stream_events(["a", "b"])
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pieces = list(compressed_pieces(events, "gzip"))
    assert [decoder.decompress(p) for p in pieces[: len(events)]] == events


def test_scripted_connections_record_requests_and_count_bytes() -> None:
    served: list[Conn] = []

    def first(conn: Conn) -> None:
        served.append(conn)
        once(response(200, b"{}"))(conn)

    with RawServer() as raw:
        raw.script(first, once(head(204)))
        for expected in (b"HTTP/1.1 200", b"HTTP/1.1 204"):
            with socket.create_connection(("127.0.0.1", raw.port)) as sock:
                sock.sendall(b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
                assert sock.recv(100).startswith(expected)
    assert [(r.method, r.target, r.body, r.conn) for r in raw.requests] == [
        ("POST", "/p", b"hi", 0),
        ("POST", "/p", b"hi", 1),
    ]
    assert served[0].sent == len(response(200, b"{}"))
