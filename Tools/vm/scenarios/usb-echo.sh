# usb-echo.sh: runs inside the VM (Tools/vm/run-test). The tablet side is
# haven-device --echo on FunctionFS behind the configfs gadget; the pull
# station side is the unchanged `haven usb-probe` through libusb, usbdevfs
# and dummy_hcd. Checks echo round trips at and around the packet size, then
# pulls the cable (unbind) in the middle of a transfer, plugs it back
# (bind) and checks that a new echo works.
# Then the same at full speed. Prints "SCENARIO-OK" lines per step; exits
# non-zero at the first failure.
set -u
fail() { echo "SCENARIO-FAIL $*"; dmesg | tail -n 20; exit 1; }

haven-gadget start --device-id 0123456789abcdef0123456789abcdef \
    --daemon "haven-device --ffs /dev/ffs-haven --echo" || fail "gadget start"

wait_device() {
    tries=0
    until haven usb-probe 2>/dev/null | grep -q "serial HVN-0123456789AB"; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || fail "no Haven device on the host side after 10 s"
        sleep 0.1
    done
}
wait_device
haven usb-probe || fail "listing"
for endpoint in /sys/bus/usb/devices/1-1:1.0/ep_*; do
    echo "host sees endpoint $(cat "$endpoint/bEndpointAddress") $(cat "$endpoint/type") $(cat "$endpoint/direction") max packet $(cat "$endpoint/wMaxPacketSize")"
done
echo "SCENARIO-OK enumerated"

for n in 1 511 512 513 100000; do
    haven usb-probe --echo-bytes "$n" --timeout 10000 >/tmp/probe.out 2>&1 || { cat /tmp/probe.out; fail "echo $n"; }
    grep -q "echoed $n bytes" /tmp/probe.out || { cat /tmp/probe.out; fail "echo $n output"; }
    echo "SCENARIO-OK echo $n"
done

# Cable pulled mid-transfer: usb-probe writes all its bytes before reading,
# so 3 MB fill the device's ~1 MiB OUT buffer while the device is blocked
# sending the echo back: the unbind lands in the middle of both directions.
# The echoes after the replug then also prove that no byte of the cut
# session leaks into the new one (usb-probe compares every byte).
haven usb-probe --echo-bytes 3000000 --timeout 8000 >/tmp/cut.out 2>&1 &
probe=$!
sleep 0.3
haven-gadget unbind || fail "unbind"
wait $probe
cut_status=$?
echo "SCENARIO-OK unplugged mid-transfer (probe exit $cut_status: $(tail -n 1 /tmp/cut.out))"
[ "$cut_status" -ne 0 ] || fail "the 3 MB echo finished although the cable was pulled"
haven usb-probe 2>/dev/null | grep -q HVN- && fail "device still listed after unbind"
haven-gadget bind || fail "bind"
wait_device
for n in 1 513 100000; do
    haven usb-probe --echo-bytes "$n" --timeout 10000 >/tmp/probe.out 2>&1 || { cat /tmp/probe.out; fail "echo $n after replug"; }
    echo "SCENARIO-OK after replug echo $n"
done
haven-gadget stop || fail "stop"
echo "SCENARIO-OK stopped"

# Full speed: dummy_hcd reloaded without high speed; 64-byte packets, so a
# zero-length packet must follow 64 and 128 bytes (the transport asks the
# kernel for the IN packet size at ENABLE).
rmmod dummy_hcd || fail "rmmod dummy_hcd"
insmod /modules/dummy_hcd.ko is_high_speed=0 || fail "insmod dummy_hcd full speed"
haven-gadget start --device-id 0123456789abcdef0123456789abcdef \
    --daemon "haven-device --ffs /dev/ffs-haven --echo" || fail "gadget start at full speed"
wait_device
for n in 1 64 128 100000; do
    haven usb-probe --echo-bytes "$n" --timeout 10000 >/tmp/probe.out 2>&1 || { cat /tmp/probe.out; fail "full-speed echo $n"; }
    grep -q "max packet 64" /tmp/probe.out || { cat /tmp/probe.out; fail "not full speed"; }
    echo "SCENARIO-OK full speed echo $n"
done
haven-gadget stop || fail "stop at full speed"
echo "SCENARIO-OK full speed stopped"
