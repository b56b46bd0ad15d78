#!/usr/bin/env python3
"""captures.py — writes the examples' sample captures (deterministic pcap files, Ethernet).

    python3 examples/captures.py OUTDIR      → OUTDIR/{firewall,flowcount,lb,sampler,stress}.pcap

Each capture mixes IPv4/IPv6, TCP/UDP/ICMP and ARP traffic chosen for its example (traffic to
blocked ranges, repeated flows, VIP traffic), plus malformed frames every program must survive:
an Ethernet header alone, an IPv4 header cut short, IHL < 5, a truncated TCP header, IPv4 options,
later fragments. Checksums of well-formed packets are correct. The same seed gives the same bytes.
stress.pcap, which every example runs too, cuts frames at every length and tries every IHL.
"""
import os
import random
import socket
import struct
import sys

ETH_IP, ETH_IP6, ETH_ARP = 0x0800, 0x86DD, 0x0806
TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58
OUR_MAC = bytes.fromhex("02aabbccdd01")


# ---- Headers ---------------------------------------------------------------------------------

def csum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, ethertype, src, dst=OUR_MAC):
    return dst + src + struct.pack("!H", ethertype) + payload


def ip4(src, dst, proto, payload, ttl=64, ident=0, frag=0, options=b""):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), ident,
                      frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, nexthdr, payload, hops=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nexthdr, hops,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def pseudo(family, src, dst, proto, length):
    if family == 4:
        return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)
    return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
            struct.pack("!IxxxB", length, proto))


