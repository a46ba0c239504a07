#!/usr/bin/python3
"""A Haven USB device for libusb-1.0, emulated under umockdev.

Run through `umockdev-wrapper /usr/bin/python3` (Tools/umockdev/run-with-device
does this). It builds a umockdev testbed holding one Haven device
(haven-usb.umockdev: VID:PID 1209:4856, one vendor interface, bulk OUT 0x01,
bulk IN 0x81), answers the usbfs ioctls libusb issues on its node, starts
COMMAND as a child (the child inherits the umockdev preload, so its libusb
sees the device) and pumps GLib until the child exits. The exit status is the
child's (128 + signal number when it was killed).

Each --socket PATH attaches one more device (usb:001/002, usb:001/003, ...).
The bulk endpoints are a byte pipe to a Unix socket (--socket PATH): the
payload of every bulk OUT URB is written to the socket, and a bulk IN URB is
completed with whatever bytes the socket has, up to the URB's buffer length
(stream semantics, like a device that ends its transfer with a short packet).
So a running `haven-sim --socket PATH`, or any Unix-socket server, serves the
device. The socket's peer closing is the cable being pulled.

Fault modes for tests:
  --unplug-after-in N  after N bytes went IN, the next IN transfer in flight
                       is killed (-ESHUTDOWN, as the kernel does on
                       disconnect), every later ioctl fails with ENODEV and the
                       device leaves the testbed.
  --deny-access        the device node gets mode 000 and, when run as root,
                       COMMAND runs without DAC override (setpriv), so opening
                       the node fails with EACCES, as for an operator's
                       account on a host without the udev rule.
  --busy               claiming the interface fails with EBUSY (another
                       program holds it).
  --full-speed         a full-speed device: 64-byte bulk packets.
  --interface-protocol N  the interface announces link protocol version N.
  --stats FILE         at exit, writes counters as JSON (OUT URBs, bytes and
                       zero-length packets, IN URBs and bytes, control URBs) of
                       the first device, and of all under "devices".

Facts this relies on (../shared/notes/usb-and-crypto-facts.md): the handler
is attached before the device is added; libusb reaps with REAPURBNDELAY and
polls, so answering EAGAIN while nothing is ready is correct; a completed URB
goes back by set_ptr on the reap argument.
"""

import argparse
import errno
import json
import os
import signal
import socket
import struct
import subprocess
import sys

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE_FILE = os.path.join(HERE, "haven-usb.umockdev")
# Device k (0, 1, ...) of a run sits on bus 1, port k+1, address k+2.
def devnode(index):
    return f"/dev/bus/usb/001/{index + 2:03d}"


def syspath(index):
    return f"/sys/devices/pci0000:00/0000:00:14.0/usb1/1-{index + 1}"

# usbfs ioctl request numbers on 64-bit Linux (linux/usbdevice_fs.h).
SUBMITURB = 0x8038550A
DISCARDURB = 0x0000550B
REAPURB = 0x4008550C
REAPURBNDELAY = 0x4008550D
CLAIMINTERFACE = 0x8004550F
RELEASEINTERFACE = 0x80045510
CLEAR_HALT = 0x80045515
RESET = 0x00005514
RESETEP = 0x80045503
GET_CAPABILITIES = 0x8004551A

# Capabilities: zero-length packets, no packet size limit, bulk
# continuation, reap after disconnect.
CAPABILITIES = 0x01 | 0x02 | 0x04 | 0x20

# struct usbdevfs_urb (64-bit): type u8 @0, endpoint u8 @1, status i32 @4,
# flags u32 @8, buffer ptr @16, buffer_length i32 @24, actual_length i32 @28.
URB_SIZE = 56
URB_TYPE_CONTROL = 2
URB_TYPE_BULK = 3

ENDPOINT_OUT = 0x01
ENDPOINT_IN = 0x81

LANGID_EN_US = 0x0409


class Urb:
    """One submitted URB, kept until libusb reaps it."""

    def __init__(self, urb_data, buffer_data, kind, endpoint, length):
        self.urb_data = urb_data
        self.buffer_data = buffer_data
        self.kind = kind
        self.endpoint = endpoint
        self.length = length
        self.address = urb_data.client_addr
        self.done = False
        self.status = 0
        self.data = b""
        self.actual = 0
        self.outgoing = b""  # bulk OUT: payload not yet on the socket
        self.sent = 0

    def finish(self, status, data=b"", actual=None):
        """Completes the URB: `data` goes into its buffer, `actual` is its
        actual_length (defaults to len(data); a control URB's data starts
        with the 8 setup bytes, which do not count)."""
        self.done = True
        self.status = status
        self.data = data
        self.actual = len(data) if actual is None else actual


