//! What a GPU job does, as data: the buffers to upload and the kernel launches in order. The
//! same plan runs on the GPU (`exec::Cuda`) or on the host over the same grid
//! (`exec::Host`), so everything but the device itself is tested on machines without one.

use crate::field::DeviceField;
use offload_engine::ntt::{Direction, NttConfig, Order};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A device buffer, by its index in the plan.
    Buf(usize),
    U32(u32),
    U64(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub kernel: String,
    /// Threads in the grid (one per butterfly or element).
    pub threads: u64,
    pub args: Vec<Arg>,
}

/// Buffers (32-bit words) and launches; buffer 0 holds the data in and the result out.
#[derive(Clone, Debug)]
pub struct Plan {
    pub module: &'static str,
    pub buffers: Vec<Vec<u32>>,
    pub launches: Vec<Launch>,
}

fn rev(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

fn words<F: DeviceField>(xs: impl Iterator<Item = F>) -> Vec<u32> {
    let mut out = Vec::new();
    for x in xs {
        x.push_words(&mut out);
    }
    out
}

fn powers<F: DeviceField>(base: F, scale: F, n: usize) -> impl Iterator<Item = F> {
    let mut acc = scale;
    (0..n).map(move |_| {
        let v = acc;
        acc = acc * base;
        v
    })
}

/// `columns` transforms of 2^log_n elements each (`data` column after column), with the CPU
/// engine's definitions: forward y_i = Σ_j a_j·(g·ω^i)^j, inverse its inverse, either order
/// on either side.
pub fn ntt<F: DeviceField>(cfg: &NttConfig<F>, log_n: u32, columns: usize, data: &[F]) -> Plan {
    let n = 1usize << log_n;
    let total = (n * columns) as u64;
    let inverse = cfg.direction == Direction::Inverse;
    let root = F::root_of_unity(log_n);
    let w = if inverse { root.inv() } else { root };
    let kernel = |k: &str| format!("{k}_{}", F::SUFFIX);
    let mut launches = Vec::new();
    let mut table = Vec::new();
    // The kernels' DIT takes bit-reversed input to natural output; orders are bit reversals
    // around it, cosets and 1/n a table multiply on the side where the element index is j.
    if let (false, Some(g)) = (inverse, cfg.coset) {
        let p: Vec<F> = powers(g, F::one(), n).collect();
        let at = |pos: usize| match cfg.input {
            Order::Natural => p[pos],
            Order::BitReversed => p[rev(pos, log_n)],
        };
        table = words((0..n).map(at));
        launches.push(Launch {
            kernel: kernel("scale"),
            threads: total,
            args: vec![Arg::Buf(0), Arg::Buf(2), Arg::U64(total), Arg::U32(log_n)],
        });
    }
    if cfg.input == Order::Natural {
        launches.push(Launch {
            kernel: kernel("bitrev"),
            threads: total,
            args: vec![Arg::Buf(0), Arg::U64(total), Arg::U32(log_n)],
        });
    }
    let half_total = total / 2;
    for s in 0..log_n {
        launches.push(Launch {
            kernel: kernel("dit"),
            threads: half_total,
            args: vec![
                Arg::Buf(0),
                Arg::Buf(1),
                Arg::U64(half_total),
                Arg::U32(log_n),
                Arg::U32(s),
            ],
        });
    }
    if cfg.output == Order::BitReversed {
        launches.push(Launch {
            kernel: kernel("bitrev"),
            threads: total,
            args: vec![Arg::Buf(0), Arg::U64(total), Arg::U32(log_n)],
        });
    }
    if inverse {
        let g_inv = cfg.coset.map_or(F::one(), |g| g.inv());
        let p: Vec<F> = powers(g_inv, F::from_u64(n as u64).inv(), n).collect();
        let at = |pos: usize| match cfg.output {
            Order::Natural => p[pos],
            Order::BitReversed => p[rev(pos, log_n)],
        };
        table = words((0..n).map(at));
        launches.push(Launch {
            kernel: kernel("scale"),
            threads: total,
            args: vec![Arg::Buf(0), Arg::Buf(2), Arg::U64(total), Arg::U32(log_n)],
        });
    }
    Plan {
        module: "ntt.cu",
        buffers: vec![
            words(data.iter().copied()),
            words(powers(w, F::one(), n / 2)),
            table,
        ],
        launches,
    }
}

/// The plan's result, decoded.
pub fn decode<F: DeviceField>(plan: &Plan) -> Vec<F> {
    plan.buffers[0]
        .chunks(F::WORDS)
        .map(F::from_words)
        .collect()
}