def tcp(family, src, dst, sport, dport, payload=b"", flags=0x18, seq=1):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    seg = hdr + payload
    c = csum(pseudo(family, src, dst, TCP, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(family, src, dst, sport, dport, payload=b"", nocsum=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if nocsum and family == 4:
        return seg
    c = csum(pseudo(family, src, dst, UDP, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp_echo(ident, seq, payload=b""):
    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def icmp6_echo(src, dst, ident, seq, payload=b""):
    msg = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
    c = csum(pseudo(6, src, dst, ICMP6, len(msg)) + msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def arp_request(src_mac, src_ip, dst_ip):
    return eth(struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, 1, src_mac, socket.inet_aton(src_ip),
                           b"\0" * 6, socket.inet_aton(dst_ip)), ETH_ARP, src_mac,
               b"\xff" * 6)


def mac_of(rng):
    return bytes([0x02]) + bytes(rng.randrange(256) for _ in range(5))


# ---- Packet builders -------------------------------------------------------------------------

def v4_packet(rng, src, dst, proto, sport, dport, size=None, nocsum=False):
    """An Ethernet/IPv4 frame of the given protocol with a payload of random length."""
    payload = bytes(rng.randrange(256) for _ in range(size if size is not None else rng.randrange(0, 200)))
    if proto == TCP:
        l4 = tcp(4, src, dst, sport, dport, payload)
    elif proto == UDP:
        l4 = udp(4, src, dst, sport, dport, payload, nocsum)
    else:
        l4 = icmp_echo(sport, dport, payload)
    return eth(ip4(src, dst, proto, l4, ident=rng.randrange(65536)), ETH_IP, mac_of(rng))


def v6_packet(rng, src, dst, proto, sport, dport):
    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
    if proto == TCP:
        l4 = tcp(6, src, dst, sport, dport, payload)
    elif proto == UDP:
        l4 = udp(6, src, dst, sport, dport, payload)
    else:
        l4 = icmp6_echo(src, dst, sport, dport, payload)
    return eth(ip6(src, dst, proto, l4), ETH_IP6, mac_of(rng))


def malformed(rng):
    """Frames that end early or lie about their headers."""
    src = mac_of(rng)
    good = ip4("192.168.7.7", "10.0.0.100", TCP, tcp(4, "192.168.7.7", "10.0.0.100", 4000, 80))
    bad_ihl = bytes([0x44]) + good[1:]                      # IHL 4: header shorter than 20 bytes
    big_ihl = bytes([0x4f]) + good[1:]                      # IHL 15: 60 bytes, more than there is
    return [
        eth(b"", ETH_IP, src),                              # Ethernet header alone
        eth(good[:10], ETH_IP, src),                        # IPv4 header cut at 10 bytes
        eth(bad_ihl, ETH_IP, src),
        eth(big_ihl[:40], ETH_IP, src),
        eth(good[:30], ETH_IP, src),                        # TCP header cut at 10 bytes
        eth(ip6("2001:db8::1", "2001:db8::2", UDP, b"\0" * 4)[:30], ETH_IP6, src),  # IPv6 cut
        eth(ip6("2001:db8::1", "2001:db8::2", TCP, b"\0" * 12), ETH_IP6, src),      # TCP cut
    ]


def options_and_fragments(rng, dst, dport):
    """IPv4 with options (IHL 6) and a later fragment, which carries no ports."""
    src = "192.168.50.%d" % rng.randrange(1, 250)
    seg = tcp(4, src, dst, 5555, dport, b"options")
    opt = ip4(src, dst, TCP, seg, options=b"\x01\x01\x01\x00")  # NOP NOP NOP EOL
    frag = ip4(src, dst, TCP, struct.pack("!HH", 5555, dport) + b"later fragment", frag=0x0010)
    return [eth(opt, ETH_IP, mac_of(rng)), eth(frag, ETH_IP, mac_of(rng))]


# ---- The captures ----------------------------------------------------------------------------

def firewall(rng):
    """Traffic from blocked prefixes and addresses, to blocked ports, and clean traffic."""
    blocked = ["10.10.%d.%d" % (rng.randrange(256), rng.randrange(1, 255)) for _ in range(4)] + \
              ["192.0.2.%d" % rng.randrange(1, 255) for _ in range(3)] + \
              ["198.51.100.%d" % rng.randrange(128, 255) for _ in range(3)] + ["203.0.113.7"]
    clean = ["10.11.0.5", "10.9.255.1", "192.0.3.4", "198.51.100.%d" % rng.randrange(1, 127),
             "203.0.113.8", "172.16.0.9", "8.8.8.8"]
    pkts = []
    for _ in range(160):
        src = rng.choice(blocked if rng.random() < 0.4 else clean)
        proto = rng.choice([TCP, TCP, UDP, UDP, ICMP])
        dport = rng.choice([80, 443, 53, 23, 1900, 8080]) if proto != ICMP else rng.randrange(100)
        pkts.append(v4_packet(rng, src, "10.0.0.1", proto, rng.randrange(1024, 65536), dport))
    for _ in range(20):
        pkts.append(v6_packet(rng, "2001:db8::%x" % rng.randrange(1, 0xffff), "2001:db8::1",
                              rng.choice([TCP, UDP, ICMP6]), rng.randrange(1024, 65536), 23))
    pkts.append(arp_request(mac_of(rng), "10.10.0.1", "10.0.0.1"))
    pkts += malformed(rng) + options_and_fragments(rng, "10.0.0.1", 23)
    pkts.append(v4_packet(rng, "10.10.1.1", "10.0.0.1", UDP, 999, 1900, size=1400))
    rng.shuffle(pkts)
    return pkts


def flowcount(rng):
    """Twenty flows that recur, so counters add up, and some one-packet flows."""
    flows = []
    for i in range(20):
        if i % 4 == 3:
            flows.append((6, "2001:db8:1::%x" % (i + 1), "2001:db8:2::1", rng.choice([TCP, UDP, ICMP6]),
                          rng.randrange(1024, 65536), rng.choice([80, 443, 53])))
        else:
            flows.append((4, "192.168.%d.%d" % (i, i + 1), "10.0.0.%d" % (i % 3 + 1),
                          rng.choice([TCP, UDP, ICMP]), rng.randrange(1024, 65536), rng.choice([80, 443, 53])))
    pkts = []
    for _ in range(180):
        f = rng.choice(flows)
        if rng.random() < 0.1:
            f = (4, "100.64.%d.%d" % (rng.randrange(256), rng.randrange(256)), "10.0.0.9", UDP,
                 rng.randrange(1024, 65536), 4789)
        fam, src, dst, proto, sport, dport = f
        if fam == 4:
            pkts.append(v4_packet(rng, src, dst, proto, sport, dport))
        else:
            pkts.append(v6_packet(rng, src, dst, proto, sport, dport))
    pkts.append(arp_request(mac_of(rng), "10.0.0.1", "10.0.0.2"))
    pkts += malformed(rng) + options_and_fragments(rng, "10.0.0.1", 80)
    rng.shuffle(pkts)
    return pkts


def lb(rng):
    """Clients to the VIPs of examples/lb/rules.txt, other traffic, UDP without checksum."""
    clients = ["198.18.%d.%d" % (rng.randrange(256), rng.randrange(1, 255)) for _ in range(30)]
    pkts = []
    for _ in range(150):
        c = rng.choice(clients)
        r = rng.random()
        if r < 0.45:
            pkts.append(v4_packet(rng, c, "10.0.0.100", TCP, rng.randrange(1024, 65536), 80))
        elif r < 0.70:
            pkts.append(v4_packet(rng, c, "10.0.0.100", UDP, rng.randrange(1024, 65536), 53,
                                  nocsum=rng.random() < 0.2))
        elif r < 0.75:
            pkts.append(v4_packet(rng, c, "10.0.0.101", TCP, rng.randrange(1024, 65536), 443))
        elif r < 0.80:
            pkts.append(v4_packet(rng, c, "10.0.0.102", TCP, rng.randrange(1024, 65536), 8080))
        elif r < 0.90:   # the VIP, but another port or protocol
            pkts.append(v4_packet(rng, c, "10.0.0.100", rng.choice([TCP, UDP, ICMP]),
                                  rng.randrange(1024, 65536), rng.choice([81, 443, 5353])))
        else:
            pkts.append(v6_packet(rng, "2001:db8::%x" % rng.randrange(1, 0xffff), "2001:db8::100",
                                  TCP, rng.randrange(1024, 65536), 80))
    pkts += malformed(rng) + options_and_fragments(rng, "10.0.0.100", 80)
    rng.shuffle(pkts)
    return pkts


def sampler(rng):
    """Frames of every size class: shorter than a sample, exactly 64 bytes, much longer."""
    pkts = []
    for i in range(120):
        size = rng.choice([0, 5, 10, 22, 200, 1000])
        pkts.append(v4_packet(rng, "192.168.1.%d" % (i % 200 + 1), "10.0.0.1", UDP, 5000 + i, 9, size=size))
    pkts.append(eth(b"\x00" * 50, ETH_IP6, mac_of(rng)))                 # exactly 64 bytes
    pkts += malformed(rng)
    rng.shuffle(pkts)
    return pkts


def stress(rng):
    """Edge cases for every example: each base frame cut at every length from 14 bytes on, every
    IHL from 0 to 15 (header checksum kept right), and random EtherTypes."""
    bases = [
        v4_packet(rng, "198.18.0.1", "10.0.0.100", TCP, 40000, 80, size=24),        # lb VIP, TCP
        v4_packet(rng, "198.18.0.2", "10.0.0.100", UDP, 40001, 53, size=16),        # lb VIP, UDP
        v4_packet(rng, "198.18.0.3", "10.0.0.100", UDP, 40002, 53, size=8, nocsum=True),
        v4_packet(rng, "10.10.3.4", "10.0.0.1", TCP, 40003, 443, size=10),          # fw prefix rule
        v4_packet(rng, "172.16.9.9", "10.0.0.1", UDP, 40004, 1900, size=10),        # fw port rule
        v4_packet(rng, "203.0.113.7", "10.0.0.1", ICMP, 7, 1, size=12),             # fw address rule
        v6_packet(rng, "2001:db8::7", "2001:db8::1", TCP, 40005, 23),
        v6_packet(rng, "2001:db8::8", "2001:db8::1", UDP, 40006, 53),
    ] + options_and_fragments(rng, "10.0.0.100", 80)
    pkts = []
    for b in bases:
        pkts += [b[:n] for n in range(14, len(b) + 1)]
    seg = tcp(4, "198.18.0.9", "10.0.0.100", 40007, 80, bytes(range(64)))
    for ihl in range(16):
        opts = b"\x01" * max(0, ihl - 5) * 4
        hdr = ip4("198.18.0.9", "10.0.0.100", TCP, seg, options=opts)
        hdr = bytes([0x40 | ihl]) + hdr[1:]
        h = (ihl * 4) if ihl >= 5 else 20
        hdr = hdr[:10] + b"\0\0" + hdr[12:]
        hdr = hdr[:10] + struct.pack("!H", csum(hdr[:h])) + hdr[12:]
        pkts.append(eth(hdr, ETH_IP, mac_of(rng)))
    for _ in range(16):
        pkts.append(eth(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))),
                        rng.randrange(65536), mac_of(rng)))
    return pkts


CAPTURES = {"firewall": firewall, "flowcount": flowcount, "lb": lb, "sampler": sampler,
            "stress": stress}


def write_pcap(path, pkts, t0=1764547200):
    """Classic pcap, microsecond timestamps, link type Ethernet; frame i at t0 + i ms."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            us = i * 1000
            f.write(struct.pack("<IIII", t0 + us // 1000000, us % 1000000, len(p), len(p)))
            f.write(p)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: captures.py OUTDIR\n")
        return 2
    os.makedirs(sys.argv[1], exist_ok=True)
    for i, (name, make) in enumerate(CAPTURES.items()):
        write_pcap(os.path.join(sys.argv[1], name + ".pcap"), make(random.Random(1000 + i)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
