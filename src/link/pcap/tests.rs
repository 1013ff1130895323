use super::*;
use crate::link::testutil::{in_ci, netns_test};
use std::process::{Command, Stdio};
use std::time::Instant;

fn t(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

fn write_to_vec(frames: &[(SystemTime, Vec<u8>, usize)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (ts, d, o) in frames {
        w.write_frame(*ts, d, *o).unwrap();
    }
    w.into_inner()
}

fn eth(len: usize, tag: u8) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[12] = 0x88;
    f[13] = 0xb5;
    for (i, b) in f[14..].iter_mut().enumerate() {
        *b = tag.wrapping_add(i as u8);
    }
    f
}

#[test]
fn header_layout() {
    let bytes = PcapWriter::new(Vec::new()).unwrap().into_inner();
    assert_eq!(
        bytes,
        [
            0x4d, 0x3c, 0xb2, 0xa1, // magic, ns, little-endian
            2, 0, 4, 0, // version 2.4
            0, 0, 0, 0, // thiszone
            0, 0, 0, 0, // sigfigs
            0x00, 0x00, 0x04, 0x00, // snaplen 262144
            1, 0, 0, 0, // linktype Ethernet
        ]
    );
}

#[test]
fn record_layout() {
    let bytes = write_to_vec(&[(t(0x0102_0304, 123_456_789), vec![0xaa, 0xbb, 0xcc], 10)]);
    assert_eq!(
        &bytes[24..],
        [
            0x04, 0x03, 0x02, 0x01, // seconds
            0x15, 0xcd, 0x5b, 0x07, // nanoseconds 123456789
            3, 0, 0, 0, // captured length
            10, 0, 0, 0, // original length
            0xaa, 0xbb, 0xcc,
        ]
    );
}

#[test]
fn roundtrip() {
    let frames = vec![
        (t(1_700_000_000, 1), eth(60, 1), 60),
        (t(1_700_000_000, 999_999_999), eth(65550, 2), 65550),
        (t(1_700_000_001, 500), eth(100, 3), 1514), // truncated capture
        (t(0, 0), vec![], 0),
    ];
    let bytes = write_to_vec(&frames);
    assert_eq!(read_all(&bytes).unwrap(), frames);
    let mut r = PcapReader::new(&bytes[..]).unwrap();
    assert_eq!(r.linktype(), LINKTYPE_ETHERNET);
    assert_eq!(r.by_ref().count(), 4);
    assert_eq!(r.offset(), bytes.len() as u64);
    assert!(r.next_frame().unwrap().is_none());
}

#[test]
fn writer_clamps() {
    let big = eth(SNAPLEN as usize + 10, 0);
    let bytes = write_to_vec(&[
        (t(5, 0), big.clone(), 3), // orig_len raised to data length, data cut
        (UNIX_EPOCH - Duration::from_secs(5), vec![1], 1), // before 1970: written as 0
    ]);
    let got = read_all(&bytes).unwrap();
    assert_eq!(got[0].1, &big[..SNAPLEN as usize]);
    assert_eq!(got[0].2, big.len());
    assert_eq!(got[1].0, UNIX_EPOCH);
}

#[test]
fn writer_via_file_and_frame() {
    let dir = std::env::temp_dir().join(format!("craft-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("frame.pcap");
    let mut w = PcapWriter::create(&path).unwrap();
    let f = Frame {
        data: eth(64, 9),
        direction: crate::link::Direction::Host,
        ts: t(1_700_000_000, 42),
        orig_len: 64,
    };
    w.write(&f).unwrap();
    // Flushed per frame: readable while the writer is still open.
    let got: Vec<_> = PcapReader::open(&path)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got, vec![(f.ts, f.data.clone(), 64)]);
    drop(w);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A writer that accepts `room` bytes, then fails like a full disk.
struct Full {
    room: usize,
    data: Vec<u8>,
}
impl Write for Full {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let n = b.len().min(self.room);
        self.room -= n;
        self.data.extend_from_slice(&b[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn disk_full_is_an_error_not_a_panic() {
    assert!(
        PcapWriter::new(Full {
            room: 10,
            data: vec![]
        })
        .is_err()
    );
    let mut w = PcapWriter::new(Full {
        room: 24 + 16 + 60 + 20,
        data: vec![],
    })
    .unwrap();
    w.write_frame(t(1, 0), &eth(60, 0), 60).unwrap();
    let e = w.write_frame(t(2, 0), &eth(60, 0), 60).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
    // After a failure nothing more is appended, even if room came back.
    w.set_flush_each(false);
    assert!(w.write_frame(t(3, 0), &[1], 1).is_err());
    // The file is still readable up to the last whole frame, then names the torn one.
    let data = w.into_inner().data;
    let mut r = PcapReader::new(&data[..]).unwrap();
    assert!(r.next_frame().unwrap().is_some());
    let e = r.next_frame().unwrap_err();
    assert_eq!(e.offset, 24 + 16 + 60 + 16, "{e}");
    assert!(matches!(e.kind, PcapErrorKind::Truncated { .. }));

    // /dev/full, the real thing.
    if let Ok(f) = File::options().write(true).open("/dev/full") {
        assert!(PcapWriter::new(f).is_err());
    }
}

/// Classic pcap built by hand, in either byte order, µs or ns.
fn classic(big: bool, nanos: bool, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut b = Vec::new();
    b.extend(u32b(if nanos { MAGIC_NANOS } else { MAGIC_MICROS }));
    b.extend(u16b(2));
    b.extend(u16b(4));
    b.extend(u32b(0));
    b.extend(u32b(0));
    b.extend(u32b(65535));
    b.extend(u32b(1));
    for (s, frac, data, orig) in records {
        b.extend(u32b(*s));
        b.extend(u32b(*frac));
        b.extend(u32b(data.len() as u32));
        b.extend(u32b(*orig));
        b.extend_from_slice(data);
    }
    b
}

#[test]
fn reads_both_byte_orders_and_resolutions() {
    for big in [false, true] {
        for nanos in [false, true] {
            let bytes = classic(big, nanos, &[(10, 250, &[1, 2, 3], 3), (11, 0, &[], 70)]);
            let got = read_all(&bytes).unwrap();
            let frac = if nanos { 250 } else { 250_000 };
            assert_eq!(
                got,
                vec![(t(10, frac), vec![1, 2, 3], 3), (t(11, 0), vec![], 70)],
                "big={big} nanos={nanos}"
            );
        }
    }
    // Big-endian µs header, byte for byte.
    let be = classic(true, false, &[]);
    assert_eq!(&be[..4], [0xa1, 0xb2, 0xc3, 0xd4]);
    assert!(read_all(&be).unwrap().is_empty());
}

#[test]
fn truncated_files_name_the_offset() {
    let bytes = write_to_vec(&[(t(1, 0), eth(60, 0), 60), (t(2, 0), eth(100, 0), 100)]);
    let rec2 = 24 + 16 + 60;
    for cut in 0..bytes.len() {
        match read_all(&bytes[..cut]) {
            Ok(frames) => assert!(
                cut == 24 || cut == rec2,
                "cut {cut} read {} frames",
                frames.len()
            ),
            Err(e) => {
                let want = if cut < 24 {
                    0
                } else if cut < 24 + 16 {
                    24
                } else if cut < rec2 {
                    24 + 16
                } else if cut < rec2 + 16 {
                    rec2
                } else {
                    rec2 + 16
                };
                assert_eq!(e.offset, want as u64, "cut {cut}: {e}");
                assert!(
                    matches!(e.kind, PcapErrorKind::Truncated { .. }),
                    "cut {cut}: {e}"
                );
                assert!(e.to_string().contains(&format!("offset {want}")), "{e}");
            }
        }
    }
}

#[test]
fn garbage_is_refused() {
    let e = read_all(b"GIF89a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap_err();
    assert!(matches!(e.kind, PcapErrorKind::BadMagic(_)), "{e}");
    assert_eq!(e.offset, 0);
    assert!(e.to_string().contains("not a pcap"), "{e}");

    // A captured length of 4 GiB: refused before allocating.
    let mut bytes = write_to_vec(&[(t(1, 0), eth(60, 0), 60)]);
    bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = read_all(&bytes).unwrap_err();
    assert_eq!(e.offset, 24 + 8);
    assert!(matches!(e.kind, PcapErrorKind::TooLarge { .. }), "{e}");

    // Wrong major version.
    let mut bytes = write_to_vec(&[]);
    bytes[4] = 9;
    let e = read_all(&bytes).unwrap_err();
    assert!(
        matches!(e.kind, PcapErrorKind::UnsupportedVersion(9, 4)),
        "{e}"
    );
}

/// A pcapng file: SHB, IDB (with if_tsresol = 10^-9 when `ns`), an EPB, an SPB,
/// an unknown block (skipped), another EPB.
fn pcapng(big: bool, ns: bool) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let block = |out: &mut Vec<u8>, typ: u32, body: &[u8]| {
        let total = 12 + body.len().div_ceil(4) * 4;
        out.extend(u32b(typ));
        out.extend(u32b(total as u32));
        out.extend_from_slice(body);
        out.resize(out.len() + (total - 12 - body.len()), 0);
        out.extend(u32b(total as u32));
    };
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend(u32b(NG_BYTE_ORDER));
    shb.extend(u16b(1));
    shb.extend(u16b(0));
    shb.extend((-1i64).to_le_bytes());
    block(&mut out, NG_SHB, &shb);
    let mut idb = Vec::new();
    idb.extend(u16b(1));
    idb.extend(u16b(0));
    idb.extend(u32b(0));
    if ns {
        idb.extend(u16b(9));
        idb.extend(u16b(1));
        idb.extend([9, 0, 0, 0]);
    }
    idb.extend(u16b(0));
    idb.extend(u16b(0));
    block(&mut out, NG_IDB, &idb);
    let epb = |ts: u64, data: &[u8], orig: u32| {
        let mut b = Vec::new();
        b.extend(u32b(0));
        b.extend(u32b((ts >> 32) as u32));
        b.extend(u32b(ts as u32));
        b.extend(u32b(data.len() as u32));
        b.extend(u32b(orig));
        b.extend_from_slice(data);
        b
    };
    let unit = if ns { 1_000_000_000 } else { 1_000_000 };
    block(
        &mut out,
        NG_EPB,
        &epb(1_700_000_000 * unit + 7, &[1, 2, 3, 4, 5], 9),
    );
    let mut spb = Vec::new();
    spb.extend(u32b(3));
    spb.extend([7, 8, 9]);
    block(&mut out, NG_SPB, &spb);
    block(&mut out, 0x0BAD, &[1, 2, 3, 4, 5, 6, 7, 8]);
    block(&mut out, NG_EPB, &epb(5 * unit, &[], 0));
    out
}

#[test]
fn reads_pcapng() {
    for big in [false, true] {
        for ns in [false, true] {
            let got = read_all(&pcapng(big, ns)).unwrap();
            let frac = if ns { 7 } else { 7_000 };
            assert_eq!(
                got,
                vec![
                    (t(1_700_000_000, frac), vec![1, 2, 3, 4, 5], 9),
                    (UNIX_EPOCH, vec![7, 8, 9], 3),
                    (t(5, 0), vec![], 0),
                ],
                "big={big} ns={ns}"
            );
        }
    }
    let ng = pcapng(false, true);
    let mut r = PcapReader::new(&ng[..]).unwrap();
    r.next_frame().unwrap();
    assert_eq!(r.linktype(), 1);
}

#[test]
fn pcapng_errors() {
    let good = pcapng(false, true);
    // Mismatched trailer of the IDB (at 28; 32 bytes long with the option).
    let mut bad = good.clone();
    let idb_end = 28 + 32;
    bad[idb_end - 4] ^= 0xff;
    let e = read_all(&bad).unwrap_err();
    assert_eq!(e.offset, (idb_end - 4) as u64, "{e}");
    assert!(e.to_string().contains("trailing length"), "{e}");
    // EPB names an interface that has no IDB.
    let mut bad = good.clone();
    bad[idb_end + 8] = 5;
    let e = read_all(&bad).unwrap_err();
    assert!(e.to_string().contains("interface 5"), "{e}");
    // EPB captured length beyond its block.
    let mut bad = good.clone();
    bad[idb_end + 20] = 200;
    let e = read_all(&bad).unwrap_err();
    assert_eq!(e.offset, (idb_end + 20) as u64, "{e}");
    // Huge block length: refused, not allocated.
    let mut bad = good.clone();
    bad[idb_end + 4..idb_end + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let e = read_all(&bad).unwrap_err();
    assert!(matches!(e.kind, PcapErrorKind::TooLarge { .. }), "{e}");
    // Bad byte-order magic.
    let mut bad = good;
    bad[8] = 0;
    let e = read_all(&bad).unwrap_err();
    assert_eq!(e.offset, 8, "{e}");
}

/// Small deterministic PRNG for the mutation test.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn hostile_input_never_panics() {
    let seeds = [
        write_to_vec(&[(t(1, 0), eth(60, 0), 60), (t(2, 0), eth(300, 1), 300)]),
        classic(true, false, &[(1, 999_999_999, &[1; 40], 40)]),
        pcapng(false, true),
        pcapng(true, false),
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    let mut n = 0;
    while n < 20_000 {
        let mut b = seeds[n % seeds.len()].clone();
        for _ in 0..1 + rng.next() % 6 {
            let i = (rng.next() as usize) % b.len();
            match rng.next() % 4 {
                0 => b[i] = rng.next() as u8,
                1 => b[i] ^= 1 << (rng.next() % 8),
                2 => b.truncate(i),
                _ => {
                    let v = [0x00, 0xff, 0x7f, 0x80][(rng.next() % 4) as usize];
                    b[i] = v;
                }
            }
            if b.is_empty() {
                break;
            }
        }
        if let Ok(frames) = read_all(&b) {
            for (_, d, o) in frames {
                assert!(d.len() <= MAX_CAPLEN && o >= d.len());
            }
        }
        n += 1;
    }
    // Pure random bytes too, with valid magics in front.
    for _ in 0..5_000 {
        let len = (rng.next() % 200) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let magic: &[u8] = match rng.next() % 3 {
            0 => &[0x4d, 0x3c, 0xb2, 0xa1],
            1 => &[0x0a, 0x0d, 0x0d, 0x0a],
            _ => &[0xa1, 0xb2, 0xc3, 0xd4],
        };
        b.splice(0..0, magic.iter().copied());
        let _ = read_all(&b);
    }
    assert!(start.elapsed() < Duration::from_secs(30));
}

// ---------------------------------------------------------------------------
// Interop with tcpdump

/// True if tcpdump runs. Absent: fails under CI=true, else prints a loud SKIPPED.
fn have_tcpdump(test: &str) -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if in_ci() {
            panic!(
                "{test}: tcpdump is not installed (apt-get install -y tcpdump); CI=true, so failing"
            );
        }
        crate::link::testutil::loud(&format!(
            "SKIPPED: {test} needs tcpdump (apt-get install -y tcpdump)"
        ));
    }
    ok
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("craft-pcap-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn tcpdump_reads_our_file() {
    if !have_tcpdump("tcpdump_reads_our_file") {
        return;
    }
    let path = temp_path("ours.pcap");
    let mut w = PcapWriter::create(&path).unwrap();
    w.write_frame(t(1_700_000_000, 123_456_789), &eth(60, 0), 60)
        .unwrap();
    w.write_frame(t(1_700_000_001, 5), &eth(1514, 1), 1514)
        .unwrap();
    w.write_frame(t(1_700_000_002, 0), &eth(100, 2), 4000)
        .unwrap();
    drop(w);
    let out = Command::new("tcpdump")
        .args(["-r"])
        .arg(&path)
        .args(["-nn", "-e", "-tt", "--time-stamp-precision=nano"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tcpdump failed: {stderr}");
    assert!(stderr.contains("link-type EN10MB"), "{stderr}");
    // Packet lines (tcpdump adds an indented hex dump for unknown ethertypes).
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("1700000000.123456789 "), "{stdout}");
    assert!(lines[1].starts_with("1700000001.000000005 "), "{stdout}");
    assert!(lines[0].contains("ethertype Unknown (0x88b5)"), "{stdout}");
    assert!(lines[1].contains("length 1514"), "{stdout}");
    assert!(lines[2].contains("length 4000"), "{stdout}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// Captures UDP datagrams to 127.0.0.1:9999 with tcpdump on lo; returns the file.
fn tcpdump_capture(extra: &[&str], name: &str) -> std::path::PathBuf {
    use std::io::BufRead;
    let path = temp_path(name);
    let mut child = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-Z", "root", "-c", "3", "-w"])
        .arg(&path)
        .args(extra)
        .args(["udp", "port", "9999"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpdump");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening on lo"), "tcpdump: {line}");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut i = 0u32;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "tcpdump exited {st}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tcpdump did not capture 3 packets in 5 s");
        }
        sock.send_to(format!("craft-{i}").as_bytes(), "127.0.0.1:9999")
            .unwrap();
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    path
}

netns_test! {
    fn reads_what_tcpdump_wrote() {
        if !have_tcpdump("reads_what_tcpdump_wrote") {
            return;
        }
        let before = SystemTime::now();
        for (extra, name, magic) in [
            (&[][..], "us.pcap", MAGIC_MICROS),
            (&["--time-stamp-precision=nano"][..], "ns.pcap", MAGIC_NANOS),
        ] {
            let path = tcpdump_capture(extra, name);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(u32::from_le_bytes(bytes[..4].try_into().unwrap()), magic);
            let frames = read_all(&bytes).unwrap();
            assert_eq!(frames.len(), 3, "{name}");
            for (ts, data, orig) in &frames {
                assert!(*ts >= before - Duration::from_secs(1) && *ts <= SystemTime::now(), "{name}: {ts:?}");
                assert_eq!(*orig, data.len());
                // Ethernet (zero MACs on lo) + IPv4 (20) + UDP (8) + "craft-N".
                assert_eq!(&data[12..14], [0x08, 0x00], "{name}: IPv4 ethertype");
                assert_eq!(&data[14 + 20 + 2..14 + 20 + 4], 9999u16.to_be_bytes());
                assert!(data[14 + 28..].starts_with(b"craft-"), "{name}");
            }
            std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        }
    }
}