class HavenDevice(UMockdev.IoctlBase):
    def __init__(self, testbed, syspath, sock, strings, unplug_after, busy):
        super().__init__()
        self.testbed = testbed
        self.syspath = syspath
        self.sock = sock
        self.strings = strings
        self.unplug_after = unplug_after
        self.busy = busy
        self.unplugged = False
        self.peer_closed = False
        self.inbox = bytearray()  # bytes read from the socket, not yet IN
        self.pending = []
        self.stats = {
            "out_urbs": 0, "out_bytes": 0, "zero_length_out": 0,
            "in_urbs": 0, "in_bytes": 0, "control_urbs": 0, "unplugged": False,
        }

    # ioctl dispatch -------------------------------------------------------

    def do_handle_ioctl(self, client):
        request = client.get_request()
        arg = client.get_arg()
        try:
            if request == GET_CAPABILITIES:
                caps = arg.resolve(0, 4)
                caps.update(0, list(struct.pack("<I", CAPABILITIES)))
                client.complete(0, 0)
            elif request in (REAPURB, REAPURBNDELAY):
                self.reap(client, arg)
            elif self.unplugged:
                client.complete(-1, errno.ENODEV)
            elif request == CLAIMINTERFACE:
                client.complete(-1, errno.EBUSY) if self.busy else client.complete(0, 0)
            elif request in (RELEASEINTERFACE, CLEAR_HALT, RESET, RESETEP):
                client.complete(0, 0)
            elif request == SUBMITURB:
                self.submit(client, arg)
            elif request == DISCARDURB:
                self.discard(client, arg)
            else:
                client.complete(-1, errno.ENOTTY)
        except Exception as error:  # a handler bug must not hang the client
            print(f"haven-usb-device: ioctl 0x{request:X}: {error!r}", file=sys.stderr)
            client.complete(-1, errno.EIO)
        return True

    def submit(self, client, arg):
        urb_data = arg.resolve(0, URB_SIZE)
        raw = bytes(urb_data.retrieve())
        kind, endpoint = raw[0], raw[1]
        (length,) = struct.unpack_from("<i", raw, 24)
        if length < 0:
            client.complete(-1, errno.EINVAL)
            return
        buffer_data = urb_data.resolve(16, length) if length > 0 else None
        urb = Urb(urb_data, buffer_data, kind, endpoint, length)
        if kind == URB_TYPE_CONTROL:
            self.stats["control_urbs"] += 1
            self.control(urb)
        elif kind == URB_TYPE_BULK and endpoint == ENDPOINT_OUT:
            self.bulk_out(urb)
        elif kind == URB_TYPE_BULK and endpoint == ENDPOINT_IN:
            self.stats["in_urbs"] += 1
        else:
            client.complete(-1, errno.EINVAL)
            return
        self.pending.append(urb)
        self.pump()
        client.complete(0, 0)

    def reap(self, client, arg):
        self.pump()
        for urb in self.pending:
            if not urb.done:
                continue
            self.pending.remove(urb)
            urb.urb_data.update(4, list(struct.pack("<i", urb.status)))
            urb.urb_data.update(28, list(struct.pack("<i", urb.actual)))
            if urb.data:
                urb.buffer_data.update(0, list(urb.data))
            pointer = arg.resolve(0, 8)
            pointer.set_ptr(0, urb.urb_data)
            client.complete(0, 0)
            return
        client.complete(-1, errno.ENODEV if self.unplugged else errno.EAGAIN)

    def discard(self, client, arg):
        (address,) = struct.unpack("<Q", bytes(arg.retrieve())[:8])
        for urb in self.pending:
            if urb.address == address and not urb.done:
                # A cancelled OUT URB reports what already went out.
                urb.finish(-errno.ENOENT, actual=urb.sent)
                client.complete(0, 0)
                return
        client.complete(-1, errno.EINVAL)

    # endpoints --------------------------------------------------------------

    def control(self, urb):
        """Standard GET_DESCRIPTOR(string); everything else stalls."""
        setup = bytes(urb.buffer_data.retrieve())[:8] if urb.buffer_data else b""
        if len(setup) < 8:
            urb.finish(-errno.EPIPE)
            return
        request_type, request, value, _index, length = struct.unpack("<BBHHH", setup)
        if request_type == 0x80 and request == 6 and (value >> 8) == 3:
            index = value & 0xFF
            if index == 0:
                body = struct.pack("<H", LANGID_EN_US)
            elif index in self.strings:
                body = self.strings[index].encode("utf-16-le")
            else:
                urb.finish(-errno.EPIPE)
                return
            descriptor = bytes([2 + len(body), 3]) + body
            descriptor = descriptor[: min(length, urb.length - 8)]
            # The data stage follows the 8 setup bytes in the URB buffer.
            urb.finish(0, setup + descriptor, actual=len(descriptor))
            return
        urb.finish(-errno.EPIPE)

    def bulk_out(self, urb):
        self.stats["out_urbs"] += 1
        if urb.length == 0:
            self.stats["zero_length_out"] += 1
            urb.finish(0)
            return
        urb.outgoing = bytes(urb.buffer_data.retrieve())[: urb.length]

    def pump(self):
        """Moves bytes between the socket and the URBs in flight, never
        blocking: the GLib loop must keep answering ioctls (libusb cancels
        a timed-out transfer with DISCARDURB). Reading the socket into
        `inbox` before writing to it means a peer that answers while it
        reads can never deadlock against us."""
        if self.unplugged:
            return
        if self.sock is not None:
            self.read_socket()
            self.write_socket()
        self.fill_in_urbs()

    def read_socket(self):
        while not self.peer_closed and len(self.inbox) < (1 << 20):
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.peer_closed = True
                return
            self.inbox += data

    def write_socket(self):
        for urb in self.pending:
            if urb.done or urb.endpoint != ENDPOINT_OUT or urb.kind != URB_TYPE_BULK:
                continue
            while urb.sent < len(urb.outgoing):
                try:
                    urb.sent += self.sock.send(urb.outgoing[urb.sent:])
                except BlockingIOError:
                    return
                except OSError:
                    self.peer_closed = True
                    self.unplug()
                    return
            self.stats["out_bytes"] += urb.sent
            urb.finish(0, actual=urb.sent)

    def fill_in_urbs(self):
        for urb in self.pending:
            if urb.done or urb.endpoint != ENDPOINT_IN or urb.kind != URB_TYPE_BULK:
                continue
            limit = urb.length
            if self.unplug_after is not None:
                limit = min(limit, self.unplug_after - self.stats["in_bytes"])
                if limit <= 0:
                    self.unplug()
                    return
            if not self.inbox:
                if self.peer_closed:
                    self.unplug()
                return
            data = bytes(self.inbox[:limit])
            del self.inbox[:limit]
            self.stats["in_bytes"] += len(data)
            urb.finish(0, data)

    def unplug(self):
        """The cable is pulled: URBs in flight die, the device leaves."""
        if self.unplugged:
            return
        self.unplugged = True
        self.stats["unplugged"] = True
        for urb in self.pending:
            if not urb.done:
                urb.finish(-errno.ESHUTDOWN)
        GLib.idle_add(self.remove_from_testbed)

    def remove_from_testbed(self):
        self.testbed.remove_device(self.syspath)
        return False


