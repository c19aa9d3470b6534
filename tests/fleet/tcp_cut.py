#!/usr/bin/env python3
"""A TCP forwarder on loopback whose link a test can cut: the site's uplink to a central broker.

    tcp_cut.py LISTEN_PORT TARGET_PORT [BYTES_PER_S]

Listens on 127.0.0.1:LISTEN_PORT and forwards each connection to 127.0.0.1:TARGET_PORT, bytes
as they come, both ways (at most BYTES_PER_S each way when given: a slow uplink). Prints
"listening PORT" once it accepts connections. Two ways to cut:

- kill it (SIGTERM, SIGKILL): every connection closes at once (both ends see the socket close,
  as when a router drops the session) and new ones are refused until it is started again;
- SIGUSR1 stalls the link and SIGUSR2 lets it flow again: while stalled, the connections stay
  open but no byte goes through either way (a link that goes silent: only keepalives notice)
  and new connections are refused; on SIGUSR2 what was written meanwhile goes through, late.

Only the standard library: the tests add no dependency for it.
"""
import asyncio
import signal
import sys

HOST = "127.0.0.1"


class Cut:
    def __init__(self, listen_port: int, target_port: int, rate: int = 0):
        self.listen_port = listen_port
        self.target_port = target_port
        self.rate = rate
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server = None
        self.conns = set()

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                await self.flowing.wait()
                data = await reader.read(4096 if self.rate else 65536)
                # What was read as the link stalled (bytes, or the far end's close) is held until
                # it flows again.
                await self.flowing.wait()
                if not data:
                    break
                writer.write(data)
                await writer.drain()
                if self.rate:
                    await asyncio.sleep(len(data) / self.rate)
        except (ConnectionError, OSError):
            await self.flowing.wait()  # a reset, too, is held while the link is silent
        writer.close()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        try:
            up_r, up_w = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            client_w.close()  # the far end is down: as the far end would, refuse
            return
        task = asyncio.gather(self.pump(client_r, up_w), self.pump(up_r, client_w))
        self.conns.add(task)
        try:
            await task
        finally:
            self.conns.discard(task)

    async def listen(self):
        self.server = await asyncio.start_server(self.handle, HOST, self.listen_port)

    async def stall(self):
        self.flowing.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        print("stalled", flush=True)

    async def resume(self):
        if self.server is None:
            await self.listen()
        self.flowing.set()
        print("flowing", flush=True)

    async def main(self):
        await self.listen()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(self.stall()))
        loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(self.resume()))
        # SIGTERM keeps its default action: the process ends there and then, and the kernel closes
        # every socket it held (what the test calls cutting the link).
        print(f"listening {self.listen_port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    asyncio.run(Cut(*(int(a) for a in sys.argv[1:])).main())
