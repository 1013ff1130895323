//! pcap files: a writer (classic pcap, nanosecond timestamps, Ethernet) and a
//! reader (classic pcap in either byte order with µs or ns timestamps, and
//! pcapng's enhanced, simple and obsolete packet blocks). Pure: no sockets.
//!
//! The reader is meant for untrusted input: it never panics, never allocates
//! more than about [`MAX_CAPLEN`] + 64 KiB per record, and every error names the
//! byte offset where the problem starts.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::link::Frame;

/// Classic pcap magic for microsecond timestamps.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Classic pcap magic for nanosecond timestamps (what [`PcapWriter`] writes).
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Snapshot length the writer declares, and the most it stores of one frame.
pub const SNAPLEN: u32 = 262_144;
/// The largest captured length the reader accepts for one record.
pub const MAX_CAPLEN: usize = 262_144;

/// pcapng block types.
const NG_SHB: u32 = 0x0A0D_0D0A;
const NG_IDB: u32 = 1;
const NG_OPB: u32 = 2;
const NG_SPB: u32 = 3;
const NG_EPB: u32 = 6;
const NG_BYTE_ORDER: u32 = 0x1A2B_3C4D;
/// Largest pcapng block body read into memory (packet data plus options).
const MAX_NG_BODY: usize = MAX_CAPLEN + 64 * 1024;

/// One record: capture time, captured bytes, length on the wire (>= bytes.len()).
pub type Record = (SystemTime, Vec<u8>, usize);

// ---------------------------------------------------------------------------
// Writer

/// Writes classic pcap (magic 0xa1b23c4d: nanoseconds; linktype 1: Ethernet;
/// snaplen 262144), little-endian.
///
/// By default every frame is flushed as soon as it is written (one `write` of
/// header and data together), so a killed run leaves a file that is readable
/// up to its last whole frame. After an I/O error (disk full, ...) every later
/// write fails too, so a torn record is never followed by more records.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    buf: Vec<u8>,
    flush_each: bool,
    failed: bool,
    whole: u64,
}

impl PcapWriter<File> {
    /// Creates (or truncates) the file at `path` and writes the header.
    pub fn create(path: impl AsRef<Path>) -> io::Result<PcapWriter<File>> {
        PcapWriter::new(File::create(path)?)
    }

    /// Cuts the file back to its last whole record (after a failed write,
    /// e.g. a full disk), so every reader can read all of it.
    pub fn truncate_to_whole(&mut self) -> io::Result<()> {
        self.w.set_len(self.whole)
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header to `w` (and flushes it).
    pub fn new(mut w: W) -> io::Result<PcapWriter<W>> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NANOS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        w.write_all(&h)?;
        w.flush()?;
        Ok(PcapWriter {
            w,
            buf: Vec::new(),
            flush_each: true,
            failed: false,
            whole: 24,
        })
    }

    /// Bytes of the header and the records written whole.
    pub fn whole_len(&self) -> u64 {
        self.whole
    }

    /// Whether to flush after every frame (default: true).
    pub fn set_flush_each(&mut self, on: bool) {
        self.flush_each = on;
    }

    /// Appends one frame. `data` longer than [`SNAPLEN`] is cut there;
    /// `orig_len` is raised to at least `data.len()`. Times before 1970 are
    /// written as 0, times past 2106 as the largest 32-bit second.
    pub fn write_frame(&mut self, ts: SystemTime, data: &[u8], orig_len: usize) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "pcap writer stopped after an earlier write error",
            ));
        }
        let d = ts.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let (secs, nanos) = match u32::try_from(d.as_secs()) {
            Ok(s) => (s, d.subsec_nanos()),
            Err(_) => (u32::MAX, 999_999_999),
        };
        let cap = &data[..data.len().min(SNAPLEN as usize)];
        let orig = u32::try_from(orig_len.max(data.len())).unwrap_or(u32::MAX);
        self.buf.clear();
        self.buf.extend_from_slice(&secs.to_le_bytes());
        self.buf.extend_from_slice(&nanos.to_le_bytes());
        self.buf
            .extend_from_slice(&(cap.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&orig.to_le_bytes());
        self.buf.extend_from_slice(cap);
        let res = self.w.write_all(&self.buf).and_then(|()| {
            if self.flush_each {
                self.w.flush()
            } else {
                Ok(())
            }
        });
        match res {
            Ok(()) => self.whole += self.buf.len() as u64,
            Err(_) => self.failed = true,
        }
        res
    }

    /// Appends a received [`Frame`].
    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        self.write_frame(frame.ts, &frame.data, frame.orig_len)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.w
    }
}

