//! Number-theoretic transforms over the scalar fields of BN254 and BLS12-381, BabyBear and
//! Goldilocks: forward and inverse, natural or bit-reversed order on either side, on a coset,
//! one column or a batch.
//!
//! Definitions (ω = [`NttField::root_of_unity`] of the size, g = coset shift, default 1):
//! forward y_i = Σ_j a_j·(g·ω^i)^j; inverse recovers a from y. These equal arkworks'
//! `Radix2EvaluationDomain` (`fft`, `ifft`, `get_coset(g)`) and Plonky3's `dft`, `idft`,
//! `coset_dft`, `coset_idft`, element for element.

pub mod field;
pub mod four_step;
#[cfg(target_arch = "x86_64")]
mod ifma;
pub mod kernels;
mod rows;
pub mod twiddles;

pub use field::NttField;
pub use rows::lde_rows;

use crate::cancel::{Cancel, Cancelled};
use rayon::prelude::*;

pub use offload_wire::ntt::{Direction, NttConfig, Order};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NttError {
    #[error("length {len} is not a power of two")]
    NotPowerOfTwo { len: usize },
    #[error("size 2^{log_n} exceeds the largest {field} domain, 2^{max}")]
    TooLarge {
        field: &'static str,
        log_n: u32,
        max: u32,
    },
    #[error("input has {len} elements but the domain has {size}")]
    LengthMismatch { len: usize, size: usize },
    #[error("a matrix of {len} elements is not {height} rows of {width}")]
    Shape {
        len: usize,
        height: usize,
        width: usize,
    },
    #[error("coset shift must be nonzero")]
    ZeroShift,
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for NttError {
    fn from(_: Cancelled) -> Self {
        NttError::Cancelled
    }
}

/// A transform size, checked against the field's two-adicity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain<F> {
    log_n: u32,
    _field: std::marker::PhantomData<F>,
}

impl<F: NttField> Domain<F> {
    pub fn new(log_n: u32) -> Result<Self, NttError> {
        if log_n > F::TWO_ADICITY {
            return Err(NttError::TooLarge {
                field: F::NAME,
                log_n,
                max: F::TWO_ADICITY,
            });
        }
        Ok(Self {
            log_n,
            _field: std::marker::PhantomData,
        })
    }

    /// The domain whose size is `len`, which must be a power of two.
    pub fn for_len(len: usize) -> Result<Self, NttError> {
        if !len.is_power_of_two() {
            return Err(NttError::NotPowerOfTwo { len });
        }
        Self::new(len.trailing_zeros())
    }

    pub fn log_size(&self) -> u32 {
        self.log_n
    }

    pub fn size(&self) -> usize {
        1 << self.log_n
    }

    /// The generator ω of the domain.
    pub fn root(&self) -> F {
        F::root_of_unity(self.log_n)
    }

    /// Transform one column in place; its length must be the domain size.
    pub fn ntt(&self, data: &mut [F], cfg: &NttConfig<F>) -> Result<(), NttError> {
        if data.len() != self.size() {
            return Err(NttError::LengthMismatch {
                len: data.len(),
                size: self.size(),
            });
        }
        self.ntt_batch(data, cfg)
    }

    /// Transform a batch of columns stored one after another, each of the domain size.
    pub fn ntt_batch(&self, data: &mut [F], cfg: &NttConfig<F>) -> Result<(), NttError> {
        self.ntt_batch_cancellable(data, cfg, &Cancel::never())
    }

    /// [`Self::ntt_batch`] that gives up with [`NttError::Cancelled`] soon after `cancel` is
    /// raised (before each column, and between the passes of a four-step column), leaving
    /// `data` partly transformed.
    pub fn ntt_batch_cancellable(
        &self,
        data: &mut [F],
        cfg: &NttConfig<F>,
        cancel: &Cancel,
    ) -> Result<(), NttError> {
        let n = self.size();
        if !data.len().is_multiple_of(n) {
            return Err(NttError::LengthMismatch {
                len: data.len(),
                size: n,
            });
        }
        if matches!(cfg.coset, Some(g) if g.is_zero()) {
            return Err(NttError::ZeroShift);
        }
        // Four-step sizes bring their own small tables; others share the one of this size.
        let tw = (self.log_n < four_step::MIN_LOG).then(|| twiddles::twiddles::<F>(self.log_n));
        data.par_chunks_mut(n).try_for_each(|col| {
            cancel.check()?;
            transform(col, cfg, tw.as_deref(), cancel)
        })?;
        Ok(())
    }
}

/// Transform one column whose length is the size of its domain.
pub fn ntt<F: NttField>(data: &mut [F], cfg: &NttConfig<F>) -> Result<(), NttError> {
    Domain::<F>::for_len(data.len())?.ntt(data, cfg)
}

/// One column of canonical 64-bit elements, natural order in and bit-reversed out: the order
/// the FPGA engines stream, so the answer a device's probe and the HDL tests hold a core to.
pub fn natural_to_bit_reversed<F: NttField + p3_field::PrimeField64>(
    data: &[u64],
    direction: Direction,
) -> Result<Vec<u64>, NttError> {
    let mut v: Vec<F> = data
        .iter()
        .map(|&x| <F as p3_field::PrimeCharacteristicRing>::from_u64(x))
        .collect();
    let cfg = NttConfig {
        direction,
        ..NttConfig::default()
    }
    .orders(Order::Natural, Order::BitReversed);
    ntt(&mut v, &cfg)?;
    Ok(v.iter().map(|x| x.as_canonical_u64()).collect())
}

/// One column; `tw` is the shared table, absent for four-step sizes.
fn transform<F: NttField>(
    a: &mut [F],
    cfg: &NttConfig<F>,
    tw: Option<&twiddles::Twiddles<F>>,
    cancel: &Cancel,
) -> Result<(), Cancelled> {
    let n = a.len();
    let inverse = cfg.direction == Direction::Inverse;
    if let (false, Some(g)) = (inverse, cfg.coset) {
        // Coefficient j is scaled by g^j; in bit-reversed input it sits at position rev(j).
        kernels::mul_powers(a, g, F::one(), cfg.input == Order::BitReversed);
    }
    match tw {
        Some(tw) => radix2(a, cfg, tw, inverse),
        None => {
            if cfg.input == Order::BitReversed {
                kernels::bit_reverse(a);
            }
            four_step::natural(a, inverse, cancel)?;
            if cfg.output == Order::BitReversed {
                kernels::bit_reverse(a);
            }
        }
    }
    if inverse {
        let n_inv = F::from_u64(n as u64).inv();
        match cfg.coset {
            None => kernels::scale(a, n_inv),
            // Coefficient j is scaled by g^{−j}/n, at position j or rev(j).
            Some(g) => kernels::mul_powers(a, g.inv(), n_inv, cfg.output == Order::BitReversed),
        }
    }
    Ok(())
}

fn radix2<F: NttField>(a: &mut [F], cfg: &NttConfig<F>, tw: &twiddles::Twiddles<F>, inverse: bool) {
    match (cfg.input, cfg.output) {
        (Order::Natural, Order::BitReversed) => F::dif(a, tw, inverse),
        (Order::BitReversed, Order::Natural) => F::dit(a, tw, inverse),
        (Order::Natural, Order::Natural) => {
            F::dif(a, tw, inverse);
            kernels::bit_reverse(a);
        }
        (Order::BitReversed, Order::BitReversed) => {
            kernels::bit_reverse(a);
            F::dif(a, tw, inverse);
        }
    }
}
