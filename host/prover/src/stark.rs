//! Plonky3's DFT trait backed by Offload, for a STARK prover's PCS (`TwoAdicFriPcs::new(dft,
//! …)`): the trace's low-degree extension and the quotient's transforms then run on the engine
//! or on a daemon. Plonky3 keeps matrices row-major (a row per point, a column per
//! polynomial); the engine transforms them where they are, many columns per instruction; a
//! daemon takes columns, so a remote call transposes in and out. Evaluations come back with
//! their rows bit-reversed, behind Plonky3's bit-reversed view: the FRI prover commits to them
//! in that order, so no pass restores the natural one.
//!
//! Plonky3's trait has no error path: a transform the daemon refuses or a connection lost
//! mid-proof panics with the reason, as a prover cannot go on without the transform.

use crate::offload::{Offload, ProverField};
use offload_engine::ntt::{NttConfig, Order};
use p3_dft::TwoAdicSubgroupDft;
use p3_field::TwoAdicField;
use p3_matrix::bitrev::{BitReversalPerm, BitReversedMatrixView};
use p3_matrix::dense::RowMajorMatrix;
use p3_matrix::Matrix;
use std::sync::{Arc, OnceLock};

/// Where the DFTs run; the default is the engine in this process.
#[derive(Clone, Default)]
pub struct OffloadDft {
    remote: Option<Arc<Offload>>,
}

impl OffloadDft {
    /// On the engine in this process.
    pub fn local() -> Self {
        Self::default()
    }

    /// On `offload` (a daemon, or the engine).
    pub fn on(offload: Arc<Offload>) -> Self {
        Self {
            remote: Some(offload),
        }
    }

    fn offload(&self) -> &Offload {
        static LOCAL: OnceLock<Offload> = OnceLock::new();
        match &self.remote {
            Some(o) => o,
            None => LOCAL.get_or_init(|| Offload::local_with_tables(0)),
        }
    }

    /// `cfg` on every column, in place.
    fn run<F: ProverField + TwoAdicField>(
        &self,
        mut mat: RowMajorMatrix<F>,
        cfg: NttConfig<F>,
    ) -> RowMajorMatrix<F> {
        let (height, width) = (mat.height(), mat.width());
        // A transform of length 1 is the identity, on a coset too.
        if height <= 1 || width == 0 {
            return mat;
        }
        if let Err(e) = self.offload().fft_rows(&cfg, &mut mat.values, width) {
            panic!("Offload could not run a DFT of {width} columns of {height}: {e}");
        }
        mat
    }

    /// A forward transform, its rows left bit-reversed and viewed in natural order.
    fn evaluate<F: ProverField + TwoAdicField>(
        &self,
        mat: RowMajorMatrix<F>,
        cfg: NttConfig<F>,
    ) -> BitReversedMatrixView<RowMajorMatrix<F>> {
        let cfg = cfg.orders(Order::Natural, Order::BitReversed);
        BitReversalPerm::new_view(self.run(mat, cfg))
    }
}

impl<F: ProverField + TwoAdicField> TwoAdicSubgroupDft<F> for OffloadDft {
    type Evaluations = BitReversedMatrixView<RowMajorMatrix<F>>;

    fn dft_batch(&self, mat: RowMajorMatrix<F>) -> Self::Evaluations {
        self.evaluate(mat, NttConfig::forward())
    }

    fn coset_dft_batch(&self, mat: RowMajorMatrix<F>, shift: F) -> Self::Evaluations {
        self.evaluate(mat, NttConfig::forward().coset(shift))
    }

    fn idft_batch(&self, mat: RowMajorMatrix<F>) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::inverse())
    }

    fn coset_idft_batch(&self, mat: RowMajorMatrix<F>, shift: F) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::inverse().coset(shift))
    }

    /// The PCS's main call: interpolate, pad, evaluate on the larger coset, in one pass of
    /// interpolation and one of evaluation on the engine.
    fn coset_lde_batch(
        &self,
        mat: RowMajorMatrix<F>,
        added_bits: usize,
        shift: F,
    ) -> Self::Evaluations {
        let (height, width) = (mat.height(), mat.width());
        // A bit-reversed view needs a power-of-two height; Plonky3's DFTs that return one
        // refuse an empty matrix the same way.
        assert!(
            width > 0 && height > 0,
            "no low-degree extension of an empty matrix"
        );
        let bits = u32::try_from(added_bits).unwrap_or(u32::MAX);
        match self
            .offload()
            .lde_rows(&mat.values, width, bits, shift, Order::BitReversed)
        {
            Ok(values) => BitReversalPerm::new_view(RowMajorMatrix::new(values, width)),
            Err(e) => panic!(
                "Offload could not extend {width} columns of {height} by 2^{added_bits}: {e}"
            ),
        }
    }
}