// ---------------------------------------------------------------------------
// Errors

/// A pcap reading error, at a byte offset into the file.
#[derive(Debug)]
pub struct PcapError {
    /// Byte offset into the file where the faulty part starts.
    pub offset: u64,
    /// What is wrong.
    pub kind: PcapErrorKind,
}

/// What is wrong with a pcap file.
#[derive(Debug)]
pub enum PcapErrorKind {
    /// Reading failed.
    Io(io::Error),
    /// The file ends inside a header or record.
    Truncated {
        /// The part being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes that were there.
        got: u64,
    },
    /// Not a pcap or pcapng file.
    BadMagic(u32),
    /// A version this reader does not know.
    UnsupportedVersion(u16, u16),
    /// A length beyond what this reader accepts.
    TooLarge {
        /// The length field.
        what: &'static str,
        /// Its value.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Any other inconsistency.
    Malformed(String),
}

impl PcapError {
    fn new(offset: u64, kind: PcapErrorKind) -> PcapError {
        PcapError { offset, kind }
    }
    fn malformed(offset: u64, msg: impl Into<String>) -> PcapError {
        PcapError::new(offset, PcapErrorKind::Malformed(msg.into()))
    }
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pcap: at byte offset {}: ", self.offset)?;
        match &self.kind {
            PcapErrorKind::Io(e) => write!(f, "read error: {e}"),
            PcapErrorKind::Truncated { what, needed, got } => {
                write!(f, "file ends inside the {what} ({got} of {needed} bytes)")
            }
            PcapErrorKind::BadMagic(m) => {
                write!(f, "not a pcap or pcapng file (magic 0x{m:08x})")
            }
            PcapErrorKind::UnsupportedVersion(a, b) => write!(f, "unsupported version {a}.{b}"),
            PcapErrorKind::TooLarge { what, len, max } => {
                write!(f, "{what} of {len} bytes exceeds the limit of {max}")
            }
            PcapErrorKind::Malformed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            PcapErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PcapError> for io::Error {
    fn from(e: PcapError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

// ---------------------------------------------------------------------------
// Reader

/// One pcapng interface (from an IDB).
#[derive(Debug, Clone)]
struct NgIface {
    linktype: u32,
    snaplen: u32,
    /// Timestamp units per second (10^6 by default).
    units: u128,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

#[derive(Debug)]
enum Format {
    Classic { big: bool, nanos: bool },
    Ng { big: bool, ifaces: Vec<NgIface> },
}

/// Reads classic pcap (both byte orders, µs and ns magics) and pcapng.
#[derive(Debug)]
pub struct PcapReader<R: Read> {
    r: R,
    offset: u64,
    format: Format,
    linktype: u32,
    done: bool,
}

impl PcapReader<BufReader<File>> {
    /// Opens the file at `path` and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<PcapReader<BufReader<File>>, PcapError> {
        let f = File::open(path).map_err(|e| PcapError::new(0, PcapErrorKind::Io(e)))?;
        PcapReader::new(BufReader::new(f))
    }
}

/// Reads every record of an in-memory pcap or pcapng file.
pub fn read_all(bytes: &[u8]) -> Result<Vec<Record>, PcapError> {
    let mut r = PcapReader::new(bytes)?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_frame()? {
        out.push(rec);
    }
    Ok(out)
}

impl<R: Read> PcapReader<R> {
    /// Reads the file header (classic) or first section header (pcapng).
    pub fn new(r: R) -> Result<PcapReader<R>, PcapError> {
        let mut rd = PcapReader {
            r,
            offset: 0,
            format: Format::Classic {
                big: false,
                nanos: false,
            },
            linktype: 0,
            done: false,
        };
        let mut m = [0u8; 4];
        rd.fill(&mut m, "file header", (0, 24), true)?;
        let le = u32::from_le_bytes(m);
        if le == NG_SHB {
            rd.read_shb(0)?;
            return Ok(rd);
        }
        let (big, nanos) = match (le, u32::from_be_bytes(m)) {
            (MAGIC_MICROS, _) => (false, false),
            (MAGIC_NANOS, _) => (false, true),
            (_, MAGIC_MICROS) => (true, false),
            (_, MAGIC_NANOS) => (true, true),
            _ => return Err(PcapError::new(0, PcapErrorKind::BadMagic(le))),
        };
        let mut h = [0u8; 20];
        rd.fill(&mut h, "file header", (0, 24), true)?;
        let (major, minor) = (u16_of(&h[0..2], big), u16_of(&h[2..4], big));
        if major != 2 {
            return Err(PcapError::new(
                4,
                PcapErrorKind::UnsupportedVersion(major, minor),
            ));
        }
        rd.linktype = u32_of(&h[16..20], big) & 0xffff;
        rd.format = Format::Classic { big, nanos };
        Ok(rd)
    }

    /// Link type of the last frame returned (classic: of the file); 1 = Ethernet.
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, `Ok(None)` at a clean end of file.
    pub fn next_frame(&mut self) -> Result<Option<Record>, PcapError> {
        if self.done {
            return Ok(None);
        }
        let res = match self.format {
            Format::Classic { big, nanos } => self.next_classic(big, nanos),
            Format::Ng { .. } => self.next_ng(),
        };
        if !matches!(res, Ok(Some(_))) {
            self.done = true;
        }
        res
    }

    fn next_classic(&mut self, big: bool, nanos: bool) -> Result<Option<Record>, PcapError> {
        let start = self.offset;
        let mut h = [0u8; 16];
        if !self.fill(&mut h, "record header", (start, 16), false)? {
            return Ok(None);
        }
        let secs = u32_of(&h[0..4], big) as u64;
        let frac = u32_of(&h[4..8], big) as u64;
        let caplen = u32_of(&h[8..12], big) as u64;
        let orig = u32_of(&h[12..16], big) as u64;
        if caplen > MAX_CAPLEN as u64 {
            return Err(PcapError::new(
                start + 8,
                PcapErrorKind::TooLarge {
                    what: "captured length",
                    len: caplen,
                    max: MAX_CAPLEN as u64,
                },
            ));
        }
        let nanos = if nanos { frac } else { frac * 1000 };
        let ts = UNIX_EPOCH
            .checked_add(Duration::from_secs(secs) + Duration::from_nanos(nanos))
            .ok_or_else(|| PcapError::malformed(start, "timestamp out of range"))?;
        let mut data = vec![0u8; caplen as usize];
        self.fill(&mut data, "packet data", (start + 16, caplen), true)?;
        Ok(Some((ts, data, orig.max(caplen) as usize)))
    }

    fn next_ng(&mut self) -> Result<Option<Record>, PcapError> {
        loop {
            let start = self.offset;
            let mut h = [0u8; 8];
            if !self.fill(&mut h, "pcapng block header", (start, 8), false)? {
                return Ok(None);
            }
            if u32::from_le_bytes(h[0..4].try_into().unwrap_or_default()) == NG_SHB {
                self.read_shb_after_type(start, &h[4..8])?;
                continue;
            }
            let big = match self.format {
                Format::Ng { big, .. } => big,
                Format::Classic { .. } => return Ok(None),
            };
            let btype = u32_of(&h[0..4], big);
            let total = u32_of(&h[4..8], big) as u64;
            let body_len = self.check_block_len(start, total, 12)?;
            let parsed = matches!(btype, NG_IDB | NG_EPB | NG_SPB | NG_OPB);
            if !parsed {
                self.skip(body_len, "pcapng block", (start, total))?;
                self.read_trailer(start, total, big)?;
                continue;
            }
            if body_len > MAX_NG_BODY as u64 {
                return Err(PcapError::new(
                    start + 4,
                    PcapErrorKind::TooLarge {
                        what: "pcapng block",
                        len: total,
                        max: MAX_NG_BODY as u64 + 12,
                    },
                ));
            }
            let mut body = vec![0u8; body_len as usize];
            self.fill(&mut body, "pcapng block", (start, total), true)?;
            self.read_trailer(start, total, big)?;
            let body_at = start + 8;
            match btype {
                NG_IDB => {
                    let iface = parse_idb(&body, big, body_at)?;
                    if let Format::Ng { ifaces, .. } = &mut self.format {
                        if ifaces.len() >= 65536 {
                            return Err(PcapError::malformed(start, "too many interfaces"));
                        }
                        ifaces.push(iface);
                    }
                }
                NG_EPB | NG_OPB => {
                    if body.len() < 20 {
                        return Err(PcapError::malformed(
                            body_at,
                            "packet block shorter than its fixed fields",
                        ));
                    }
                    let (id, hi) = if btype == NG_EPB {
                        (u32_of(&body[0..4], big), u32_of(&body[4..8], big))
                    } else {
                        (u16_of(&body[0..2], big) as u32, u32_of(&body[4..8], big))
                    };
                    let lo = u32_of(&body[8..12], big);
                    let caplen = u32_of(&body[12..16], big) as usize;
                    let orig = u32_of(&body[16..20], big) as usize;
                    if caplen > body.len() - 20 {
                        return Err(PcapError::malformed(
                            body_at + 12,
                            format!(
                                "captured length {caplen} exceeds the block's {} data bytes",
                                body.len() - 20
                            ),
                        ));
                    }
                    let iface = self.iface(id, body_at)?;
                    let ts = ng_time(((hi as u64) << 32) | lo as u64, &iface).ok_or_else(|| {
                        PcapError::malformed(body_at + 4, "timestamp out of range")
                    })?;
                    self.linktype = iface.linktype;
                    let data = body[20..20 + caplen].to_vec();
                    return Ok(Some((ts, data, orig.max(caplen))));
                }
                _ => {
                    // NG_SPB: original length, then data padded to 4.
                    if body.len() < 4 {
                        return Err(PcapError::malformed(
                            body_at,
                            "simple packet block too short",
                        ));
                    }
                    let orig = u32_of(&body[0..4], big) as usize;
                    let iface = self.iface(0, body_at)?;
                    let mut caplen = orig.min(body.len() - 4);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    self.linktype = iface.linktype;
                    let data = body[4..4 + caplen].to_vec();
                    return Ok(Some((UNIX_EPOCH, data, orig.max(caplen))));
                }
            }
        }
    }

    fn iface(&self, id: u32, at: u64) -> Result<NgIface, PcapError> {
        match &self.format {
            Format::Ng { ifaces, .. } => ifaces.get(id as usize).cloned().ok_or_else(|| {
                PcapError::malformed(at, format!("packet names interface {id}, which has no IDB"))
            }),
            Format::Classic { .. } => Err(PcapError::malformed(at, "not pcapng")),
        }
    }

    /// Reads an SHB whose 4-byte type was already consumed at `start`.
    fn read_shb(&mut self, start: u64) -> Result<(), PcapError> {
        let mut len = [0u8; 4];
        self.fill(&mut len, "pcapng section header", (start, 28), true)?;
        self.read_shb_after_type(start, &len)
    }

    /// Reads the rest of an SHB: `len_bytes` is its (unordered) length field.
    fn read_shb_after_type(&mut self, start: u64, len_bytes: &[u8]) -> Result<(), PcapError> {
        let mut bom = [0u8; 4];
        self.fill(&mut bom, "pcapng section header", (start, 28), true)?;
        let big = match (u32::from_le_bytes(bom), u32::from_be_bytes(bom)) {
            (NG_BYTE_ORDER, _) => false,
            (_, NG_BYTE_ORDER) => true,
            (m, _) => {
                return Err(PcapError::malformed(
                    start + 8,
                    format!("bad pcapng byte-order magic 0x{m:08x}"),
                ));
            }
        };
        let total = u32_of(len_bytes, big) as u64;
        let body_len = self.check_block_len(start, total, 28)?;
        // Already read: the byte-order magic (4 of the body).
        let rest = body_len - 4;
        let mut ver = [0u8; 4];
        self.fill(&mut ver, "pcapng section header", (start, total), true)?;
        let (major, minor) = (u16_of(&ver[0..2], big), u16_of(&ver[2..4], big));
        if major != 1 {
            return Err(PcapError::new(
                start + 12,
                PcapErrorKind::UnsupportedVersion(major, minor),
            ));
        }
        self.skip(rest - 4, "pcapng section header", (start, total))?;
        self.read_trailer(start, total, big)?;
        self.format = Format::Ng {
            big,
            ifaces: Vec::new(),
        };
        Ok(())
    }

    /// Checks a block's total length; returns the body length (without the
    /// 8-byte header and 4-byte trailer).
    fn check_block_len(&self, start: u64, total: u64, min: u64) -> Result<u64, PcapError> {
        if total < min || !total.is_multiple_of(4) {
            return Err(PcapError::malformed(
                start + 4,
                format!("bad pcapng block length {total}"),
            ));
        }
        Ok(total - 12)
    }

    fn read_trailer(&mut self, start: u64, total: u64, big: bool) -> Result<(), PcapError> {
        let at = self.offset;
        let mut t = [0u8; 4];
        self.fill(&mut t, "pcapng block", (start, total), true)?;
        let trailer = u32_of(&t, big) as u64;
        if trailer != total {
            return Err(PcapError::malformed(
                at,
                format!(
                    "block at offset {start}: trailing length {trailer} differs from leading length {total}"
                ),
            ));
        }
        Ok(())
    }

    /// Discards `n` bytes without buffering them.
    fn skip(&mut self, n: u64, what: &'static str, part: (u64, u64)) -> Result<(), PcapError> {
        let start = self.offset;
        let got = io::copy(&mut (&mut self.r).take(n), &mut io::sink())
            .map_err(|e| PcapError::new(start, PcapErrorKind::Io(e)))?;
        self.offset += got;
        if got < n {
            return Err(PcapError::new(
                part.0,
                PcapErrorKind::Truncated {
                    what,
                    needed: part.1,
                    got: self.offset - part.0,
                },
            ));
        }
        Ok(())
    }

    /// Fills `buf`. At a clean EOF (no byte read) returns `Ok(false)` unless
    /// `required`; a short read is a `Truncated` error naming the start and
    /// length of the enclosing part, `part` = (offset, length).
    fn fill(
        &mut self,
        buf: &mut [u8],
        what: &'static str,
        part: (u64, u64),
        required: bool,
    ) -> Result<bool, PcapError> {
        let (part_start, part_len) = part;
        let start = self.offset;
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(PcapError::new(start + got as u64, PcapErrorKind::Io(e))),
            }
        }
        self.offset += got as u64;
        if got == buf.len() {
            return Ok(true);
        }
        if got == 0 && !required {
            return Ok(false);
        }
        Err(PcapError::new(
            part_start,
            PcapErrorKind::Truncated {
                what,
                needed: part_len,
                got: self.offset - part_start,
            },
        ))
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Record, PcapError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

fn u16_of(b: &[u8], big: bool) -> u16 {
    let a = [b[0], b[1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn u32_of(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// Parses an IDB body (at file offset `at`); options it does not know are skipped.
fn parse_idb(body: &[u8], big: bool, at: u64) -> Result<NgIface, PcapError> {
    if body.len() < 8 {
        return Err(PcapError::malformed(
            at,
            "interface description block too short",
        ));
    }
    let mut iface = NgIface {
        linktype: u16_of(&body[0..2], big) as u32,
        snaplen: u32_of(&body[4..8], big),
        units: 1_000_000,
        offset_secs: 0,
    };
    let mut i = 8;
    while i + 4 <= body.len() {
        let code = u16_of(&body[i..i + 2], big);
        let len = u16_of(&body[i + 2..i + 4], big) as usize;
        let v = i + 4;
        if code == 0 || v + len > body.len() {
            break;
        }
        let val = &body[v..v + len];
        match (code, len) {
            (9, 1..) => {
                let r = val[0];
                let exp = (r & 0x7f) as u32;
                iface.units = if r & 0x80 != 0 {
                    1u128.checked_shl(exp).unwrap_or(0)
                } else {
                    10u128.checked_pow(exp).unwrap_or(0)
                };
                if iface.units == 0 || (r & 0x80 == 0 && exp > 38) {
                    return Err(PcapError::malformed(
                        at + v as u64,
                        format!("unusable if_tsresol 0x{r:02x}"),
                    ));
                }
            }
            (14, 8..) => {
                let b: [u8; 8] = val[..8].try_into().unwrap_or_default();
                iface.offset_secs = if big {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                };
            }
            _ => {}
        }
        i = v + len.div_ceil(4) * 4;
    }
    Ok(iface)
}

/// A pcapng timestamp in the interface's units, as a `SystemTime`.
fn ng_time(ts: u64, iface: &NgIface) -> Option<SystemTime> {
    let ts = ts as u128;
    let secs = ts / iface.units;
    // rem < 2^64, so rem * 10^9 fits in u128.
    let nanos = ((ts % iface.units) * 1_000_000_000 / iface.units) as u32;
    let secs = i128::try_from(secs).ok()? + iface.offset_secs as i128;
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(u64::try_from(secs).ok()?, nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(u64::try_from(-secs).ok()?))?
            .checked_add(Duration::from_nanos(nanos as u64))
    }
}

#[cfg(test)]
mod tests;
