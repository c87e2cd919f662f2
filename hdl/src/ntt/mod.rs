//! The NTT engine, written once for every field: sizes 2L to 2^A, forward and inverse, L
//! butterflies per clock (L lanes, a power of two), behind a register map and a streaming
//! data port. A field supplies its butterfly and its constants ([`FieldSpec`]); [`engine!`]
//! puts the two together as one block per field (`BabyBearNtt`, `GoldilocksNtt`).
//!
//! Data lives on chip in two memories (ping and pong), each split into 2L banks by
//! [`crate::schedule::Banks`]: bank (parity(a), a mod L), word a >> log2(2L). The L butterflies a
//! clock issues (consecutive k) touch each bank exactly once, so one read port per bank fetches
//! every operand in one cycle and one write port per bank stores every result. With one lane
//! the banks are the two parities of the address. Each stage reads one memory and writes the
//! other.
//!
//! The transform is decimation in frequency (Gentleman–Sande): natural order in, bit-reversed
//! order out, which is the order the engine streams results in; a driver that wants another
//! order permutes while it copies. The forward transform is y_k = Σ_j x_j·ω^{jk} with ω the
//! same root of unity the CPU engine uses (Plonky3's two-adic generators). The inverse uses
//! ω^−t = −ω^(N/2 − t) (the butterfly's swap) and a final pass that scales by 1/n.
//!
//! Twiddles come from a ROM of ω_max^k (in the butterfly's form) for k < 2^(A−1), shared by
//! every size: stage s of a size-2^m transform uses index t·2^(s + A − m).
//!
//! A stage issues n/2 butterflies, L per clock, then waits for the butterfly pipeline to drain
//! (its results are the next stage's operands), so a transform takes m·(n/2L + overhead)
//! cycles, plus n/L + overhead − 1 for the scaling of an inverse ([`compute_cycles`]). Loading
//! and unloading stream one element per clock.
//!
//! Register map (32-bit words, `reg_addr`): see [`reg`]. Elements go in through `in_data` /
//! `in_valid` or writes to `DATA` (after `DATA_HI` for fields wider than 32 bits), and come
//! out through `out_data` / `out_valid` / `out_ready` or reads of `DATA_HI` and then `DATA`
//! (a read of `DATA` with `reg_read` high pops the element).

pub mod engine;
pub mod scan;

/// Register addresses.
pub mod reg {
    /// RW. Bit 0: inverse.
    pub const CONTROL: u64 = 0;
    /// RW. log2 of the size, log2(2L)..=A.
    pub const LOG_SIZE: u64 = 1;
    /// W. Bit 0 starts a job: the engine then takes 2^LOG_SIZE elements. Bit 1 aborts the
    /// job in progress (a driver that gave up on one): busy until the work in flight has
    /// landed, then idle.
    pub const DOORBELL: u64 = 2;
    /// R. Bit 0 busy, bit 1 done, bit 2 error, bit 3 ready for input, bit 4 output waiting.
    pub const STATUS: u64 = 3;
    /// R. The first error since the last accepted doorbell; see [`super::err`].
    pub const ERROR: u64 = 4;
    /// R. Clock cycles the last job spent computing (after its input, before its output).
    pub const CYCLES: u64 = 5;
    /// R. Bits 0–7 the largest log size, 8–15 butterfly lanes, 16–23 the field (see
    /// [`super::field`]), 24–31 the butterfly latency.
    pub const INFO: u64 = 6;
    /// W pushes an input element (its low 32 bits; the high ones from `DATA_HI`); R shows the
    /// low 32 bits of the next output element, and pops it with `reg_read`.
    pub const DATA: u64 = 7;
    /// W holds the high 32 bits of the next element written to `DATA`; R shows those of the
    /// next output element (without popping it). Zero for fields of 32 bits or fewer.
    pub const DATA_HI: u64 = 8;
}

/// Error codes in `ERROR`.
pub mod err {
    pub const NONE: u64 = 0;
    /// LOG_SIZE is below log2(2L) (a butterfly per lane) or larger than the engine takes.
    pub const SIZE: u64 = 1;
    /// A doorbell or configuration write while a job runs.
    pub const BUSY: u64 = 2;
    /// Input while the engine was not taking any.
    pub const UNEXPECTED_INPUT: u64 = 3;
    /// A DATA read with no output waiting.
    pub const NO_OUTPUT: u64 = 4;
    /// An input element ≥ p (all 64 bits of DATA_HI and DATA count).
    pub const NON_CANONICAL: u64 = 5;
}

/// Status bits.
pub mod status {
    pub const BUSY: u64 = 1;
    pub const DONE: u64 = 2;
    pub const ERROR: u64 = 4;
    pub const IN_READY: u64 = 8;
    pub const OUT_VALID: u64 = 16;
}

/// Field codes in `INFO`.
pub mod field {
    pub const BABYBEAR: u64 = 1;
    pub const GOLDILOCKS: u64 = 2;
}

