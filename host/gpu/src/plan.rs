//! What a GPU job does, as data: the buffers to upload and the kernel launches in order. The
//! same plan runs on the GPU (`exec::Cuda`) or on the host over the same grid
//! (`exec::Host`), so everything but the device itself is tested on machines without one.

use crate::field::DeviceField;
use offload_core::job::BaseSet;
use offload_core::wire::Curve;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

mod ntt;
pub use ntt::{decode, ntt, ntt_tiled, passes, NttTiling, Pass};

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
    /// Threads to a block: a multiple of it is `threads` where the kernel shares memory
    /// within a block; otherwise the kernel checks its bounds.
    pub block: u32,
    /// Bytes of dynamic shared memory a block gets.
    pub shared: u32,
}

/// The block size of kernels that share nothing within a block.
pub const DEFAULT_BLOCK: u32 = 256;

impl Launch {
    /// A launch of a kernel that shares nothing within a block.
    pub fn new(kernel: String, threads: u64, args: Vec<Arg>) -> Self {
        Self {
            kernel,
            threads,
            args,
            block: DEFAULT_BLOCK,
            shared: 0,
        }
    }
}

/// Buffers (32-bit words, zero-filled where the kernels fill them) and launches; after a run,
/// `buffers[result]` holds the result.
#[derive(Clone, Debug)]
pub struct Plan {
    pub module: &'static str,
    pub buffers: Vec<Vec<u32>>,
    pub launches: Vec<Launch>,
    pub result: usize,
    /// Buffers whose contents the executor may keep on the device between plans (their
    /// entry in `buffers` is empty): an uploaded base set's points, sent once.
    pub resident: Vec<Resident>,
}

/// What identifies resident contents: the base set's handle (which names one content forever)
/// and the range of its points.
pub type ResidentKey = (Arc<str>, Range<usize>);

/// Contents an executor keeps until their set is released, and makes only when it does not
/// hold them already.
#[derive(Clone)]
pub struct Resident {
    pub buffer: usize,
    pub key: ResidentKey,
    pub fill: Arc<dyn Fn() -> Vec<u32> + Send + Sync>,
}

impl fmt::Debug for Resident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resident")
            .field("buffer", &self.buffer)
            .field("key", &self.key)
            .finish()
    }
}

fn words<F: DeviceField>(xs: impl Iterator<Item = F>) -> Vec<u32> {
    let mut out = Vec::new();
    for x in xs {
        x.push_words(&mut out);
    }
    out
}

/// The MSM window for n points: wider windows for more points (fewer windows, more buckets).
pub fn window_bits(n: usize) -> u32 {
    (n.max(1).ilog2().saturating_sub(4)).clamp(4, 16)
}

/// Σ scalars[i]·bases[i] with the bucket method in `c`-bit signed windows; scalars canonical
/// (below the group order), little-endian 64-bit limbs. The result is buffer `result`, an
/// XYZZ point ([`crate::curve::DeviceCurve::from_xyzz`]).
pub fn msm<C: crate::curve::DeviceCurve>(
    bases: &[ark_ec::short_weierstrass::Affine<C>],
    scalars: &[[u64; 4]],
    c: u32,
) -> Plan {
    assert!(bases.len() == scalars.len());
    msm_with::<C>(base_words(bases), scalars, c)
}

fn base_words<C: crate::curve::DeviceCurve>(
    bases: &[ark_ec::short_weierstrass::Affine<C>],
) -> Vec<u32> {
    let mut b = Vec::with_capacity(bases.len() * 2 * C::BASE_WORDS);
    for p in bases {
        C::push_affine(p, &mut b);
    }
    b
}

/// [`msm`] over `set.points[range]` of the uploaded set `handle`, with the bases resident:
/// the executor uploads them the first time and reuses its copy until the set is released.
pub fn msm_resident<C: crate::curve::DeviceCurve + Curve>(
    set: &Arc<BaseSet<C>>,
    handle: &Arc<str>,
    range: Range<usize>,
    scalars: &[[u64; 4]],
    c: u32,
) -> Plan {
    assert!(range.len() == scalars.len() && range.end <= set.len());
    let mut p = msm_with::<C>(Vec::new(), scalars, c);
    let src = set.clone();
    let r = range.clone();
    p.resident.push(Resident {
        buffer: 0,
        key: (handle.clone(), range),
        fill: Arc::new(move || base_words(&src.points[r.clone()])),
    });
    p
}

/// The MSM plan with `b` as the bases buffer (empty when resident), n = scalars.len().
fn msm_with<C: crate::curve::DeviceCurve>(b: Vec<u32>, scalars: &[[u64; 4]], c: u32) -> Plan {
    assert!(scalars.len() < 1 << 31 && (2..=24).contains(&c));
    let n = scalars.len() as u32;
    let windows = (C::SCALAR_BITS + 1).div_ceil(c);
    let half = 1u32 << (c - 1);
    let segments = half.min(128);
    let total = windows as u64 * n as u64;
    let buckets = windows * half;
    let point = 4 * C::BASE_WORDS;
    let s: Vec<u32> = scalars
        .iter()
        .flat_map(|l| l.iter().flat_map(|x| [*x as u32, (*x >> 32) as u32]))
        .collect();
    let zeros = |k: u64| vec![0u32; k as usize];
    let curve = |k: &str| format!("{k}_{}", C::SUFFIX);
    use Arg::{Buf, U32, U64};
    let launch = Launch::new;
    Plan {
        module: "msm.cu",
        buffers: vec![
            b,
            s,
            zeros(total),
            zeros(total),
            zeros(buckets as u64),
            zeros(buckets as u64),
            zeros(buckets as u64),
            zeros(total),
            zeros(buckets as u64 * point as u64),
            zeros((windows * segments) as u64 * point as u64),
            zeros(windows as u64 * point as u64),
            zeros(point as u64),
        ],
        launches: vec![
            launch(
                "msm_digits".into(),
                n as u64,
                vec![Buf(1), U32(8), U32(n), U32(c), U32(windows), Buf(2), Buf(3)],
            ),
            launch(
                "msm_histogram".into(),
                total,
                vec![Buf(2), U64(total), Buf(4)],
            ),
            launch(
                "msm_scan".into(),
                windows as u64,
                vec![Buf(4), U32(windows), U32(half), U32(n), Buf(5), Buf(6)],
            ),
            launch(
                "msm_scatter".into(),
                total,
                vec![Buf(2), Buf(3), U64(total), Buf(6), Buf(7)],
            ),
            launch(
                curve("msm_accumulate"),
                buckets as u64,
                vec![Buf(0), Buf(7), Buf(5), Buf(4), U32(buckets), Buf(8)],
            ),
            launch(
                curve("msm_reduce"),
                (windows * segments) as u64,
                vec![
                    Buf(8),
                    U32(windows * segments),
                    U32(half),
                    U32(segments),
                    Buf(9),
                ],
            ),
            launch(
                curve("msm_window_sum"),
                windows as u64,
                vec![Buf(9), U32(windows), U32(segments), Buf(10)],
            ),
            launch(
                curve("msm_combine"),
                1,
                vec![Buf(10), U32(windows), U32(c), Buf(11)],
            ),
        ],
        result: 11,
        resident: Vec::new(),
    }
}
