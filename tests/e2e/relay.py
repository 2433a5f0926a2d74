"""TCP relays between the browser and aurid, for the browser tests: a
listener whose clients each get a thread, and the loop that copies one
direction of a connection."""

import socket
import threading


def serve(host, port, on_client):
    """Listens on host:port (0: any free port); each client socket goes to
    on_client(sock) on its own thread.  Returns the listening socket: close
    it to stop."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen(16)

    def accept():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=on_client, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return lsock


def pump(src, dst, record=None, lock=None):
    """Copies src to dst until either side ends, then shuts both down.
    record: a bytearray that also gets every byte, extended under lock."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record is not None:
                with lock:
                    record.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
