//! Plonky3's DFT trait backed by Offload, for a STARK prover's PCS (`TwoAdicFriPcs::new(dft,
//! …)`): the trace's low-degree extension and the quotient's transforms then run on the engine
//! or on a daemon. Plonky3 keeps matrices row-major (a row per point, a column per
//! polynomial); Offload transforms columns, so each call transposes in and out.
//!
//! Plonky3's trait has no error path: a transform the daemon refuses or a connection lost
//! mid-proof panics with the reason, as a prover cannot go on without the transform.

use crate::offload::{Offload, ProverField};
use offload_engine::ntt::NttConfig;
use p3_dft::TwoAdicSubgroupDft;
use p3_field::TwoAdicField;
use p3_matrix::dense::RowMajorMatrix;
use p3_matrix::Matrix;
use std::sync::Arc;

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

    fn fft<F: ProverField + TwoAdicField>(&self, cfg: &NttConfig<F>, columns: &mut [Vec<F>]) {
        let ran = match &self.remote {
            Some(o) => o.fft(cfg, columns),
            None => Offload::local_with_tables(0).fft(cfg, columns),
        };
        if let Err(e) = ran {
            let height = columns.first().map_or(0, Vec::len);
            panic!(
                "Offload could not run a DFT of {} columns of {height}: {e}",
                columns.len()
            );
        }
    }

    fn columns<F: ProverField + TwoAdicField>(mat: RowMajorMatrix<F>) -> Vec<Vec<F>> {
        let height = mat.height();
        mat.transpose()
            .values
            .chunks(height)
            .map(<[F]>::to_vec)
            .collect()
    }

    fn run<F: ProverField + TwoAdicField>(
        &self,
        mat: RowMajorMatrix<F>,
        cfg: NttConfig<F>,
    ) -> RowMajorMatrix<F> {
        let height = mat.height();
        // A transform of length 1 is the identity, on a coset too.
        if height <= 1 || mat.width() == 0 {
            return mat;
        }
        let mut columns = Self::columns(mat);
        self.fft(&cfg, &mut columns);
        RowMajorMatrix::new(columns.concat(), height).transpose()
    }
}

impl<F: ProverField + TwoAdicField> TwoAdicSubgroupDft<F> for OffloadDft {
    type Evaluations = RowMajorMatrix<F>;

    fn dft_batch(&self, mat: RowMajorMatrix<F>) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::forward())
    }

    fn coset_dft_batch(&self, mat: RowMajorMatrix<F>, shift: F) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::forward().coset(shift))
    }

    fn idft_batch(&self, mat: RowMajorMatrix<F>) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::inverse())
    }

    fn coset_idft_batch(&self, mat: RowMajorMatrix<F>, shift: F) -> RowMajorMatrix<F> {
        self.run(mat, NttConfig::inverse().coset(shift))
    }

    /// The PCS's main call: interpolate, pad, evaluate on the larger coset, with the columns
    /// transposed once each way.
    fn coset_lde_batch(
        &self,
        mat: RowMajorMatrix<F>,
        added_bits: usize,
        shift: F,
    ) -> RowMajorMatrix<F> {
        let height = mat.height();
        if mat.width() == 0 || height == 0 {
            return mat;
        }
        let mut columns = Self::columns(mat);
        if height > 1 {
            self.fft(&NttConfig::inverse(), &mut columns);
        }
        let tall = height << added_bits;
        for c in &mut columns {
            c.resize(tall, F::ZERO);
        }
        if tall > 1 {
            self.fft(&NttConfig::forward().coset(shift), &mut columns);
        }
        RowMajorMatrix::new(columns.concat(), tall).transpose()
    }
}
