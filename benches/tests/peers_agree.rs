//! Every contender of a case computes the same thing: our engine is checked against blst and
//! halo2curves as well as arkworks, and the bench's conversions are checked with it.

use offload_benches::{runners, Case, Curve, Field, Scheme};
use offload_engine::sig::ed25519::Policy;

fn all_agree(case: Case) {
    let mut rs = runners(case, true);
    assert!(rs.len() >= 2, "{case}: no peers");
    let mut digests = Vec::new();
    for r in rs.iter_mut() {
        r.prepare();
        r.run();
        digests.push((r.name(), r.digest()));
    }
    let (ours_name, ours) = &digests[0];
    assert_eq!(ours_name, "cpu");
    assert!(!ours.is_empty(), "{case}: empty result");
    for (name, d) in &digests[1..] {
        assert_eq!(d, ours, "{case}: {name} differs from ours");
    }
}

#[test]
fn msm_peers_agree() {
    for curve in Curve::ALL {
        for fixed_bases in [false, true] {
            all_agree(Case::Msm {
                curve,
                log_n: 10,
                fixed_bases,
            });
        }
    }
}

#[test]
fn groth16_proofs_agree_with_ark_groth16() {
    for curve in [Curve::Bn254, Curve::Bls12_381] {
        all_agree(Case::Groth16 { curve, log_n: 9 });
    }
}

#[test]
fn stark_proofs_agree_whichever_dft_the_pcs_has() {
    for field in [Field::Goldilocks, Field::BabyBear] {
        all_agree(Case::Stark { field, log_n: 6 });
    }
}

#[test]
fn row_major_matrices_agree_with_plonky3s_dfts() {
    for field in [Field::Goldilocks, Field::BabyBear] {
        for (log_n, width) in [(1, 3), (9, 8), (10, 37)] {
            for lde in [false, true] {
                all_agree(Case::Rows {
                    field,
                    log_n,
                    width,
                    lde,
                });
            }
        }
    }
}

#[test]
fn ntt_peers_agree() {
    for field in Field::ALL {
        for log_n in [1, 11] {
            all_agree(Case::Ntt { field, log_n });
        }
    }
}

#[test]
fn a_wrong_result_is_caught() {
    // The digest really depends on the result: a second run on changed input differs.
    let mut a = runners(
        Case::Ntt {
            field: Field::BabyBear,
            log_n: 8,
        },
        false,
    );
    let mut b = runners(
        Case::Ntt {
            field: Field::BabyBear,
            log_n: 9,
        },
        false,
    );
    for r in [&mut a[0], &mut b[0]] {
        r.prepare();
        r.run();
    }
    assert_ne!(a[0].digest(), b[0].digest());
}

#[test]
fn ed25519_peers_agree() {
    for policy in Policy::ALL {
        for batch in [1, 33] {
            all_agree(Case::Verify {
                scheme: Scheme::Ed25519(policy),
                batch,
            });
        }
    }
}

#[test]
fn secp256k1_peers_agree() {
    for scheme in [
        Scheme::Ecdsa { low_s: true },
        Scheme::Ecdsa { low_s: false },
        Scheme::Schnorr,
    ] {
        for batch in [1, 40] {
            all_agree(Case::Verify { scheme, batch });
        }
    }
}
