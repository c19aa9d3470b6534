#!/usr/bin/env python3
"""A Modbus TCP server that does not follow a GX's rule, for `shackd probe` (issue 56). Prints
"ready PORT" and serves until killed, on 127.0.0.1 only.

    hostile_modbus.py every [WORD]   every unit id and every register answers WORD (5120: 512.0 V
                                     as the GX system's 840, 512.0 °C as a battery's 262)
    hostile_modbus.py mbap [WORD]    the same, each reply's MBAP length field a lie (200)
    hostile_modbus.py slow [DELAY_S] as a GX with nothing behind it: 0x02 for register 0 (no map
                                     has it), 0x0A for every service's register, each after DELAY_S

The frames follow the Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3 (MBAP) and the
Modbus Application Protocol v1.1b3 §6.3/§6.4 (functions 3 and 4); only those functions."""
import socket, struct, sys, threading, time

mode = sys.argv[1]
arg = float(sys.argv[2]) if len(sys.argv) > 2 else None


def reply(tid, unit, pdu, length=None):
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1 if length is None else length, unit) + pdu


def serve(c):
    c.settimeout(30)
    buf = b""
    try:
        while True:
            while len(buf) < 7:
                got = c.recv(4096)
                if not got:
                    return
                buf += got
            tid, _, length, unit = struct.unpack(">HHHB", buf[:7])
            while len(buf) < 6 + length:
                got = c.recv(4096)
                if not got:
                    return
                buf += got
            pdu, buf = buf[7:6 + length], buf[6 + length:]
            fc = pdu[0]
            addr = struct.unpack(">H", pdu[1:3])[0] if len(pdu) >= 3 else 0
            if mode == "slow":
                time.sleep(arg or 0.9)
                code = 0x02 if addr == 0 else 0x0A
                c.sendall(reply(tid, unit, bytes([fc | 0x80, code])))
            else:
                word = int(arg) if arg is not None else 5120
                pdu_out = bytes([fc, 2]) + struct.pack(">H", word)
                c.sendall(reply(tid, unit, pdu_out, 200 if mode == "mbap" else None))
    except OSError:
        return
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print("ready", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
