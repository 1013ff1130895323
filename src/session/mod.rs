//! TCP conversations over the live link (`conn`), reporting what happens
//! as events (`event`); the retransmission timeout (`rtt`), what the
//! sender may send (`window`), SACK scoreboard and blocks (`sack`); initial sequence numbers (`isn`);
//! `expect_packet` patterns (`pattern`). Capture filters are `wire::bpf`.

pub mod conn;
pub mod event;
pub mod isn;
pub mod pattern;
pub mod rtt;
pub mod sack;
pub mod window;
