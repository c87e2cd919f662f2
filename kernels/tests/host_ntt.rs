//! The NTT kernels' steps (bit reversal, DIT stages, table multiply), run on the host over the
//! same grid the GPU launches, against a naive DFT: the kernels' logic tested without a GPU.

mod common;

use ark_ff::{FftField, Field, UniformRand};
use common::{from_mont_words, mont_words};
use offload_kernels::host;
use p3_baby_bear::BabyBear;
use p3_field::{Field as P3Field, PrimeCharacteristicRing, PrimeField32, TwoAdicField};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn naive<F: Copy + std::ops::Add<Output = F> + std::ops::Mul<Output = F>>(
    x: &[F],
    w: F,
    one: F,
    zero: F,
) -> Vec<F> {
    let mut wk = one;
    (0..x.len())
        .map(|_| {
            let mut acc = zero;
            let mut p = one;
            for &v in x {
                acc = acc + v * p;
                p = p * wk;
            }
            wk = wk * w;
            acc
        })
        .collect()
}

fn bb_mont(x: BabyBear) -> u32 {
    (x * BabyBear::from_u64(1 << 32)).as_canonical_u32()
}

fn bb_from_mont(m: u32) -> BabyBear {
    BabyBear::from_u32(m) * BabyBear::from_u64(1 << 32).inverse()
}

#[test]
fn babybear_batches_forward_inverse_and_coset() {
    let mut rng = ChaCha20Rng::seed_from_u64(31);
    for log_n in [1u32, 2, 5, 8] {
        let n = 1usize << log_n;
        let columns = 3;
        let input: Vec<BabyBear> = (0..n * columns)
            .map(|_| BabyBear::from_u32(rng.gen_range(0..BabyBear::ORDER_U32)))
            .collect();
        let w = BabyBear::two_adic_generator(log_n as usize);
        for inverse in [false, true] {
            let root = if inverse { w.inverse() } else { w };
            let tw: Vec<u32> = (0..n / 2)
                .map(|k| bb_mont(root.exp_u64(k as u64)))
                .collect();
            // The inverse scales by 1/n; a coset shift g^i is another table the same way.
            let g = BabyBear::GENERATOR;
            let table: Vec<u32> = (0..n)
                .map(|i| {
                    if inverse {
                        bb_mont(BabyBear::from_u32(n as u32).inverse())
                    } else {
                        bb_mont(g.exp_u64(i as u64))
                    }
                })
                .collect();
            let mut data: Vec<u32> = input.iter().map(|&x| bb_mont(x)).collect();
            // SAFETY: data holds columns·n words, tw n/2, table n.
            unsafe {
                host::offload_check_ntt_babybear(
                    data.as_mut_ptr(),
                    columns as u32,
                    log_n,
                    tw.as_ptr(),
                    table.as_ptr(),
                )
            };
            for c in 0..columns {
                let col = &input[c * n..(c + 1) * n];
                let want: Vec<BabyBear> = if inverse {
                    let ninv = BabyBear::from_u32(n as u32).inverse();
                    naive(col, root, BabyBear::ONE, BabyBear::ZERO)
                        .into_iter()
                        .map(|v| v * ninv)
                        .collect()
                } else {
                    // Forward then × g^i on the output: what the table multiply does.
                    naive(col, root, BabyBear::ONE, BabyBear::ZERO)
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| v * g.exp_u64(i as u64))
                        .collect()
                };
                let got: Vec<BabyBear> = data[c * n..(c + 1) * n]
                    .iter()
                    .map(|&m| bb_from_mont(m))
                    .collect();
                assert_eq!(got, want, "2^{log_n} column {c} inverse {inverse}");
            }
        }
    }
}

fn fr_mont(x: ark_bn254::Fr) -> Vec<u32> {
    mont_words(x)
}

fn fr_from_mont(w: &[u32]) -> ark_bn254::Fr {
    from_mont_words(w)
}

#[test]
fn bn254_fr_forward_without_a_table() {
    use ark_bn254::Fr;
    let mut rng = ChaCha20Rng::seed_from_u64(32);
    for log_n in [1u32, 4, 7] {
        let n = 1usize << log_n;
        let input: Vec<Fr> = (0..n * 2).map(|_| Fr::rand(&mut rng)).collect();
        let w = Fr::get_root_of_unity(n as u64).unwrap();
        let tw: Vec<u32> = (0..n / 2)
            .flat_map(|k| fr_mont(w.pow([k as u64])))
            .collect();
        let mut data: Vec<u32> = input.iter().flat_map(|&x| fr_mont(x)).collect();
        // SAFETY: data holds 2·n elements of 8 words, tw n/2; no table.
        unsafe {
            host::offload_check_ntt_bn254_fr(
                data.as_mut_ptr(),
                2,
                log_n,
                tw.as_ptr(),
                std::ptr::null(),
            )
        };
        for c in 0..2 {
            let want = naive(
                &input[c * n..(c + 1) * n],
                w,
                Fr::from(1u64),
                Fr::from(0u64),
            );
            let got: Vec<Fr> = data[c * n * 8..(c + 1) * n * 8]
                .chunks(8)
                .map(fr_from_mont)
                .collect();
            assert_eq!(got, want, "2^{log_n} column {c}");
        }
    }
}
