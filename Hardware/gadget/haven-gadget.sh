#!/bin/sh
# haven-gadget.sh: turns a Linux board's USB device controller into a Haven
# device (Hardware/usb/README.md) with configfs + FunctionFS.
#
#   haven-gadget.sh start --device-id HEX32 [--daemon "CMD"] [--udc NAME]
#   haven-gadget.sh setup --device-id HEX32      configfs gadget + functionfs mount only
#   haven-gadget.sh bind [--udc NAME]            wait for the daemon's descriptors, attach to the UDC
#   haven-gadget.sh unbind                       detach from the UDC (what pulling the cable does)
#   haven-gadget.sh stop                         unbind, stop the daemon, tear everything down
#
# Order matters (kernel Documentation/usb/functionfs.rst): the gadget and
# its FunctionFS instance exist and are mounted, the daemon (haven-device)
# opens ep0 and writes its descriptors (ep1/ep2 then appear), and only then
# is the UDC name written: binding earlier fails with ENODEV.
#
# Under systemd (Hardware/systemd/haven-device.service): ExecStartPre runs
# `setup`, the unit runs haven-device, ExecStartPost runs `bind`, and
# ExecStopPost runs `stop`. `start` does all three for a shell or a test.
#
# POSIX sh + busybox compatible (the VM test runs it under busybox).
# Environment: HAVEN_GADGET (default haven), HAVEN_FFS (default
# /dev/ffs-$HAVEN_GADGET), HAVEN_PIDFILE (default /run/haven-device.pid).
set -eu

name="${HAVEN_GADGET:-haven}"
configfs=/sys/kernel/config
gadget="$configfs/usb_gadget/$name"
ffs="${HAVEN_FFS:-/dev/ffs-$name}"
pidfile="${HAVEN_PIDFILE:-/run/haven-device.pid}"

# Hardware/usb/haven-usb.json
vendor=0x1209
product=0x4856
manufacturer="Haven Project"
product_name="Haven Survey Tablet"

fail() { echo "haven-gadget: $*" >&2; exit 1; }

# The serial number: HVN- and the first 12 hex digits of the device id, uppercase.
serial_for() {
    id=$(echo "$1" | tr 'A-F' 'a-f')
    echo "$id" | grep -Eq '^[0-9a-f]{32}$' || fail "--device-id must be 32 hex digits (the device id), got '$1'"
    echo "HVN-$(echo "$id" | cut -c1-12 | tr 'a-f' 'A-F')"
}

first_udc() {
    udc=$(ls /sys/class/udc 2>/dev/null | head -n 1)
    [ -n "$udc" ] || fail "no USB device controller in /sys/class/udc (is the UDC driver loaded, and the port in peripheral/OTG mode?)"
    echo "$udc"
}

setup() {
    [ -n "${device_id:-}" ] || fail "setup needs --device-id HEX32"
    serial=$(serial_for "$device_id")
    modprobe libcomposite 2>/dev/null || true
    modprobe usb_f_fs 2>/dev/null || true
    grep -q " $configfs configfs" /proc/mounts || mount -t configfs none "$configfs"
    [ -d "$configfs/usb_gadget" ] || fail "no $configfs/usb_gadget (kernel without CONFIG_USB_CONFIGFS / libcomposite)"
    [ -d "$gadget" ] && fail "$gadget exists already; run '$0 stop' first"
    mkdir "$gadget"
    echo "$vendor" > "$gadget/idVendor"
    echo "$product" > "$gadget/idProduct"
    echo 0x0100 > "$gadget/bcdDevice"
    echo 0x0200 > "$gadget/bcdUSB"
    echo 0x00 > "$gadget/bDeviceClass"
    echo 0x00 > "$gadget/bDeviceSubClass"
    echo 0x00 > "$gadget/bDeviceProtocol"
    echo 64 > "$gadget/bMaxPacketSize0"
    mkdir "$gadget/strings/0x409"
    echo "$manufacturer" > "$gadget/strings/0x409/manufacturer"
    echo "$product_name" > "$gadget/strings/0x409/product"
    echo "$serial" > "$gadget/strings/0x409/serialnumber"
    mkdir "$gadget/configs/c.1"
    echo 0x80 > "$gadget/configs/c.1/bmAttributes"
    echo 500 > "$gadget/configs/c.1/MaxPower"
    mkdir "$gadget/functions/ffs.$name"
    ln -s "$gadget/functions/ffs.$name" "$gadget/configs/c.1/"
    mkdir -p "$ffs"
    mount -t functionfs -o mode=0600 "$name" "$ffs"
}

bind() {
    [ -d "$gadget" ] || fail "no gadget at $gadget; run '$0 setup' first"
    udc="${udc:-$(first_udc)}"
    # The daemon's descriptors make the bulk endpoint files appear (ep01 and
    # ep81 with virtual addresses, ep1 and ep2 without); wait up to 10 s.
    tries=0
    while [ -z "$(ls "$ffs" 2>/dev/null | grep -v '^ep0$')" ]; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || fail "haven-device did not write its descriptors to $ffs/ep0 within 10 s"
        sleep 0.1
    done
    echo "$udc" > "$gadget/UDC"
}

unbind() {
    if [ -f "$gadget/UDC" ] && [ -n "$(cat "$gadget/UDC")" ]; then
        echo "" > "$gadget/UDC"
    fi
}

start_daemon() {
    [ -n "${daemon:-}" ] || return 0
    # shellcheck disable=SC2086 # the command line is split on purpose
    $daemon &
    echo $! > "$pidfile"
}

stop_daemon() {
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

teardown() {
    [ -d "$gadget" ] || return 0
    unbind
    stop_daemon
    if grep -q " $ffs functionfs" /proc/mounts; then umount "$ffs"; fi
    rm -f "$gadget/configs/c.1/ffs.$name"
    [ -d "$gadget/configs/c.1/strings/0x409" ] && rmdir "$gadget/configs/c.1/strings/0x409"
    [ -d "$gadget/configs/c.1" ] && rmdir "$gadget/configs/c.1"
    [ -d "$gadget/functions/ffs.$name" ] && rmdir "$gadget/functions/ffs.$name"
    [ -d "$gadget/strings/0x409" ] && rmdir "$gadget/strings/0x409"
    rmdir "$gadget"
}

command="${1:-}"
[ $# -gt 0 ] && shift
device_id=""
daemon=""
udc=""
while [ $# -gt 0 ]; do
    case "$1" in
        --device-id) device_id="$2"; shift 2 ;;
        --daemon) daemon="$2"; shift 2 ;;
        --udc) udc="$2"; shift 2 ;;
        *) fail "unknown argument $1" ;;
    esac
done

case "$command" in
    setup) setup ;;
    bind) bind ;;
    unbind) unbind ;;
    start) setup; start_daemon; bind ;;
    stop) teardown ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
