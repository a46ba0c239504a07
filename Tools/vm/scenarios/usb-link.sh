# usb-link.sh: runs inside the VM (Tools/vm/run-test). The tablet side is
# the real runtime, haven-device on a file image with the ref-tablet-a7
# board profile, serving the link protocol over FunctionFS behind the
# configfs gadget, its screen headless (JSON events from a fifo, screen
# models to a file). The pull station side is the unchanged `haven` tool
# through libusb, usbdevfs and dummy_hcd:
#   devices -> provision (the bundle the test built on the host) ->
#   interviews on the device -> pull, cut by an unbind in the middle ->
#   bind -> pull again -> every record exactly once.
# The pulled .age files are printed base64 between HAVEN-FILE-BEGIN/END
# lines so the test decrypts them on the host (age is not in the VM).
#
# Files the test passes (--file): /haven/site.havencfg, /haven/provisioning.key,
# /haven/interviews.jsonl (the headless events of N interviews),
# /haven/expected-records (N), /haven/Hardware/boards/ref-tablet-a7.json.
set -u
fail() {
    echo "SCENARIO-FAIL $*"
    echo "--- device log"; cat /tmp/device.log 2>/dev/null
    echo "--- last screens"; tail -n 3 /tmp/screens.jsonl 2>/dev/null
    dmesg | tail -n 10
    exit 1
}
expected=$(cat /haven/expected-records)
cd /tmp
ledger=/tmp/ledger.sqlite
key=/haven/provisioning.key
empty=/tmp/no-sims
mkdir -p "$empty" /var/lib/haven  # the board profile's linux.secret lives there

# A raw partition (a loop block device standing in for the board's eMMC
# partition, zero-filled as a new one reads): a missing secret is refused
# unless --initialize, which erases it to 0xFF and makes the secret once.
dd if=/dev/zero of=/tmp/part.img bs=1048576 count=64 2>/dev/null || fail "partition image"
losetup /dev/loop0 /tmp/part.img || fail "losetup"
part() { haven-device --image /dev/loop0 --secret /tmp/part.secret --board ref-tablet-a7 \
    --hardware /haven/Hardware --no-memory-lock --print-device-id "$@"; }
part > /tmp/part.out 2>&1 && fail "a block device without a secret was used without --initialize"
grep -q -- "--initialize" /tmp/part.out || { cat /tmp/part.out; fail "the refusal does not say --initialize"; }
part_id=$(part --initialize) || fail "--initialize on the block device"
[ "$(od -An -tx1 -N4 -j 4096 /dev/loop0 | tr -d ' ')" = "ffffffff" ] || fail "the partition was not erased"
[ "$(part)" = "$part_id" ] || fail "the block device's id changed between starts"
[ "$(part --initialize)" = "$part_id" ] || fail "--initialize with a secret present changed the device"
losetup -d /dev/loop0
rm -f /tmp/part.img /tmp/part.secret
echo "SCENARIO-OK block device initialized once (id $part_id)"

# The device id (from the secret made now) names the USB serial number.
id=$(haven-device --image /tmp/tablet.img --board ref-tablet-a7 --hardware /haven/Hardware \
    --no-memory-lock --print-device-id) || fail "device id"
echo "SCENARIO-OK device id $id"

# The screen: events in through a fifo kept open here (fd 3), models out to a file.
mkfifo /tmp/events
exec 3<>/tmp/events
cat > /tmp/device.sh <<EOF
#!/bin/sh
exec haven-device --ffs /dev/ffs-haven --image /tmp/tablet.img --board ref-tablet-a7 \
    --hardware /haven/Hardware --headless --link-delay-ms ${HAVEN_LINK_DELAY_MS:-120} \
    </tmp/events >/tmp/screens.jsonl 2>/tmp/device.log
EOF
chmod +x /tmp/device.sh
haven-gadget start --device-id "$id" --daemon /tmp/device.sh || fail "gadget start"

screens() { wc -l < /tmp/screens.jsonl; }
echo '{"type":"screen"}' > /tmp/screen-event
# Sends the events in file $1 and waits until the device printed a model for each.
send() {
    before=$(screens)
    lines=$(wc -l < "$1")
    cat "$1" >&3
    want=$((before + lines))
    tries=0
    until [ "$(screens)" -ge "$want" ]; do
        tries=$((tries + 1))
        [ "$tries" -le 600 ] || fail "the device answered $(($(screens) - before)) of $lines events in 60 s"
        sleep 0.1
    done
}
wait_device() {
    tries=0
    until haven devices --sim-dir "$empty" 2>/dev/null | grep -q "usb:"; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || fail "no Haven device on the host side after 10 s"
        sleep 0.1
    done
}
wait_device
haven devices --sim-dir "$empty" --json > /tmp/devices.json 2>&1 || { cat /tmp/devices.json; fail "devices"; }
cat /tmp/devices.json
grep -q "\"provisioned\":false" /tmp/devices.json || fail "a new device should be unprovisioned"
grep -q "$id" /tmp/devices.json || fail "devices does not report the device id"
echo "SCENARIO-OK devices (unprovisioned)"
send /tmp/screen-event
tail -n 1 /tmp/screens.jsonl | grep -q '"kind":"unprovisioned"' || fail "screen before provisioning"

