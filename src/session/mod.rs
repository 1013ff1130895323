//! TCP client conversations over the live link (`conn`), reporting what
//! happens as events (`event`); initial sequence numbers (`isn`);
//! `expect_packet` patterns (`pattern`) and tcpdump-like filters (`filter`).

pub mod conn;
pub mod event;
pub mod filter;
pub mod isn;
pub mod pattern;