/// What the engine needs of a field besides its butterfly: the modulus, the code INFO
/// reports, the butterfly's latency, and the ROM words (in the form the butterfly's
/// multiplier takes) of ω_max^k for the largest size and of 2^−l.
pub struct FieldSpec {
    pub p: u64,
    pub code: u64,
    pub latency: usize,
    /// ω^k for ω of order 2^log_max.
    pub twiddle: fn(log_max: usize, k: u64) -> u64,
    /// (2^l)^−1.
    pub inv_pow2: fn(l: u64) -> u64,
}

/// Cycles a stage costs beyond its n/2L issue cycles, for a butterfly of `latency` cycles:
/// one Setup cycle (the per-stage values are registered), six issue-pipeline registers
/// (addresses, banks and twiddle index, the registered read addresses, the memory read, the
/// register behind the memory, the chosen operands), the butterfly, the register behind the butterfly, and one for
/// the in-flight count to reach zero (the last write happens on that same edge). The
/// inverse's scaling pass (n/L issue cycles) costs one less: it needs no Setup cycle.
pub const fn stage_overhead(latency: usize) -> u64 {
    1 + 6 + latency as u64 + 2
}

/// Compute cycles of one transform of size 2^log_n on `lanes` lanes with a butterfly of
/// `latency` cycles, as the CYCLES register reports them.
pub fn compute_cycles(log_n: u32, inverse: bool, lanes: u64, latency: usize) -> u64 {
    let n = 1u64 << log_n;
    let overhead = stage_overhead(latency);
    let scale = if inverse { n / lanes + overhead - 1 } else { 0 };
    log_n as u64 * (n / 2 / lanes + overhead) + scale
}

/// The ports of every field's engine as plain numbers, for whatever drives one in simulation
/// (the tests, the simulated device): one type of driver serves every field.
pub trait NttPorts: crate::sim::Clocked {
    /// reg_addr, reg_wdata, reg_write, reg_read, in_data, in_valid, out_ready.
    fn drive(&mut self, inputs: [u64; 7]);
    /// reg_rdata, in_ready, out_data, out_valid.
    fn sample(&self) -> [u64; 4];
    /// The element width in bits.
    const BITS: usize;
}

/// An engine behind its scan port ([`scan::ScanPort`]), for place and route on its own.
pub trait ScanPins: crate::sim::Clocked {
    /// shift_in, din, apply, shift_out.
    fn drive(&mut self, inputs: [u64; 4]);
    /// dout.
    fn dout(&self) -> u64;
}

