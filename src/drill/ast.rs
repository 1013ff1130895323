//! A packetdrill script as values: events, each with its time and line.

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// `--name=value` lines before the first event (packetdrill's options).
    pub options: Vec<(String, String, usize)>,
    /// The events, in order.
    pub events: Vec<Event>,
}

/// One line of the script: when, what, and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The line the event's time is on.
    pub line: usize,
    /// When it happens.
    pub time: Time,
    /// What happens.
    pub action: Action,
}

/// How an event's time is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// `1.5`: from the script's start.
    Absolute,
    /// `+0.1`: from the previous event.
    Relative,
    /// `*`: any time (outbound packets only).
    Any,
    /// `1.0~1.1`.
    AbsoluteRange,
    /// `+.1~+.2`.
    RelativeRange,
    /// No time: a shell command before the first event, run before the
    /// script's clock starts (packetdrill's init command).
    Untimed,
}

/// An event's time, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// How it is written.
    pub kind: TimeKind,
    /// The (start) time.
    pub usecs: i64,
    /// The end of a range (`t~t`), else equal to `usecs`.
    pub end: i64,
}

/// What an event does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A packet injected (`<`) or expected from the kernel (`>`).
    Packet(PacketSpec),
    /// A system call on a kernel socket.
    Syscall(Syscall),
    /// A `` `shell command` ``.
    Shell(String),
    /// A `%{ assert ... }%` block.
    Assert(Vec<Assert>),
}

/// A packet's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// `<`: from the remote peer to the kernel (craft sends it).
    In,
    /// `>`: from the kernel to the remote peer (craft checks it).
    Out,
}

/// The IP ECN codepoint of a packet, `[noecn]`, `[ect0]`, `[ect1]`, `[ce]`
/// (`[ect01]`: either ECT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ecn {
    /// 00.
    NoEcn,
    /// 10.
    Ect0,
    /// 01.
    Ect1,
    /// Either ECT codepoint.
    Ect01,
    /// 11.
    Ce,
}

/// A TCP packet line: `< S. 0:0(0) ack 1 win 257 <mss 1460,nop,wscale 7>`.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketSpec {
    /// In or out.
    pub dir: Dir,
    /// `[ect0]` and the like.
    pub ecn: Option<Ecn>,
    /// TCP flag bits (`.` is ACK, `E` ECE, `W` CWR).
    pub flags: u16,
    /// The flags as written, for messages.
    pub flags_text: String,
    /// Relative start sequence number.
    pub seq: u32,
    /// Payload length.
    pub len: u32,
    /// `ack N`, relative.
    pub ack: Option<u32>,
    /// `win N`.
    pub win: Option<u16>,
    /// `urg N`.
    pub urg: Option<u16>,
    /// The options (none given: an empty list); None for `<...>` (not checked).
    pub options: Option<Vec<Opt>>,
}

/// A TCP option as scripted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    /// `nop`.
    Nop,
    /// `eol`.
    Eol,
    /// `mss N`.
    Mss(u16),
    /// `wscale N`.
    WScale(u8),
    /// `sackOK`.
    SackOk,
    /// `sack a:b c:d`, relative.
    Sack(Vec<(u32, u32)>),
    /// `TS val N ecr N`.
    Ts(u32, u32),
}

/// A system call line: `+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Syscall {
    /// Its name.
    pub name: String,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The expected return value (None for `...`).
    pub ret: Option<i64>,
    /// The expected errno's name (`EAGAIN`), when the call should fail.
    pub errno: Option<String>,
    /// For a blocking call (`+0...0.2`), when it should return, in µs.
    pub end: Option<i64>,
}

/// A system call argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Int(i64),
    /// `...`: whatever fits.
    Ellipsis,
    /// A symbol: `SOL_SOCKET`, `O_NONBLOCK`.
    Sym(String),
    /// `A|B`.
    Or(Vec<Expr>),
    /// `[1]`: a value passed by pointer.
    List(Vec<Expr>),
    /// `{fd=4, events=POLLOUT}`.
    Struct(Vec<(String, Expr)>),
    /// `"text"`.
    Str(String),
    /// `htons(8080)`: a function of packetdrill's expression language.
    Call(String, Vec<Expr>),
}

/// One `assert` of a `%{ }%` block: a chain of comparisons,
/// `98000 <= tcpi_rwnd_limited <= 110000`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assert {
    /// The line it is on.
    pub line: usize,
    /// The assertion as written.
    pub text: String,
    /// The operands, one more than the comparisons.
    pub operands: Vec<Operand>,
    /// The comparisons between neighbouring operands.
    pub cmps: Vec<Cmp>,
}

/// A value in an assert.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A number.
    Num(i64),
    /// `tcpi_FIELD`, or a constant such as `TCP_CA_Open`.
    Name(String),
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Cmp {
    /// Whether `a OP b` holds.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}
