//! Twiddle tables, built once per field and grown on demand.
//!
//! Layout: for each butterfly half-size h = 1, 2, 4, …, N/2 the h factors ω_{2h}^j (j < h) sit
//! contiguously at offset h − 1. Because ω_{2h} is the same root for every transform size, one
//! table of the largest size serves all smaller ones, and each layer reads its factors with
//! unit stride.

use super::field::NttField;
use rayon::prelude::*;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Smallest table built, so that a run of small transforms does not rebuild repeatedly.
const MIN_LOG: u32 = 12;

pub struct Twiddles<F> {
    log_max: u32,
    fwd: Vec<F>,
    inv: Vec<F>,
}

impl<F: NttField> Twiddles<F> {
    /// ω_{2h}^j for j < h, or the inverse roots.
    #[inline]
    pub fn layer(&self, h: usize, inverse: bool) -> &[F] {
        let t = if inverse { &self.inv } else { &self.fwd };
        &t[h - 1..2 * h - 1]
    }

    /// The largest transform this table serves, 2^log_max.
    pub fn log_max(&self) -> u32 {
        self.log_max
    }

    fn build(log_max: u32) -> Self {
        let fwd = Self::table(F::root_of_unity(log_max), log_max);
        let inv = Self::table(F::root_of_unity(log_max).inv(), log_max);
        Self { log_max, fwd, inv }
    }

    fn table(root: F, log_max: u32) -> Vec<F> {
        let n = 1usize << log_max;
        if n < 2 {
            return Vec::new();
        }
        // Top layer: root^j for j < n/2, computed in parallel chunks.
        let half = n / 2;
        let mut top = vec![F::zero(); half];
        const CHUNK: usize = 1 << 12;
        top.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            let mut w = root.pow((c * CHUNK) as u64);
            for o in out {
                *o = w;
                w = w * root;
            }
        });
        let mut t = Vec::with_capacity(n - 1);
        let mut h = 1;
        while h < half {
            let stride = half / h;
            t.extend((0..h).map(|j| top[j * stride]));
            h *= 2;
        }
        t.extend_from_slice(&top);
        t
    }
}

type Cache = Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>;

/// The shared table for `F`, covering transforms up to 2^log_n.
pub fn twiddles<F: NttField>(log_n: u32) -> Arc<Twiddles<F>> {
    let log_max = log_n.max(MIN_LOG).min(F::TWO_ADICITY);
    shared::<F, Twiddles<F>>(|t| t.log_max, log_n, || Twiddles::build(log_max))
}

/// The process's one `T` under the key type `K`, built when none covers `need` (by `size`),
/// and kept unless another thread meanwhile stored a larger one.
pub(crate) fn shared<K: 'static, T: Send + Sync + 'static>(
    size: impl Fn(&T) -> u32,
    need: u32,
    build: impl FnOnce() -> T,
) -> Arc<T> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<K>();
    let get = |map: &HashMap<TypeId, Arc<dyn Any + Send + Sync>>| {
        map.get(&key).and_then(|t| t.clone().downcast::<T>().ok())
    };
    {
        let map = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = get(&map) {
            if size(&t) >= need {
                return t;
            }
        }
    }
    // Built outside the lock: a concurrent request for another key is not held up.
    let built = Arc::new(build());
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    match get(&map) {
        Some(t) if size(&t) >= size(&built) => t,
        _ => {
            map.insert(key, built.clone());
            built
        }
    }
}
