"""A fast SMTP sink for the send benchmark: accepts every message, keeps none, counts them.

aiosmtpd (the tests' server) reads the data a line at a time in Python and tops out near 420
messages of 49 KB a second on this 2-core machine, with the sender idle: too slow to measure a
sender that should do more. This sink speaks the part of SMTP a sender uses (EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT; no PIPELINING, no extensions) and finds the end of the data with
one search per chunk. On SIGTERM it prints how many messages it accepted (and how many distinct
recipients) as JSON on stdout, so the benchmark can check nothing was lost or doubled.

    python bench/smtp_sink.py PORT
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter

ACCEPTED: Counter[bytes] = Counter()  # recipient → messages


class Session(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0  # how far the data was searched for its end already
        self.recipients: list[bytes] = []
        self.transport.write(b"220 sink ESMTP ready\r\n")

    def data_received(self, chunk: bytes) -> None:
        self.buffer += chunk
        while self.buffer:
            if self.in_data:
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    end = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
                    skip = 5
                if end < 0:
                    self.scanned = len(self.buffer)
                    return
                del self.buffer[: end + skip]
                self.in_data, self.scanned = False, 0
                for recipient in self.recipients:
                    ACCEPTED[recipient] += 1
                self.recipients = []
                self.transport.write(b"250 2.0.0 accepted\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            self.command(line)

    def command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            self.transport.write(b"250-sink\r\n250 8BITMIME\r\n")
        elif verb in (b"HELO", b"NOOP"):
            self.transport.write(b"250 ok\r\n")
        elif verb == b"MAIL":
            self.recipients = []
            self.transport.write(b"250 2.1.0 ok\r\n")
        elif verb == b"RCPT":
            self.recipients.append(line.partition(b":")[2].strip(b" <>").lower())
            self.transport.write(b"250 2.1.5 ok\r\n")
        elif verb == b"DATA":
            self.in_data = True
            self.transport.write(b"354 end with <CRLF>.<CRLF>\r\n")
        elif verb == b"RSET":
            self.recipients = []
            self.transport.write(b"250 ok\r\n")
        elif verb == b"QUIT":
            self.transport.write(b"221 bye\r\n")
            self.transport.close()
        else:
            self.transport.write(b"502 5.5.2 not implemented\r\n")


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, "127.0.0.1", port)
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    async with server:
        await stopped
    doubled = sum(1 for n in ACCEPTED.values() if n > 1)
    report = {"messages": sum(ACCEPTED.values()), "recipients": len(ACCEPTED), "doubled": doubled}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
