#!/usr/bin/env python3
"""Writes the seed corpora into fuzz/corpus/<target>/seed-*.

decode: the frames of tests/data/*.pcap, the hex vectors of tests/wire_vectors.rs,
        tests/wire_props.rs and tests/wire_ipv6.rs, and a few frames built with
        `craft show --hex`.
pcap:   the whole tests/data/*.pcap files, a big-endian/nanosecond variant and a
        small pcapng made from the same frames.
lang:   the language snippets of README.md and the string literals of
        tests/lang.rs that look like code.
filter: the expressions of the table in tests/filter_tcpdump.rs (checked
        against tcpdump there).
Run from the repository root: python3 fuzz/make_seeds.py
"""
import glob, hashlib, os, re, struct, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pcap_frames(blob):
    magic = blob[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, out = 24, []
    while off + 16 <= len(blob):
        _, _, incl, _ = struct.unpack(endian + "IIII", blob[off:off + 16])
        out.append(blob[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def pcapng(frames):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", 1, 0, 262144))
    epbs = b"".join(
        block(6, struct.pack("<IIIII", 0, 0, i, len(f), len(f)) + f)
        for i, f in enumerate(frames))
    return shb + idb + epbs


def main():
    frames = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "*.pcap"))):
        blob = open(path, "rb").read()
        put("pcap", blob)
        fs = pcap_frames(blob)
        frames += fs
        # The same records, big-endian with nanosecond timestamps.
        hdr = struct.unpack("<IHHiIII", blob[:24])
        be = struct.pack(">IHHiIII", 0xA1B23C4D, *hdr[1:])
        off = 24
        while off + 16 <= len(blob):
            rec = struct.unpack("<IIII", blob[off:off + 16])
            be += struct.pack(">IIII", *rec) + blob[off + 16:off + 16 + rec[2]]
            off += 16 + rec[2]
        put("pcap", be)
    put("pcap", pcapng(frames))
    for f in frames:
        put("decode", f)
    for src in ("wire_vectors.rs", "wire_props.rs"):
        text = open(os.path.join(ROOT, "tests", src)).read()
        for h in re.findall(r'"([0-9a-f]{28,})"', text):
            put("decode", bytes.fromhex(h))
    # tests/wire_ipv6.rs's vectors start at the network layer: give them an
    # Ethernet header of their type.
    text = open(os.path.join(ROOT, "tests", "wire_ipv6.rs")).read()
    for h in re.findall(r'"([0-9a-f]{28,})"', text):
        b = bytes.fromhex(h)
        if b[:2] == b"\x00\x00":
            put("decode", b)
            continue
        t = {6: b"\x86\xdd", 4: b"\x08\x00"}.get(b[0] >> 4, b"\x08\x06")
        put("decode", bytes(12) + t + b)
    exprs = [
        'Ether()/IP()/UDP(dport=53)/"q"',
        'Ether()/IP()/ICMP()/"ping"',
        'Ether()/IP(ihl=6, options="\\x01\\x01\\x01\\x01")/TCP(flags="S")',
        'Ether()/IP(frag=1)/TCP()',
        'Ether()/IP()/TCP(options=[("MSS", 1460), ("NOP",), ("WScale", 7), ("SAckOK",), ("Timestamp", (1, 0))])',
        'Ether(type=0x86dd)/"\\x60\\x00\\x00\\x00"',
        'Ether()/IPv6()/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/IPv6ExtHdrRouting(addresses=["::2"])/IPv6ExtHdrFragment()/TCP()',
        'Ether()/IPv6()/ICMPv6DestUnreach()/IPv6()/ICMPv6EchoRequest(data="x")',
        'Ether()/Dot1Q()/Dot1Q(vlan=2)/ARP()',
        'Ether()/IPv6()/ICMPv6ND_RA()/ICMPv6NDOptSrcLLAddr()/ICMPv6NDOptPrefixInfo()/ICMPv6NDOptMTU()/ICMPv6NDOptUnknown(type=9, data="x")',
        'Ether()/IPv6()/ICMPv6ND_NS(tgt="::1")/ICMPv6NDOptSrcLLAddr()',
    ]
    craft = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "craft")
    for e in exprs:
        try:
            h = subprocess.run([craft, "show", "--hex", e], capture_output=True, text=True, check=True).stdout.strip()
            put("decode", bytes.fromhex(h))
        except (OSError, subprocess.CalledProcessError, ValueError) as err:
            print(f"skipped {e}: {err}")

    snippets = []
    readme = open(os.path.join(ROOT, "README.md")).read()
    for block in re.findall(r"```\n(.*?)```", readme, re.S):
        if "craft " in block and "=" not in block:
            continue  # shell commands
        snippets.append(block)
        snippets += [l for l in block.splitlines() if l.strip()]
    lang = open(os.path.join(ROOT, "tests", "lang.rs")).read()
    for raw in re.findall(r'r#"(.*?)"#', lang, re.S):
        snippets.append(raw)
    for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', lang):
        try:
            s = lit.encode().decode("unicode_escape")
        except UnicodeDecodeError:
            continue
        if re.search(r"[(=.\[]", s) and len(s) > 3:
            snippets.append(s)
    for s in snippets:
        if "sleep" not in s and "include" not in s:
            put("lang", s.encode())

    table = open(os.path.join(ROOT, "tests", "filter_tcpdump.rs")).read()
    table = table[table.index("const TABLE"):]
    table = table[:table.index("];")]
    for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', table):
        if lit:
            put("filter", lit.encode().decode("unicode_escape").encode())


if __name__ == "__main__":
    main()