def describe(template, index, serial, full_speed, protocol):
    """haven-usb.umockdev for device `index`: its port, address, serial,
    speed and bInterfaceProtocol (the link protocol version)."""
    lines = []
    for line in template.splitlines():
        if line.startswith("P: "):
            line = "P: " + syspath(index)[len("/sys"):]
        elif line.startswith("N: "):
            line = "N: " + devnode(index)[len("/dev/"):]
        elif line.startswith("E: DEVNAME="):
            line = "E: DEVNAME=" + devnode(index)
        elif line.startswith("E: DEVNUM="):
            line = f"E: DEVNUM={index + 2:03d}"
        elif line.startswith("E: MINOR="):
            line = f"E: MINOR={index + 1}"
        elif line.startswith("A: devnum="):
            line = f"A: devnum={index + 2}\\n"
        elif line.startswith("A: devpath="):
            line = f"A: devpath={index + 1}\\n"
        elif line.startswith("A: serial="):
            line = f"A: serial={serial}\\n"
        elif line.startswith("E: ID_SERIAL_SHORT="):
            line = "E: ID_SERIAL_SHORT=" + serial
        elif full_speed and line.startswith("A: speed="):
            line = "A: speed=12\\n"
        elif full_speed and line.startswith("H: descriptors="):
            # wMaxPacketSize 512 (00 02) -> 64 (40 00) in both endpoints.
            line = line.replace("07050102000200", "07050102400000")
            line = line.replace("07058102000200", "07058102400000")
        if line.startswith("H: descriptors="):
            line = line.replace("0904000002FF4801", f"0904000002FF48{protocol:02X}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def parse_arguments():
    parser = argparse.ArgumentParser(
        description="Run COMMAND with an emulated Haven USB device whose bulk "
        "endpoints forward to a Unix socket.")
    parser.add_argument("--socket", action="append", default=[],
                        help="Unix socket the bulk endpoints forward to; repeat it "
                        "for more devices (one per socket)")
    parser.add_argument("--serial", action="append", default=[],
                        help="iSerialNumber of the devices in order (default HVN-SIM-0001, "
                        "HVN-SIM-0002, ...)")
    parser.add_argument("--unplug-after-in", type=int, metavar="N",
                        help="pull the cable after N bytes went IN")
    parser.add_argument("--deny-access", action="store_true",
                        help="device node mode 000 (permission denied on open)")
    parser.add_argument("--busy", action="store_true",
                        help="claiming the interface fails with EBUSY")
    parser.add_argument("--full-speed", action="store_true",
                        help="a full-speed (12 Mbit/s) device: 64-byte bulk packets")
    parser.add_argument("--interface-protocol", type=int, default=1, metavar="N",
                        help="bInterfaceProtocol, the link protocol version (default 1)")
    parser.add_argument("--stats", metavar="FILE", help="write counters as JSON at exit")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    if arguments.command and arguments.command[0] == "--":
        arguments.command = arguments.command[1:]
    if not arguments.command:
        parser.error("no COMMAND given")
    return arguments


def main():
    arguments = parse_arguments()
    if "LD_PRELOAD" not in os.environ or "umockdev" not in os.environ["LD_PRELOAD"]:
        sys.exit("haven-usb-device: run me through umockdev-wrapper "
                 "(Tools/umockdev/run-with-device does)")

    testbed = UMockdev.Testbed.new()
    with open(DEVICE_FILE) as description:
        template = description.read()
    devices = []
    for index, path in enumerate(arguments.socket or [None]):
        sock = None
        if path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
            except OSError as error:
                sys.exit(f"haven-usb-device: cannot connect to {path}: {error.strerror}")
            sock.setblocking(False)
        if index < len(arguments.serial):
            serial = arguments.serial[index]
        else:
            serial = f"HVN-SIM-{index + 1:04d}"
        strings = {1: "Haven Project", 2: "Haven Survey Tablet", 3: serial, 4: "Haven link v1"}
        device = HavenDevice(testbed, syspath(index), sock, strings, arguments.unplug_after_in,
                             arguments.busy)
        # The handler must be attached before the device appears.
        testbed.attach_ioctl(devnode(index), device)
        if not testbed.add_from_string(describe(template, index, serial, arguments.full_speed,
                                                 arguments.interface_protocol)):
            sys.exit("haven-usb-device: umockdev rejected " + DEVICE_FILE)
        if arguments.deny_access:
            os.chmod(os.path.join(testbed.get_root_dir(), devnode(index).lstrip("/")), 0)
        devices.append(device)

    command = arguments.command
    if arguments.deny_access and os.geteuid() == 0:
        # Root reads any file; without DAC override it obeys the mode bits
        # like the operator's account does.
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", "--inh-caps=" + caps, "--bounding-set=" + caps, "--"] + command
    child = subprocess.Popen(command)
    loop = GLib.MainLoop()
    status = {}

    def exited(_pid, wait_status):
        status["code"] = wait_status
        loop.quit()

    GLib.child_watch_add(GLib.PRIORITY_DEFAULT, child.pid, exited)
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum,
                             lambda signum=signum: (child.send_signal(signum), True)[1])
    loop.run()
    child.returncode = 0  # reaped by GLib's child watch

    if arguments.stats:
        # The first device's counters, and every device's under "devices".
        with open(arguments.stats, "w") as out:
            json.dump(dict(devices[0].stats, devices=[d.stats for d in devices]), out)
    wait_status = status.get("code", 0)
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


if __name__ == "__main__":
    sys.exit(main())