haven provision /haven/site.havencfg --key "$key" --ledger "$ledger" --sim-dir "$empty" > /tmp/provision.out 2>&1 \
    || { cat /tmp/provision.out; fail "provision"; }
cat /tmp/provision.out
grep -q "1 of 1 device provisioned" /tmp/provision.out || fail "provision output"
echo "SCENARIO-OK provisioned"
send /tmp/screen-event
tail -n 1 /tmp/screens.jsonl | grep -q '"kind":"lock"' || fail "the device should show the lock screen after provisioning"

start=$(date +%s)
send /haven/interviews.jsonl
finished=$(grep -c '"kind":"finished"' /tmp/screens.jsonl)
[ "$finished" -eq "$expected" ] || fail "$finished of $expected interviews finished"
echo "SCENARIO-OK interviews $finished ($(($(date +%s) - start)) s)"
haven devices --sim-dir "$empty" --json > /tmp/devices.json 2>&1
grep -q "\"recordsWaiting\":$expected" /tmp/devices.json || { cat /tmp/devices.json; fail "records waiting"; }
echo "SCENARIO-OK records waiting $expected"

# A pull cut in the middle: the device answers slowly (--link-delay-ms),
# the cable is pulled once the first record is on the station's disk.
out=/tmp/pulled
haven pull --key "$key" -o "$out" --ledger "$ledger" --sim-dir "$empty" > /tmp/pull1.out 2>&1 &
pull=$!
tries=0
until [ "$(ls "$out" 2>/dev/null | grep -c '\.age$')" -ge 1 ]; do
    tries=$((tries + 1))
    [ "$tries" -le 300 ] || { cat /tmp/pull1.out; fail "no record pulled within 30 s"; }
    sleep 0.1
done
haven-gadget unbind || fail "unbind"
wait $pull
cut_status=$?
cut_count=$(ls "$out" | grep -c '\.age$')
echo "SCENARIO-OK unplugged mid-pull (pull exit $cut_status, $cut_count of $expected records on disk: $(tail -n 1 /tmp/pull1.out))"
[ "$cut_status" -ne 0 ] || fail "the pull finished although the cable was pulled"
[ "$cut_count" -lt "$expected" ] || fail "the unbind came after the last record"
haven devices --sim-dir "$empty" 2>/dev/null | grep -q "usb:" && fail "device still listed after unbind"

haven-gadget bind || fail "bind"
wait_device
haven pull --key "$key" -o "$out" --ledger "$ledger" --sim-dir "$empty" --json > /tmp/pull2.out 2>&1 \
    || { cat /tmp/pull2.out; fail "second pull"; }
cat /tmp/pull2.out
count=$(ls "$out" | grep -c '\.age$')
[ "$count" -eq "$expected" ] || fail "$count .age files after the second pull, expected $expected"
unique=$(sha256sum "$out"/*.age | cut -d' ' -f1 | sort -u | wc -l)
[ "$unique" -eq "$expected" ] || fail "$unique distinct records"
echo "SCENARIO-OK pulled after replug: $count records, $unique distinct"
haven ledger --ledger "$ledger" --json > /tmp/ledger.out 2>&1 || { cat /tmp/ledger.out; fail "ledger"; }
# The ledger: one pull entry per record, none twice.
pulled_entries=$(grep -c '"kind":"pull"' /tmp/ledger.out)
distinct_entries=$(grep '"kind":"pull"' /tmp/ledger.out | sed 's/.*"record":"\([^"]*\)".*/\1/' | sort -u | wc -l)
[ "$pulled_entries" -eq "$expected" ] && [ "$distinct_entries" -eq "$expected" ] \
    || { cat /tmp/ledger.out; fail "ledger: $pulled_entries pull entries, $distinct_entries distinct records"; }
echo "SCENARIO-OK ledger $pulled_entries pull entries, $distinct_entries records"
haven devices --sim-dir "$empty" --json > /tmp/devices.json 2>&1
grep -q '"recordsWaiting":0' /tmp/devices.json || { cat /tmp/devices.json; fail "records still waiting after the pull"; }
echo "SCENARIO-OK nothing left on the device"

for file in "$out"/*.age; do
    echo "HAVEN-FILE-BEGIN $(basename "$file")"
    base64 "$file"
    echo "HAVEN-FILE-END"
done
echo "HAVEN-LEDGER-BEGIN"
cat /tmp/ledger.out
echo "HAVEN-LEDGER-END"

haven-gadget stop || fail "stop"
exec 3>&-
grep -q "usb: host disconnected; link session reset" /tmp/device.log || fail "the device did not see the cable pulled"
echo "SCENARIO-OK stopped"