/// An engine block for one field: the core ([`engine::NttCore`]) with D-bit elements and L of
/// the field's butterflies, wired together, with the core's ports as its own; and the same
/// engine behind a scan port (`$pins`). Parameters as the core's: sizes to 2^A, W = A − 1,
/// B = A − log2(2L), L lanes, K = 2L banks.
#[macro_export]
macro_rules! ntt_engine {
    ($(#[$doc:meta])* $name:ident, $pins:ident, $butterfly:ty, $d:literal, $spec:expr) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<
            const A: usize,
            const W: usize,
            const B: usize,
            const L: usize,
            const K: usize,
        > {
            pub clock: Signal<In, Clock>,
            pub reg_addr: Signal<In, Bits<4>>,
            pub reg_wdata: Signal<In, Bits<32>>,
            pub reg_write: Signal<In, Bit>,
            pub reg_read: Signal<In, Bit>,
            pub reg_rdata: Signal<Out, Bits<32>>,
            pub in_data: Signal<In, Bits<$d>>,
            pub in_valid: Signal<In, Bit>,
            pub in_ready: Signal<Out, Bit>,
            pub out_data: Signal<Out, Bits<$d>>,
            pub out_valid: Signal<Out, Bit>,
            pub out_ready: Signal<In, Bit>,
            core: $crate::ntt::engine::NttCore<$d, A, W, B, L, K>,
            bf: [$butterfly; L],
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            Default for $name<A, W, B, L, K>
        {
            fn default() -> Self {
                Self {
                    clock: Default::default(),
                    reg_addr: Default::default(),
                    reg_wdata: Default::default(),
                    reg_write: Default::default(),
                    reg_read: Default::default(),
                    reg_rdata: Default::default(),
                    in_data: Default::default(),
                    in_valid: Default::default(),
                    in_ready: Default::default(),
                    out_data: Default::default(),
                    out_valid: Default::default(),
                    out_ready: Default::default(),
                    core: $crate::ntt::engine::NttCore::new(&$spec),
                    bf: std::array::from_fn(|_| Default::default()),
                }
            }
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            Logic for $name<A, W, B, L, K>
        {
            #[hdl_gen]
            fn update(&mut self) {
                self.core.clock.next = self.clock.val();
                self.core.reg_addr.next = self.reg_addr.val();
                self.core.reg_wdata.next = self.reg_wdata.val();
                self.core.reg_write.next = self.reg_write.val();
                self.core.reg_read.next = self.reg_read.val();
                self.reg_rdata.next = self.core.reg_rdata.val();
                self.core.in_data.next = self.in_data.val();
                self.core.in_valid.next = self.in_valid.val();
                self.in_ready.next = self.core.in_ready.val();
                self.out_data.next = self.core.out_data.val();
                self.out_valid.next = self.core.out_valid.val();
                self.core.out_ready.next = self.out_ready.val();
                for l in 0..L {
                    self.bf[l].clock.next = self.clock.val();
                    self.bf[l].a.next = self.core.bf_a[l].val();
                    self.bf[l].b.next = self.core.bf_b[l].val();
                    self.bf[l].w.next = self.core.bf_w[l].val();
                    self.bf[l].swap.next = self.core.bf_swap[l].val();
                    self.bf[l].tag.next = self.core.bf_tag[l].val();
                    self.bf[l].in_valid.next = self.core.bf_valid[l].val();
                    self.core.bf_x[l].next = self.bf[l].x.val();
                    self.core.bf_y[l].next = self.bf[l].y.val();
                    self.core.bf_tag_out[l].next = self.bf[l].tag_out.val();
                    self.core.bf_out_valid[l].next = self.bf[l].out_valid.val();
                }
            }
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            $crate::sim::Clocked for $name<A, W, B, L, K>
        {
            fn clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            $crate::ntt::NttPorts for $name<A, W, B, L, K>
        {
            const BITS: usize = $d;

            fn drive(&mut self, i: [u64; 7]) {
                use $crate::sim::to_bits;
                self.reg_addr.next = to_bits(&i[0..1]);
                self.reg_wdata.next = to_bits(&i[1..2]);
                self.reg_write.next = i[2] == 1;
                self.reg_read.next = i[3] == 1;
                self.in_data.next = to_bits(&i[4..5]);
                self.in_valid.next = i[5] == 1;
                self.out_ready.next = i[6] == 1;
            }

            fn sample(&self) -> [u64; 4] {
                use $crate::sim::from_bits;
                [
                    from_bits(self.reg_rdata.val())[0],
                    self.in_ready.val() as u64,
                    from_bits(self.out_data.val())[0],
                    self.out_valid.val() as u64,
                ]
            }
        }

        /// The engine behind its scan port (see [`crate::ntt::scan`]): how the flow builds it
        /// on its own.
        #[derive(LogicBlock, Default)]
        pub struct $pins<
            const A: usize,
            const W: usize,
            const B: usize,
            const L: usize,
            const K: usize,
        > {
            pub clock: Signal<In, Clock>,
            pub shift_in: Signal<In, Bit>,
            pub din: Signal<In, Bits<8>>,
            pub apply: Signal<In, Bit>,
            pub shift_out: Signal<In, Bit>,
            pub dout: Signal<Out, Bits<8>>,
            port: $crate::ntt::scan::ScanPort<$d>,
            engine: $name<A, W, B, L, K>,
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            Logic for $pins<A, W, B, L, K>
        {
            #[hdl_gen]
            fn update(&mut self) {
                self.port.clock.next = self.clock.val();
                self.engine.clock.next = self.clock.val();
                self.port.shift_in.next = self.shift_in.val();
                self.port.din.next = self.din.val();
                self.port.apply.next = self.apply.val();
                self.port.shift_out.next = self.shift_out.val();
                self.dout.next = self.port.dout.val();
                self.engine.reg_addr.next = self.port.reg_addr.val();
                self.engine.reg_wdata.next = self.port.reg_wdata.val();
                self.engine.reg_write.next = self.port.reg_write.val();
                self.engine.reg_read.next = self.port.reg_read.val();
                self.port.reg_rdata.next = self.engine.reg_rdata.val();
                self.engine.in_data.next = self.port.in_data.val();
                self.engine.in_valid.next = self.port.in_valid.val();
                self.port.in_ready.next = self.engine.in_ready.val();
                self.port.out_data.next = self.engine.out_data.val();
                self.port.out_valid.next = self.engine.out_valid.val();
                self.engine.out_ready.next = self.port.out_ready.val();
            }
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            $crate::sim::Clocked for $pins<A, W, B, L, K>
        {
            fn clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
        }

        impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
            $crate::ntt::ScanPins for $pins<A, W, B, L, K>
        {
            fn drive(&mut self, i: [u64; 4]) {
                use $crate::sim::to_bits;
                self.shift_in.next = i[0] == 1;
                self.din.next = to_bits(&i[1..2]);
                self.apply.next = i[2] == 1;
                self.shift_out.next = i[3] == 1;
            }

            fn dout(&self) -> u64 {
                $crate::sim::from_bits(self.dout.val())[0]
            }
        }
    };
}
