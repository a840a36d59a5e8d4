#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the binary seeds of the netlink fuzzers (fuzz_nft, fuzz_netlink, fuzz_probe) into
# tests/fuzz/corpus/<target>/: messages laid out as the kernel sends them (nlmsghdr,
# nfgenmsg or rtmsg, attributes padded to 4). Text seeds are checked in as they are.
# usage: tests/fuzz/corpus/make_seeds.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def strz(t, s):
    return attr(t, s.encode() + b"\0")


def be32(t, v):
    return attr(t, struct.pack(">I", v))


def be64(t, v):
    return attr(t, struct.pack(">Q", v))


def nest(t, *attrs):
    return attr(t | 0x8000, b"".join(attrs))


def msg(mtype, flags, seq, payload, pid=0):
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, pid) + payload


NFT = 10 << 8
NFGEN_INET = struct.pack("=BBH", 1, 0, 0)
NLM_F_MULTI, NLM_F_ACK_TLVS, NLM_F_CAPPED = 0x2, 0x200, 0x100
DONE = msg(3, NLM_F_MULTI, 0, struct.pack("=i", 0))


def table(name):
    return msg(NFT | 0, NLM_F_MULTI, 0, NFGEN_INET + strz(1, name) + be32(2, 0) + be32(3, 4))


def chain(name, hook=None, prio=0, ctype="filter", tbl="uplinkd"):
    a = strz(1, tbl) + strz(3, name)
    if hook is not None:
        a += nest(4, be32(1, hook), be32(2, prio & 0xffffffff)) + strz(7, ctype)
    return msg(NFT | 3, NLM_F_MULTI, 0, NFGEN_INET + a)


def nset(name, key_type=7, key_len=4, flags=0, timeout=None, tbl="uplinkd"):
    a = strz(1, tbl) + strz(2, name) + be32(3, flags) + be32(4, key_type) + be32(5, key_len)
    if timeout is not None:
        a += be64(11, timeout)    # NFTA_SET_TIMEOUT, ms
    return msg(NFT | 9, NLM_F_MULTI, 0, NFGEN_INET + a)


def err(code, seq, inner_len=20, text=None, capped=True):
    inner = struct.pack("=IHHII", inner_len, NFT | 6, 5, seq, 0)
    if not capped:
        inner += NFGEN_INET    # the whole request echoed: its payload too
    flags = 0
    tail = b""
    if text is not None:
        flags = NLM_F_ACK_TLVS | (NLM_F_CAPPED if capped else 0)
        tail = strz(1, text)
    return msg(2, flags, seq, struct.pack("=i", code) + inner + tail)


def rule(chain_name, seq):
    return msg(NFT | 6, 0x405, seq, NFGEN_INET + strz(1, "uplinkd") + strz(2, chain_name))


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# fuzz_nft: first byte 0 table dump, 1 chains, 2 sets, 3 acks, 4 describe a batch
write("fuzz_nft", "table", b"\0" + table("uplinkd") + DONE)
write("fuzz_nft", "chains", b"\1" + chain("pre", 0, -150, "filter") + chain("out", 3, -150, "route")
      + chain("mark") + chain("other", tbl="filter") + DONE)
write("fuzz_nft", "sets", b"\2" + nset("lan_ifs", 41, 16) + nset("sticky", 7, 4, 0x10, 600000)
      + nset("pinned_v4", 7, 4, 0x1) + DONE)
write("fuzz_nft", "acks_ok", b"\3" + err(0, 1) + err(0, 2) + err(0, 3))
write("fuzz_nft", "acks_err", b"\3" + err(0, 1) + err(-22, 2, text="Invalid argument in rule")
      + err(-2, 3))
write("fuzz_nft", "acks_uncapped", b"\3" + err(-17, 4, text="exists", capped=False))
batch = (msg(0x10, 1, 1, NFGEN_INET) + rule("pre", 2) + rule("pre", 3) + rule("out", 4)
         + msg(NFT | 9, 0x405, 5, NFGEN_INET + strz(1, "uplinkd") + strz(2, "lan_ifs"))
         + msg(0x11, 1, 6, NFGEN_INET))
write("fuzz_nft", "batch", b"\4" + batch)

# fuzz_netlink: rtnetlink link, address and route messages
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWRULE = 16, 20, 24, 32
ifinfo = struct.pack("=BxHiII", 0, 1, 3, 0x10043, 0)
write("fuzz_netlink", "link", msg(RTM_NEWLINK, 0, 0, ifinfo + strz(3, "wan1") + be32(4, 1500)))
ifaddr = struct.pack("=BBBBI", 2, 24, 0, 0, 3)
write("fuzz_netlink", "addr", msg(RTM_NEWADDR, 0, 0, ifaddr + attr(1, bytes([192, 168, 1, 2]))
                                  + attr(2, bytes([192, 168, 1, 2]))))
rtm = struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 254, 3, 0, 1, 0)
write("fuzz_netlink", "route", msg(RTM_NEWROUTE, 0, 0, rtm + attr(5, bytes([192, 168, 1, 1]))
                                   + struct.pack("=HHi", 8, 4, 3) + struct.pack("=HHI", 8, 15, 254)))
mp = struct.pack("=HBBi", 16, 0, 0, 3) + attr(5, bytes([192, 168, 1, 1]))
rtm250 = struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 250, 3, 0, 1, 0)
write("fuzz_netlink", "multipath", msg(RTM_NEWROUTE, 0, 0, rtm250 + struct.pack("=HHI", 8, 15, 250)
                                       + attr(9, mp + mp)))
frh = struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 250, 0, 0, 1, 0)
write("fuzz_netlink", "rule", msg(RTM_NEWRULE, 0, 0, frh + struct.pack("=HHI", 8, 6, 1000)
                                  + struct.pack("=HHI", 8, 10, 0x100) + struct.pack("=HHI", 8, 16, 0xff00)))

# fuzz_probe: 2 bytes id, then an IPv4+ICMP echo reply / a DNS answer / an HTTP status line
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 1, 0, bytes([203, 0, 113, 11]),
                 bytes([192, 168, 1, 2]))
icmp = struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7)
write("fuzz_probe", "icmp", b"\x12\x34" + ip + icmp)
dns = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + b"\x07example\x03com\0\0\1\0\1"
write("fuzz_probe", "dns", b"\x12\x34" + dns)
write("fuzz_probe", "http", b"\x12\x34HTTP/1.1 204 No Content\r\n\r\n")
