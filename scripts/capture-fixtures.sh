#!/usr/bin/env bash
# Captures real Linux packets as test fixtures for the wire parsers.
#
# Writes:
#   test/fixtures/linux-capture.pcap  the selected frames, as captured
#   test/fixtures/linux-packets.ts    the same frames as hex, with names and notes
#
# Run as root (it creates network namespaces):  sudo scripts/capture-fixtures.sh
# Needs: iproute2 (ip), ethtool, tcpdump, tshark, iputils-ping, python3, and
# nftables (nft) or the netem qdisc for the SACK capture.
#
# Topology, all inside namespaces of our own; nothing is routed anywhere else:
#
#   ns A (client)              ns R (router, servers)              ns B
#   a0 10.77.1.1/24 ---veth--- r0 10.77.1.254/24
#                              r1 10.77.2.254/24 (MTU 1280) ---veth--- b0 10.77.2.2/24
#
# Everything is captured on a0, so the capture holds what A sends and receives.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "capture-fixtures.sh: must run as root (network namespaces)" >&2
  exit 1
fi
for tool in ip ethtool tcpdump tshark ping python3; do
  command -v "$tool" >/dev/null || { echo "capture-fixtures.sh: missing $tool" >&2; exit 1; }
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$ROOT/test/fixtures
OUT_PCAP=$OUT_DIR/linux-capture.pcap
OUT_TS=$OUT_DIR/linux-packets.ts

# Unique names so parallel runs (and other people's namespaces) never collide.
TAG=$$
NS_A=ssfx-a-$TAG
NS_R=ssfx-r-$TAG
NS_B=ssfx-b-$TAG
WORK=$(mktemp -d /tmp/ssfx.XXXXXX)
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_R" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_a() { ip netns exec "$NS_A" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

A=10.77.1.1
R_NEAR=10.77.1.254
R_FAR=10.77.2.254
B=10.77.2.2

# ---------------------------------------------------------------- topology
ip netns add "$NS_A"
ip netns add "$NS_R"
ip netns add "$NS_B"
ip link add a0 netns "$NS_A" type veth peer name r0 netns "$NS_R"
ip link add r1 netns "$NS_R" type veth peer name b0 netns "$NS_B"

setup_if() { # ns ifname mac cidr [mtu]
  local ns=$1 ifname=$2 macaddr=$3 cidr=$4 mtu=${5:-1500}
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set "$ifname" address "$macaddr" mtu "$mtu"
  # With offload on, veth leaves CHECKSUM_PARTIAL packets and GSO super-frames
  # in the capture: the bytes would not be what a real wire carries.
  ip netns exec "$ns" ethtool -K "$ifname" tx off rx off tso off gso off gro off >/dev/null 2>&1 ||
    ip netns exec "$ns" ethtool -K "$ifname" tx off rx off >/dev/null
  ip -n "$ns" addr add "$cidr" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
  ip -n "$ns" link set lo up
}
# Fixed locally administered MACs, so regenerated fixtures differ only where Linux does.
setup_if "$NS_A" a0 02:00:00:77:01:01 "$A/24"
setup_if "$NS_R" r0 02:00:00:77:01:fe "$R_NEAR/24"
setup_if "$NS_R" r1 02:00:00:77:02:fe "$R_FAR/24" 1280
setup_if "$NS_B" b0 02:00:00:77:02:02 "$B/24" 1280
ip -n "$NS_A" route add 10.77.2.0/24 via "$R_NEAR"
ip -n "$NS_B" route add 10.77.1.0/24 via "$R_FAR"
in_r sysctl -qw net.ipv4.ip_forward=1
# The router sends several ICMP errors to A within a second; Linux would rate-limit them.
in_r sysctl -qw net.ipv4.icmp_ratelimit=0

# ---------------------------------------------------------------- helpers
cat >"$WORK/peer.py" <<'PY'
import socket, sys, threading, time, os

def tcp_conn_server(port, ready):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(1); ready()
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b'hello from R, sockstack fixture reply\n')
    while c.recv(4096):  # wait for A's FIN, then close: A closes first
        pass
    c.close(); s.close()

def tcp_bulk_server(port, ready):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(1); ready()
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close(); s.close()

def udp_echo_server(port, count, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', port)); ready()
    for _ in range(count):
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)
    s.close()

