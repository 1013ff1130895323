//! `tcpi_FIELD` values from the kernel's `struct tcp_info` bytes: the
//! fields as a table of (name, offset, size), in the kernel's layout
//! (include/uapi/linux/tcp.h), read only as far as this kernel's struct goes.

/// (name, byte offset, size in bytes; 0 for the two 4-bit wscale fields).
const FIELDS: &[(&str, usize, usize)] = &[
    ("state", 0, 1),
    ("ca_state", 1, 1),
    ("retransmits", 2, 1),
    ("probes", 3, 1),
    ("backoff", 4, 1),
    ("options", 5, 1),
    ("snd_wscale", 6, 0),
    ("rcv_wscale", 6, 0),
    ("rto", 8, 4),
    ("ato", 12, 4),
    ("snd_mss", 16, 4),
    ("rcv_mss", 20, 4),
    ("unacked", 24, 4),
    ("sacked", 28, 4),
    ("lost", 32, 4),
    ("retrans", 36, 4),
    ("fackets", 40, 4),
    ("last_data_sent", 44, 4),
    ("last_ack_sent", 48, 4),
    ("last_data_recv", 52, 4),
    ("last_ack_recv", 56, 4),
    ("pmtu", 60, 4),
    ("rcv_ssthresh", 64, 4),
    ("rtt", 68, 4),
    ("rttvar", 72, 4),
    ("snd_ssthresh", 76, 4),
    ("snd_cwnd", 80, 4),
    ("advmss", 84, 4),
    ("reordering", 88, 4),
    ("rcv_rtt", 92, 4),
    ("rcv_space", 96, 4),
    ("total_retrans", 100, 4),
    ("pacing_rate", 104, 8),
    ("max_pacing_rate", 112, 8),
    ("bytes_acked", 120, 8),
    ("bytes_received", 128, 8),
    ("segs_out", 136, 4),
    ("segs_in", 140, 4),
    ("notsent_bytes", 144, 4),
    ("min_rtt", 148, 4),
    ("data_segs_in", 152, 4),
    ("data_segs_out", 156, 4),
    ("delivery_rate", 160, 8),
    ("busy_time", 168, 8),
    ("rwnd_limited", 176, 8),
    ("sndbuf_limited", 184, 8),
    ("delivered", 192, 4),
    ("delivered_ce", 196, 4),
    ("bytes_sent", 200, 8),
    ("bytes_retrans", 208, 8),
    ("dsack_dups", 216, 4),
    ("reord_seen", 220, 4),
    ("rcv_ooopack", 224, 4),
    ("snd_wnd", 228, 4),
    ("rcv_wnd", 232, 4),
    ("rehash", 236, 4),
    ("total_rto", 240, 2),
    ("total_rto_recoveries", 242, 2),
    ("total_rto_time", 244, 4),
];

/// Whether `tcpi_NAME` is a field craft knows.
pub fn known(tcpi_name: &str) -> bool {
    field(tcpi_name).is_some()
}

fn field(tcpi_name: &str) -> Option<(&'static str, usize, usize)> {
    let name = tcpi_name.strip_prefix("tcpi_")?;
    FIELDS.iter().find(|(n, _, _)| *n == name).copied()
}

/// The value of `tcpi_NAME` in `info`; None when the name is unknown or
/// this kernel's struct is shorter.
pub fn value(info: &[u8], tcpi_name: &str) -> Option<i64> {
    let (name, off, size) = field(tcpi_name)?;
    let b = info.get(off..off + size.max(1))?;
    Some(match size {
        0 if name == "snd_wscale" => (b[0] & 0x0f) as i64,
        0 => (b[0] >> 4) as i64,
        1 => b[0] as i64,
        2 => u16::from_ne_bytes([b[0], b[1]]) as i64,
        4 => u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as i64,
        _ => u64::from_ne_bytes(b.try_into().ok()?) as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_agree_with_libc() {
        let mut ti: libc::tcp_info = unsafe_zeroed();
        ti.tcpi_snd_cwnd = 10;
        ti.tcpi_rcv_space = 7;
        ti.tcpi_total_retrans = 3;
        ti.tcpi_ca_state = 4;
        ti.tcpi_advmss = 1100;
        let n = std::mem::size_of::<libc::tcp_info>();
        // SAFETY: ti is a plain struct of n bytes.
        let b =
            unsafe { std::slice::from_raw_parts((&ti as *const libc::tcp_info).cast::<u8>(), n) };
        assert_eq!(value(b, "tcpi_snd_cwnd"), Some(10));
        assert_eq!(value(b, "tcpi_rcv_space"), Some(7));
        assert_eq!(value(b, "tcpi_total_retrans"), Some(3));
        assert_eq!(value(b, "tcpi_ca_state"), Some(4));
        assert_eq!(value(b, "tcpi_advmss"), Some(1100));
        assert_eq!(value(&[0u8; 8], "tcpi_snd_cwnd"), None);
        assert!(!known("tcpi_bogus") && known("tcpi_rwnd_limited"));
    }

    fn unsafe_zeroed() -> libc::tcp_info {
        // SAFETY: all-zero is a valid tcp_info (plain integers).
        unsafe { std::mem::zeroed() }
    }
}
