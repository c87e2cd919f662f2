//! Plonky3 through Offload: `OffloadDft` against Plonky3's own DFT on every transform the PCS
//! uses, and a Keccak AIR proved with it in Plonky3's PCS and checked by Plonky3's verifier, on
//! Goldilocks and BabyBear, in process and through a started daemon.

use offload_prover::airs;
use offload_prover::stark::OffloadDft;
use offload_prover::Offload;
use p3_dft::{Radix2DitParallel, TwoAdicSubgroupDft};
use p3_field::{PrimeCharacteristicRing, TwoAdicField};
use p3_matrix::bitrev::BitReversibleMatrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_matrix::Matrix;
use std::sync::Arc;

fn matrix<F: PrimeCharacteristicRing + Clone + Send + Sync>(
    width: usize,
    height: usize,
    seed: u64,
) -> RowMajorMatrix<F> {
    // A fixed pseudo-random fill (splitmix64), reduced into the field.
    let mut x = seed;
    let values = (0..width * height)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            F::from_u64(z ^ (z >> 31))
        })
        .collect();
    RowMajorMatrix::new(values, width)
}

/// A matrix's values with its rows in the order it presents them.
fn values<F: Clone + Send + Sync, M: Matrix<F>>(m: M) -> Vec<F> {
    m.to_row_major_matrix().values
}

fn agrees_with_plonky3<F>(dft: &OffloadDft)
where
    F: offload_prover::ProverField + TwoAdicField + PrimeCharacteristicRing + Ord,
{
    let theirs = Radix2DitParallel::<F>::default();
    for (width, log_h) in [(1, 0), (1, 1), (5, 6), (3, 10)] {
        let m = matrix::<F>(width, 1 << log_h, 7 + log_h as u64);
        let shift = F::GENERATOR;
        assert_eq!(
            values(dft.dft_batch(m.clone())),
            values(theirs.dft_batch(m.clone())),
            "dft {width}x2^{log_h}"
        );
        assert_eq!(
            values(dft.coset_dft_batch(m.clone(), shift)),
            values(theirs.coset_dft_batch(m.clone(), shift)),
            "coset dft"
        );
        assert_eq!(
            dft.idft_batch(m.clone()).values,
            theirs.idft_batch(m.clone()).values,
            "idft"
        );
        assert_eq!(
            dft.coset_idft_batch(m.clone(), shift).values,
            theirs.coset_idft_batch(m.clone(), shift).values,
            "coset idft"
        );
        assert_eq!(
            values(dft.coset_lde_batch(m.clone(), 2, shift)),
            values(theirs.coset_lde_batch(m.clone(), 2, shift)),
            "coset lde"
        );
        // As the FRI prover takes it: rows bit-reversed.
        assert_eq!(
            values(dft.coset_lde_batch(m.clone(), 1, shift).bit_reverse_rows()),
            values(theirs.coset_lde_batch(m, 1, shift).bit_reverse_rows()),
            "coset lde, bit-reversed"
        );
    }
}

#[test]
fn offload_dft_equals_plonky3s_on_every_transform() {
    agrees_with_plonky3::<p3_goldilocks::Goldilocks>(&OffloadDft::local());
    agrees_with_plonky3::<p3_baby_bear::BabyBear>(&OffloadDft::local());
}

#[test]
fn keccak_air_proved_in_process_and_verified_by_plonky3() {
    // Each proves, checks the proof with p3-uni-stark's verifier and that the proof fails
    // against other public values; its trace and quotient commitments equal those made with
    // Plonky3's own DFT.
    for log_rows in [7, 8] {
        let n = airs::hashes(log_rows);
        assert_eq!(
            airs::goldilocks::prove_with(OffloadDft::local(), n),
            airs::goldilocks::prove_with(Radix2DitParallel::default(), n)
        );
        assert_eq!(
            airs::babybear::prove_with(OffloadDft::local(), n),
            airs::babybear::prove_with(Radix2DitParallel::default(), n)
        );
    }
}

#[test]
fn keccak_air_proved_through_a_daemon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("offload.sock");
    let config = offload_daemon::Config {
        uds: Some(sock.clone()),
        metrics_listen: "127.0.0.1:0".into(),
        ..offload_daemon::Config::ephemeral(dir.path())
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let running = rt
        .block_on(offload_daemon::serve(config))
        .expect("daemon starts");
    let offload = Arc::new(
        Offload::connect(
            &format!("unix:{}", sock.display()),
            &offload_client::ConnectOptions::default(),
        )
        .expect("connects"),
    );
    agrees_with_plonky3::<p3_goldilocks::Goldilocks>(&OffloadDft::on(offload.clone()));
    let n = airs::hashes(7);
    assert_eq!(
        airs::goldilocks::prove_with(OffloadDft::on(offload.clone()), n),
        airs::goldilocks::prove_with(OffloadDft::local(), n)
    );
    assert_eq!(
        airs::babybear::prove_with(OffloadDft::on(offload.clone()), n),
        airs::babybear::prove_with(OffloadDft::local(), n)
    );
    drop(offload);
    rt.block_on(running.stop()).expect("stops");
}