def serve(readyfile):
    pending = [3]
    lock = threading.Lock()
    def ready():
        with lock:
            pending[0] -= 1
            if pending[0] == 0:
                open(readyfile, 'w').close()
    ts = [threading.Thread(target=tcp_conn_server, args=(5000, ready), daemon=True),
          threading.Thread(target=tcp_bulk_server, args=(5001, ready), daemon=True),
          threading.Thread(target=udp_echo_server, args=(6000, 2, ready), daemon=True)]
    for t in ts: t.start()
    for t in ts: t.join(60)

def tcp_conn(host):
    c = socket.create_connection((host, 5000), timeout=10)
    c.sendall(b'hello from A, sockstack fixture request\n')
    c.recv(4096)
    time.sleep(0.2)  # let R's delayed ACK go out before our FIN
    c.close()
    time.sleep(0.5)

def tcp_rst(host):
    try:
        socket.create_connection((host, 5999), timeout=5)
    except ConnectionRefusedError:
        return
    raise SystemExit('expected connection refused')

def tcp_bulk(host, total):
    c = socket.create_connection((host, 5001), timeout=30)
    chunk = bytes(range(256)) * 256
    sent = 0
    while sent < total:
        c.sendall(chunk); sent += len(chunk)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()

def udp(host, port, size, expect_reply):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    payload = (b'sockstack udp fixture ' * (size // 22 + 1))[:size]
    s.sendto(payload, (host, port))
    try:
        s.recvfrom(65535)
    except (socket.timeout, ConnectionRefusedError):
        if expect_reply: raise
    s.close()

cmd = sys.argv[1]
if cmd == 'serve': serve(sys.argv[2])
elif cmd == 'tcp-conn': tcp_conn(sys.argv[2])
elif cmd == 'tcp-rst': tcp_rst(sys.argv[2])
elif cmd == 'tcp-bulk': tcp_bulk(sys.argv[2], int(sys.argv[3]))
elif cmd == 'udp': udp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == 'reply')
else: raise SystemExit('unknown command ' + cmd)
PY

wait_for_file() { # path what
  local i
  for i in $(seq 1 100); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  echo "capture-fixtures.sh: timed out waiting for $2" >&2
  exit 1
}

# ---------------------------------------------------------------- capture
in_a tcpdump -i a0 -U -s 0 --immediate-mode -w "$WORK/all.pcap" 2>"$WORK/tcpdump.log" &
PIDS+=($!)
TCPDUMP_PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$WORK/tcpdump.log" || { echo "tcpdump did not start" >&2; cat "$WORK/tcpdump.log" >&2; exit 1; }

in_r python3 "$WORK/peer.py" serve "$WORK/ready" &
PIDS+=($!)
SERVER_PID=$!
wait_for_file "$WORK/ready" "servers in $NS_R"

echo "== ARP + ICMP echo"
in_a ping -n -c 1 -W 2 "$R_NEAR" >/dev/null
echo "== ICMP echo with IPv4 Record Route option"
in_a ping -n -R -c 1 -W 2 "$R_NEAR" >/dev/null
echo "== TCP connection"
in_a python3 "$WORK/peer.py" tcp-conn "$R_NEAR"
echo "== TCP RST"
in_a python3 "$WORK/peer.py" tcp-rst "$R_NEAR"
echo "== UDP"
in_a python3 "$WORK/peer.py" udp "$R_NEAR" 6000 64 reply
echo "== ICMP port unreachable"
in_a python3 "$WORK/peer.py" udp "$R_NEAR" 6001 32 none
echo "== fragmented UDP"
in_a python3 "$WORK/peer.py" udp "$R_NEAR" 6000 4000 reply

echo "== TCP bulk transfer with loss (SACK)"
if command -v nft >/dev/null && in_r nft add table inet ssfx 2>/dev/null; then
  # Deterministic loss: R drops every 10th data segment of the bulk stream on
  # input. A captured the segment on a0, so the capture shows the hole and
  # R's SACK blocks describing it.
  in_r nft add chain inet ssfx input '{ type filter hook input priority 0; policy accept; }'
  in_r nft add rule inet ssfx input tcp dport 5001 ip length gt 200 numgen inc mod 10 == 0 drop
  LOSS="nft numgen: every 10th data segment dropped on R input"
elif in_a tc qdisc add dev a0 root netem loss 10% 2>/dev/null; then
  LOSS="netem loss 10% on a0 egress"
else
  echo "capture-fixtures.sh: need nft (nftables) or the netem qdisc to make loss" >&2
  exit 1
fi
in_a python3 "$WORK/peer.py" tcp-bulk "$R_NEAR" 400000
in_r nft delete table inet ssfx 2>/dev/null || in_a tc qdisc del dev a0 root 2>/dev/null || true
wait "$SERVER_PID" || true

echo "== ICMP time exceeded (TTL 1 through R)"
in_a ping -n -c 1 -t 1 -W 2 "$B" >/dev/null || true
echo "== ICMP fragmentation needed (DF 1428 bytes, R's far side has MTU 1280)"
in_a ping -n -c 1 -M do -s 1400 -W 2 "$B" >/dev/null || true

sleep 0.5
# TERM, not INT: a background job of a non-interactive shell ignores SIGINT.
kill -TERM "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true

# ---------------------------------------------------------------- select frames
KERNEL=$(uname -r)
TODAY=$(date -u +%Y-%m-%d)
mkdir -p "$OUT_DIR"
cat >"$WORK/pick-frames.py" <<'PY'
import struct, subprocess, sys

src, out_pcap, out_ts, kernel, today, loss = sys.argv[1:7]
A = '10.77.1.1'; R = '10.77.1.254'

# (name, max frames, tshark display filter, note). Names are stable across
# regenerations; frames are taken in capture order, each frame at most once.
SPECS = [
    ('arp-request', 1, 'arp.opcode == 1 && eth.dst == ff:ff:ff:ff:ff:ff', 'ARP who-has from A for R (broadcast)'),
    ('arp-reply', 1, 'arp.opcode == 2', 'ARP reply from R'),
    ('icmp-echo-request', 1, f'icmp.type == 8 && ip.dst == {R} && ip.hdr_len == 20', 'ping A -> R'),
    ('icmp-echo-reply', 1, f'icmp.type == 0 && ip.src == {R} && ip.hdr_len == 20', 'ping reply R -> A'),
    ('icmp-echo-request-rr', 1, 'icmp.type == 8 && ip.opt.type == 7', 'ping -R: IPv4 header carries a Record Route option (RFC 791)'),
    ('icmp-echo-reply-rr', 1, 'icmp.type == 0 && ip.opt.type == 7', 'reply to ping -R, Record Route filled in'),
    ('tcp-conn', 14, 'tcp.port == 5000', 'TCP connection A -> R:5000: handshake, data both ways, FIN/ACK teardown'),
    ('tcp-rst-syn', 1, 'tcp.dstport == 5999 && tcp.flags.syn == 1', 'SYN to a closed port'),
    ('tcp-rst', 1, 'tcp.srcport == 5999 && tcp.flags.reset == 1', 'RST|ACK from the closed port'),
    ('udp-request', 1, f'udp.dstport == 6000 && ip.src == {A} && !(ip.flags.mf == 1 || ip.frag_offset > 0)', 'UDP datagram A -> R:6000'),
    ('udp-reply', 1, f'udp.srcport == 6000 && ip.src == {R} && !(ip.flags.mf == 1 || ip.frag_offset > 0)', 'UDP echo R:6000 -> A'),
    ('udp-closed-port', 1, 'udp.dstport == 6001 && !icmp', 'UDP datagram to a closed port'),
    ('icmp-port-unreachable', 1, 'icmp.type == 3 && icmp.code == 3', 'ICMP port unreachable; the quote holds the IPv4 header and UDP header of udp-closed-port'),
    ('udp-fragment', 4, f'ip.src == {A} && (ip.flags.mf == 1 || ip.frag_offset > 0)', '4000-byte UDP datagram A -> R:6000 in IPv4 fragments'),
    ('tcp-sack', 2, 'tcp.options.sack_le', 'ACK from R with a SACK block during a bulk transfer with loss (' + loss + ')'),
    ('tcp-sack-multi', 1, 'tcp.options.sack.count >= 2', 'ACK from R with several SACK blocks (several holes) in the same bulk transfer'),
    ('tcp-bulk-retransmit', 1, 'tcp.analysis.retransmission && tcp.dstport == 5001', 'A retransmits a segment that R reported missing'),
    ('icmp-echo-request-ttl1', 1, f'icmp.type == 8 && ip.ttl == 1', 'ping -t 1 A -> B through R'),
    ('icmp-time-exceeded', 1, 'icmp.type == 11', 'ICMP time exceeded in transit from R, quoting the TTL 1 echo request'),
    ('icmp-echo-request-df', 1, f'icmp.type == 8 && ip.dst == 10.77.2.2 && ip.flags.df == 1 && ip.len > 1280', 'ping -M do -s 1400 A -> B: DF, 1428 bytes'),
    ('icmp-frag-needed', 1, 'icmp.type == 3 && icmp.code == 4', 'ICMP fragmentation needed from R, next-hop MTU 1280 (RFC 1191)'),
]

def tshark(filt):
    out = subprocess.run(['tshark', '-r', src, '-o', 'ip.defragment:FALSE', '-Y', filt,
                          '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number', '-e', '_ws.col.Info'],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        num, _, info = line.partition('\t')
        rows.append((int(num), info.strip()))
    return rows

def read_pcap(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    header = data[:24]
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f'expected an Ethernet capture, got linktype {linktype}')
    frames, at = [], 24
    while at + 16 <= len(data):
        rec = data[at:at + 16]
        incl = struct.unpack(endian + 'IIII', rec)[2]
        frames.append((rec, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return endian, header, frames

endian, header, frames = read_pcap(src)
chosen, used = [], set()
for name, count, filt, note in SPECS:
    rows = [r for r in tshark(filt) if r[0] not in used][:count]
    if not rows:
        raise SystemExit(f'no frame matched {name}: {filt}')
    for i, (num, info) in enumerate(rows):
        used.add(num)
        full = name if count == 1 else f'{name}-{i + 1:02d}'
        chosen.append((num, full, f'{note}. tshark: {info}'))
chosen.sort()

with open(out_pcap, 'wb') as f:
    f.write(header)
    for num, _, _ in chosen:
        rec, frame = frames[num - 1]
        if len(frame) != struct.unpack(endian + 'IIII', rec)[3]:
            raise SystemExit(f'frame {num} was truncated by the capture')
        f.write(rec + frame)

def ts_string(s):
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"

lines = [
    '/**',
    ' * Real Linux packets for the wire-format tests.',
    ' *',
    f' * GENERATED by scripts/capture-fixtures.sh from Linux {kernel} on {today}:',
    ' * do not edit; rerun the script (as root) instead. The same frames, in the',
    ' * same order, are in linux-capture.pcap beside this file.',
    ' *',
    ' * Hosts: A 10.77.1.1 (02:00:00:77:01:01), R 10.77.1.254 (02:00:00:77:01:fe),',
    ' * a router to B 10.77.2.2 behind a 1280-byte MTU. Captured on A\'s veth with',
    ' * checksum offload off, so every checksum is the one a real wire carries.',
    ' */',
    '',
    'export interface LinuxPacketFixture {',
    '  readonly name: string;',
    '  readonly note: string;',
    "  readonly linkType: 'ethernet';",
    '  /** The whole Ethernet frame (no FCS), lower-case hex. */',
    '  readonly hex: string;',
    '}',
    '',
    'export const linuxPackets: readonly LinuxPacketFixture[] = [',
]
for num, name, note in chosen:
    hexs = frames[num - 1][1].hex()
    chunks = [hexs[i:i + 96] for i in range(0, len(hexs), 96)]
    lines.append('  {')
    lines.append(f'    name: {ts_string(name)},')
    lines.append(f'    note: {ts_string(note)},')
    lines.append("    linkType: 'ethernet',")
    lines.append('    hex:')
    for j, c in enumerate(chunks):
        lines.append(f"      '{c}'" + (' +' if j < len(chunks) - 1 else ','))
    lines.append('  },')
lines.append('];')
lines.append('')
open(out_ts, 'w').write('\n'.join(lines))
print(f'{len(chosen)} frames selected from {len(frames)} captured')
PY
python3 "$WORK/pick-frames.py" "$WORK/all.pcap" "$OUT_PCAP" "$OUT_TS" "$KERNEL" "$TODAY" "$LOSS"
echo "wrote $OUT_PCAP and $OUT_TS"
