"""A real SMTP server on loopback for hoinghi's mail tests (aiosmtpd).

usage: server.py DIR [--port N] [--no-pipelining] [--transient N] [--permanent-rcpt TEXT]
                 [--delay-ms N]

Prints "PORT <n>" once listening, then serves until killed. It offers PIPELINING (RFC
2920) in its answer to EHLO, as most servers do, unless --no-pipelining. Each accepted
message is written to DIR/<n>.eml (the DATA as received) with DIR/<n>.json (envelope
sender and recipients, and "pipelined": whether RCPT and DATA had arrived with MAIL, in
one write, before MAIL was answered). Faults, to test the outbox:
  --transient N        the first N DATA commands are answered 451 (try again later);
  --permanent-rcpt T   RCPT TO an address containing T is answered 550;
  --delay-ms N         wait N ms before accepting each message (a slow server).
"""
import argparse
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, out, pipelining, transient, permanent_rcpt, delay_ms):
        self.out = out
        self.pipelining = pipelining
        self.transient = transient
        self.permanent_rcpt = permanent_rcpt
        self.delay = delay_ms / 1000
        self.counter = itertools.count(1)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # What the client wrote after MAIL, already read but not yet handled: the rest of
        # a pipelined group (aiosmtpd reads a command at a time from this buffer).
        envelope.pipelined = b"RCPT" in bytes(server._reader._buffer)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.permanent_rcpt and self.permanent_rcpt in address:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.transient > 0:
            self.transient -= 1
            return "451 4.3.0 Temporary local problem, try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        n = next(self.counter)
        base = os.path.join(self.out, f"{os.getpid()}-{n:06d}")
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "pipelined": getattr(envelope, "pipelined", False)}, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--transient", type=int, default=0)
    p.add_argument("--permanent-rcpt", default="")
    p.add_argument("--delay-ms", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    handler = Handler(a.dir, not a.no_pipelining, a.transient, a.permanent_rcpt, a.delay_ms)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False,
                     data_size_limit=10 * 1024 * 1024),
        host="127.0.0.1", port=a.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
