//! NTT plans as the GPU backend makes them (every direction, order pair and coset, batches,
//! sizes 1 to past one shared-memory tile, so two or three passes) run by the host executor,
//! launch for launch and block for block as the GPU would, against the CPU engine.

mod common;

use offload_engine::ntt::{self, NttConfig};
use offload_gpu::exec::{Executor, Host};
use offload_gpu::field::DeviceField;
use offload_gpu::plan;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn check<F: DeviceField>(random: impl Fn(&mut ChaCha20Rng) -> F, seed: u64, sizes: &[u32]) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let g = F::from_u64(7);
    for &log_n in sizes {
        let n = 1usize << log_n;
        let columns = 3;
        let data: Vec<F> = (0..n * columns).map(|_| random(&mut rng)).collect();
        for cfg in common::ntt_configs(g) {
            let mut p = plan::ntt(&cfg, log_n, columns, &data);
            Host::default().execute(&mut p).unwrap();
            let got: Vec<F> = plan::decode(&p);
            let mut want = data.clone();
            for col in want.chunks_mut(n) {
                ntt::ntt(col, &cfg).unwrap();
            }
            assert_eq!(got, want, "{} 2^{log_n} {cfg:?}", F::NAME);
        }
    }
}

#[test]
fn bn254_plans_match_the_cpu_engine() {
    check(
        |r| ark_bn254::Fr::from(r.gen::<u128>()) * ark_bn254::Fr::from(r.gen::<u128>()),
        61,
        &[0, 1, 3, 7, 10],
    );
}

#[test]
fn bls12_381_plans_match_the_cpu_engine() {
    check(
        |r| ark_bls12_381::Fr::from(r.gen::<u128>()) * ark_bls12_381::Fr::from(r.gen::<u128>()),
        62,
        &[0, 1, 3, 7, 10],
    );
}

#[test]
fn babybear_plans_match_the_cpu_engine() {
    use p3_field::PrimeCharacteristicRing;
    check(
        |r| p3_baby_bear::BabyBear::from_u32(r.gen_range(0..0x7800_0001)),
        63,
        &[0, 1, 3, 7, 12, 15],
    );
}

#[test]
fn goldilocks_plans_match_the_cpu_engine() {
    use p3_field::PrimeCharacteristicRing;
    check(
        |r| <p3_goldilocks::Goldilocks as PrimeCharacteristicRing>::from_u64(r.gen()),
        64,
        &[0, 1, 3, 7, 12],
    );
}

#[test]
fn a_plan_naming_a_missing_kernel_or_buffer_is_an_error() {
    let data = vec![p3_baby_bear::BabyBear::new(1); 4];
    let mut p = plan::ntt(&NttConfig::default(), 2, 1, &data);
    p.launches[0].kernel = "nope_babybear".into();
    assert!(Host::default().execute(&mut p).is_err());
    let mut p = plan::ntt(&NttConfig::default(), 2, 1, &data);
    p.launches[0].args[0] = plan::Arg::Buf(9);
    assert!(Host::default().execute(&mut p).is_err());
}

#[test]
fn a_pass_launched_with_the_wrong_block_is_an_error() {
    let data = vec![p3_baby_bear::BabyBear::new(1); 1 << 6];
    let mut p = plan::ntt(&NttConfig::default(), 6, 1, &data);
    p.launches[0].block *= 2;
    let e = Host::default().execute(&mut p).unwrap_err();
    assert!(
        matches!(e, offload_gpu::exec::ExecError::BadLaunch(_)),
        "{e}"
    );
}
