//! Reply matching and (later) TCP conversations. Pure: works on packets.

pub mod conn;
pub mod filter;
pub mod isn;
pub mod pattern;
