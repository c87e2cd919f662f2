//! NTT plans: a few shared-memory passes (`cuda/ntt.cuh`), each a round trip to global memory
//! for several stages, with the coset and 1/n tables folded into the first and last pass, and
//! a bit reversal only where input and output orders agree.

use super::{Arg, Launch, Plan};
use crate::field::DeviceField;
use crate::tables;
use offload_engine::ntt::{Direction, NttConfig, Order};

/// Pass flags, as `cuda/ntt.cuh` defines them.
const DIF: u32 = 1;
const SCALE_LOAD: u32 = 2;
const SCALE_STORE: u32 = 4;

/// How passes cut the transform: at most 2^log_tile elements in a block's shared tile, and
/// runs of 2^log_run adjacent elements where a pass's tiles are strided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NttTiling {
    pub log_tile: u32,
    pub log_run: u32,
}

impl NttTiling {
    /// 16 KiB tiles of at most 2^11 elements (a block of at most 1024 threads; two blocks fit
    /// in the 48 KiB a block may take without opting in), runs of at least one 32-byte
    /// sector. Starting points to tune on a GPU.
    pub fn for_field<F: DeviceField>() -> Self {
        let bytes = 4 * F::WORDS as u32;
        Self {
            log_tile: (16384 / bytes).ilog2().min(11),
            log_run: (32 / bytes).max(1).ilog2(),
        }
    }
}

/// One pass: the stages pairing index bits s0 .. s0 + stages − 1, in blocks of 2^log_rep
/// tiles of 2^log_run runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    pub s0: u32,
    pub stages: u32,
    pub log_run: u32,
    pub log_rep: u32,
}

impl Pass {
    pub fn block_elements(&self) -> u64 {
        1 << (self.stages + self.log_run + self.log_rep)
    }
}

/// The passes of a transform of 2^log_n elements over `columns` columns, lowest stages first.
pub fn passes(log_n: u32, columns: usize, tiling: NttTiling) -> Vec<Pass> {
    assert!(
        tiling.log_tile > tiling.log_run,
        "{tiling:?} leaves no stages"
    );
    let mut out = Vec::new();
    let mut s0 = 0;
    while s0 < log_n {
        let log_run = s0.min(tiling.log_run);
        let stages = (tiling.log_tile - log_run).min(log_n - s0);
        // More tiles to a block where tiles are small, as long as the batch divides into
        // whole blocks (columns need not be a power of two).
        let room = tiling.log_tile - log_run - stages;
        let whole = log_n - stages - log_run + columns.trailing_zeros();
        out.push(Pass {
            s0,
            stages,
            log_run,
            log_rep: room.min(whole),
        });
        s0 += stages;
    }
    out
}

/// `columns` transforms of 2^log_n elements each (`data` column after column), with the CPU
/// engine's definitions: forward y_i = Σ_j a_j·(g·ω^i)^j, inverse its inverse, either order
/// on either side.
pub fn ntt<F: DeviceField>(cfg: &NttConfig<F>, log_n: u32, columns: usize, data: &[F]) -> Plan {
    ntt_tiled(cfg, log_n, columns, data, NttTiling::for_field::<F>())
}

/// [`ntt`] cut by `tiling`.
pub fn ntt_tiled<F: DeviceField>(
    cfg: &NttConfig<F>,
    log_n: u32,
    columns: usize,
    data: &[F],
    tiling: NttTiling,
) -> Plan {
    let n = 1usize << log_n;
    let total = (n * columns) as u64;
    let mut buffers = vec![super::words(data.iter().copied()), Vec::new()];
    let mut plan = Plan {
        module: "ntt.cu",
        buffers: Vec::new(),
        launches: Vec::new(),
        result: 0,
        resident: Vec::new(),
    };
    // A transform of one element is the identity under every configuration.
    if log_n == 0 || total == 0 {
        plan.buffers = buffers;
        return plan;
    }
    let inverse = cfg.direction == Direction::Inverse;
    let root = F::root_of_unity(log_n);
    let w = if inverse { root.inv() } else { root };
    plan.resident
        .push(tables::resident(1, w, F::one(), n / 2, None));

    // Natural input runs Gentleman–Sande stages from the top and leaves bit-reversed order;
    // bit-reversed input runs Cooley–Tukey stages from the bottom and leaves natural order.
    let dif = cfg.input == Order::Natural;
    let mut order = passes(log_n, columns, tiling);
    if dif {
        order.reverse();
    }
    let after = if dif {
        Order::BitReversed
    } else {
        Order::Natural
    };
    let rev_bits = |o: Order| (o == Order::BitReversed).then_some(log_n);

    // The table (buffer 2, when there is one) multiplies the data in the order it is in when
    // read by the first pass or written by the last.
    let mut table = None;
    if let (false, Some(g)) = (inverse, cfg.coset) {
        table = Some((SCALE_LOAD, g, F::one(), rev_bits(cfg.input)));
    }
    if inverse {
        let g_inv = cfg.coset.map_or(F::one(), |g| g.inv());
        let n_inv = F::from_u64(n as u64).inv();
        table = Some((SCALE_STORE, g_inv, n_inv, rev_bits(after)));
    }
    let table_buf = match table {
        Some((_, base, scale, bits)) => {
            buffers.push(Vec::new());
            plan.resident
                .push(tables::resident(2, base, scale, n, bits));
            2
        }
        // Never read: the kernel takes the twiddles' address in its place.
        None => 1,
    };

    let last = order.len() - 1;
    for (k, p) in order.iter().enumerate() {
        let mut flags = if dif { DIF } else { 0 };
        if let Some((scale, ..)) = table {
            if (scale == SCALE_LOAD && k == 0) || (scale == SCALE_STORE && k == last) {
                flags |= scale;
            }
        }
        let elems = p.block_elements();
        plan.launches.push(Launch {
            kernel: format!("ntt_pass_{}", F::SUFFIX),
            threads: total / 2,
            args: vec![
                Arg::Buf(0),
                Arg::Buf(1),
                Arg::Buf(table_buf),
                Arg::U32(log_n),
                Arg::U32(p.s0),
                Arg::U32(p.stages),
                Arg::U32(p.log_run),
                Arg::U32(p.log_rep),
                Arg::U32(flags),
            ],
            block: (elems / 2) as u32,
            shared: (elems * 4 * F::WORDS as u64) as u32,
        });
    }
    if cfg.output != after {
        plan.launches.push(Launch::new(
            format!("bitrev_{}", F::SUFFIX),
            total,
            vec![Arg::Buf(0), Arg::U64(total), Arg::U32(log_n)],
        ));
    }
    plan.buffers = buffers;
    plan
}

/// The plan's result, decoded.
pub fn decode<F: DeviceField>(plan: &Plan) -> Vec<F> {
    plan.buffers[0]
        .chunks(F::WORDS)
        .map(F::from_words)
        .collect()
}
