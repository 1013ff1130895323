//! TCP conversations over the live link (`conn`), reporting what happens
//! as events (`event`); the retransmission timeout (`rtt`) and what the
//! sender may send (`window`); initial sequence numbers (`isn`);
//! `expect_packet` patterns (`pattern`). Capture filters are `wire::bpf`.

pub mod conn;
pub mod event;
pub mod isn;
pub mod pattern;
pub mod rtt;
pub mod window;
