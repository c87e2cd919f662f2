//! Ed25519 verdicts against the references of each policy (ed25519-zebra for ZIP-215,
//! ed25519-dalek `verify_strict` and `verify`), on the CCTV edge-case vectors, Wycheproof,
//! RFC 8032, the ZIP-215 small-order grid, and batches with bad items at random positions.

use curve25519_dalek::constants::EIGHT_TORSION;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use offload_engine::sig::ed25519::{
    verify, verify_batch, verify_batch_with, Fallback, Item, Policy,
};
use offload_engine::sig::{Field, Malformed, Verdict};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Owned {
    pk: Vec<u8>,
    sig: Vec<u8>,
    msg: Vec<u8>,
}

impl Owned {
    fn item(&self) -> Item<'_> {
        Item {
            public_key: &self.pk,
            signature: &self.sig,
            message: &self.msg,
        }
    }
}

fn items(v: &[Owned]) -> Vec<Item<'_>> {
    v.iter().map(Owned::item).collect()
}

/// What the reference library of each policy says.
fn reference(policy: Policy, o: &Owned) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(&o.pk[..]),
        <[u8; 64]>::try_from(&o.sig[..]),
    ) else {
        return false;
    };
    match policy {
        Policy::Zip215 => {
            let Ok(vk) = ed25519_zebra::VerificationKey::try_from(pk) else {
                return false;
            };
            vk.verify(&ed25519_zebra::Signature::from(sig), &o.msg)
                .is_ok()
        }
        Policy::Strict | Policy::Rfc8032 => {
            let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
                return false;
            };
            let s = ed25519_dalek::Signature::from_bytes(&sig);
            if policy == Policy::Strict {
                vk.verify_strict(&o.msg, &s).is_ok()
            } else {
                vk.verify(&o.msg, &s).is_ok()
            }
        }
    }
}

fn cctv() -> Vec<(Owned, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/cctv-ed25519vectors.json"
    ))
    .expect("../shared/vectors/cctv-ed25519vectors.json beside the repository");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let flags = t["flags"]
                .as_array()
                .map(|f| f.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                Owned {
                    pk: hex::decode(t["key"].as_str().unwrap()).unwrap(),
                    sig: hex::decode(t["sig"].as_str().unwrap()).unwrap(),
                    msg: t["msg"].as_str().unwrap().as_bytes().to_vec(),
                },
                flags,
            )
        })
        .collect()
}

/// Expected outcomes from the flags, per ../shared/README.md, with one correction: the
/// `reencoded_k` vectors compute k over the canonical re-encoding of a non-canonical A or R,
/// while ZIP-215 hashes the encodings as given, so under ZIP-215 they verify only where k does
/// not matter (a small-order A). For those the flags decide nothing (`None`) and the check is
/// against ed25519-zebra, Zcash's consensus implementation, alone.
fn cctv_expected(policy: Policy, flags: &[String]) -> Option<bool> {
    let has = |f: &str| flags.iter().any(|x| x == f);
    match policy {
        Policy::Zip215 => (!has("reencoded_k")).then_some(true),
        Policy::Rfc8032 => Some(!has("non_canonical_R") && !has("low_order_residue")),
        Policy::Strict => Some(
            flags
                .iter()
                .all(|f| f == "low_order_component_A" || f == "low_order_component_R"),
        ),
    }
}

#[test]
fn cctv_vectors_under_each_policy_single_and_batch() {
    let vectors = cctv();
    assert_eq!(vectors.len(), 914);
    let owned: Vec<Owned> = vectors
        .iter()
        .map(|(o, _)| Owned {
            pk: o.pk.clone(),
            sig: o.sig.clone(),
            msg: o.msg.clone(),
        })
        .collect();
    for policy in Policy::ALL {
        let batch = verify_batch(policy, &items(&owned));
        let mut accepted = 0;
        for (i, (o, flags)) in vectors.iter().enumerate() {
            let single = verify(policy, &o.item());
            if let Some(expect) = cctv_expected(policy, flags) {
                assert_eq!(
                    single.is_valid(),
                    expect,
                    "{policy:?} vector {i} flags {flags:?}: {single:?}"
                );
            }
            assert_eq!(
                single.is_valid(),
                reference(policy, o),
                "{policy:?} vector {i} vs reference"
            );
            assert_eq!(
                batch[i], single,
                "{policy:?} vector {i}: batch differs from single"
            );
            accepted += single.is_valid() as usize;
        }
        eprintln!("{policy:?}: {accepted} of 914 accepted");
    }
}

/// Every encoding of a small-order point that decodes: canonical ones, "negative zero" x, and
/// y + p where that stays below 2^255.
fn small_order_encodings() -> Vec<[u8; 32]> {
    let p_plus = |y: u8| -> [u8; 32] {
        // p = 2^255 − 19: y + p in little-endian is (y − 19) mod 256 … with the top byte 0x7f.
        let mut b = [0xffu8; 32];
        b[0] = 0xed_u8.wrapping_add(y);
        b[31] = 0x7f;
        b
    };
    let mut out: Vec<[u8; 32]> = Vec::new();
    let mut push = |b: [u8; 32]| {
        let ok = curve25519_dalek::edwards::CompressedEdwardsY(b)
            .decompress()
            .is_some_and(|p| p.is_small_order());
        if ok && !out.contains(&b) {
            out.push(b);
        }
    };
    for t in EIGHT_TORSION.iter() {
        let c = t.compress().0;
        push(c);
        let mut neg = c;
        neg[31] |= 0x80;
        push(neg);
    }
    for y in [0u8, 1] {
        let b = p_plus(y);
        push(b);
        let mut s = b;
        s[31] |= 0x80;
        push(s);
    }
    out
}

#[test]
fn zip215_small_order_grid() {
    let enc = small_order_encodings();
    assert_eq!(enc.len(), 14, "the 14 small-order encodings");
    let mut grid = Vec::new();
    for a in &enc {
        for r in &enc {
            let mut sig = r.to_vec();
            sig.extend([0u8; 32]);
            grid.push(Owned {
                pk: a.to_vec(),
                sig,
                msg: b"Zcash".to_vec(),
            });
        }
    }
    assert_eq!(grid.len(), 196);
    let zip = verify_batch(Policy::Zip215, &items(&grid));
    let strict = verify_batch(Policy::Strict, &items(&grid));
    for (i, o) in grid.iter().enumerate() {
        assert_eq!(
            verify(Policy::Zip215, &o.item()),
            Verdict::Valid,
            "zip215 grid {i}"
        );
        assert_eq!(zip[i], Verdict::Valid);
        assert!(reference(Policy::Zip215, o));
        assert!(
            !verify(Policy::Strict, &o.item()).is_valid(),
            "strict grid {i}"
        );
        assert_eq!(strict[i], verify(Policy::Strict, &o.item()));
        assert!(!reference(Policy::Strict, o));
    }
}

fn signed(n: usize, seed: u64) -> Vec<Owned> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let keys: Vec<SigningKey> = (0..16).map(|_| SigningKey::generate(&mut r)).collect();
    (0..n)
        .map(|i| {
            let k = &keys[i % keys.len()];
            let len = r.gen_range(0..200);
            let msg: Vec<u8> = (0..len).map(|_| r.gen()).collect();
            Owned {
                pk: k.verifying_key().to_bytes().to_vec(),
                sig: k.sign(&msg).to_bytes().to_vec(),
                msg,
            }
        })
        .collect()
}

#[test]
fn batches_name_exactly_the_bad_items() {
    let mut r = ChaCha20Rng::seed_from_u64(5);
    for bad_count in [1usize, 2, 17] {
        let mut batch = signed(1000, 100 + bad_count as u64);
        let mut idx: Vec<usize> = (0..1000).collect();
        idx.shuffle(&mut r);
        let bad: Vec<usize> = idx[..bad_count].to_vec();
        for (j, &i) in bad.iter().enumerate() {
            match j % 3 {
                0 => batch[i].msg.push(1),     // wrong message
                1 => batch[i].sig[5] ^= 0x40,  // R changed
                _ => batch[i].sig[40] ^= 0x01, // S changed
            }
        }
        for policy in Policy::ALL {
            let v = verify_batch(policy, &items(&batch));
            assert_eq!(
                v,
                verify_batch_with(policy, &items(&batch), Fallback::PerItem)
            );
            for (i, verdict) in v.iter().enumerate() {
                let expect_bad = bad.contains(&i);
                assert_eq!(
                    !verdict.is_valid(),
                    expect_bad,
                    "{policy:?} {bad_count} bad: item {i} {verdict:?}"
                );
                assert_eq!(*verdict, verify(policy, &batch[i].item()));
            }
        }
    }
}

#[test]
fn empty_single_and_malformed_items() {
    for policy in Policy::ALL {
        assert!(verify_batch(policy, &[]).is_empty());
        let one = signed(1, 7);
        assert_eq!(verify_batch(policy, &items(&one)), vec![Verdict::Valid]);
    }
    let mut batch = signed(40, 8);
    batch[3].pk.pop();
    batch[7].sig.push(0);
    // An R that decodes to no point: y = 2 has no x on the curve.
    let mut no_point = [0u8; 32];
    no_point[0] = 2;
    batch[11].sig[..32].copy_from_slice(&no_point);
    batch[12].pk = no_point.to_vec();
    // S = ℓ.
    let ell =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").unwrap();
    batch[20].sig[32..].copy_from_slice(&ell);
    // A non-canonical R (y = p + 1 encodes the identity): strict and rfc8032 call it malformed.
    let mut noncanon = [0xffu8; 32];
    noncanon[0] = 0xee;
    noncanon[31] = 0x7f;
    batch[25].sig[..32].copy_from_slice(&noncanon);
    for policy in Policy::ALL {
        let v = verify_batch(policy, &items(&batch));
        assert_eq!(
            v[3],
            Verdict::Malformed(Malformed::BadLength {
                field: Field::PublicKey,
                expected: 32,
                got: 31
            })
        );
        assert_eq!(
            v[7],
            Verdict::Malformed(Malformed::BadLength {
                field: Field::Signature,
                expected: 64,
                got: 65
            })
        );
        // rfc8032 compares R as bytes and never decodes it, as dalek does.
        let r_off_curve = if policy == Policy::Rfc8032 {
            Verdict::Invalid
        } else {
            Verdict::Malformed(Malformed::NotOnCurve { field: Field::R })
        };
        assert_eq!(v[11], r_off_curve);
        assert_eq!(
            v[12],
            Verdict::Malformed(Malformed::NotOnCurve {
                field: Field::PublicKey
            })
        );
        assert_eq!(
            v[20],
            Verdict::Malformed(Malformed::ScalarOutOfRange { field: Field::S })
        );
        if policy == Policy::Zip215 {
            assert_eq!(v[25], Verdict::Invalid);
        } else {
            assert_eq!(
                v[25],
                Verdict::Malformed(Malformed::NonCanonical { field: Field::R })
            );
        }
        for (i, verdict) in v.iter().enumerate() {
            if ![3, 7, 11, 12, 20, 25].contains(&i) {
                assert_eq!(*verdict, Verdict::Valid, "{policy:?} item {i}");
            }
            assert_eq!(*verdict, verify(policy, &batch[i].item()));
            assert_eq!(
                verdict.is_valid(),
                reference(policy, &batch[i]),
                "{policy:?} item {i} vs reference"
            );
        }
    }
}

#[test]
fn wycheproof_ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut n = 0;
    for group in &set.test_groups {
        let tests: Vec<Owned> = group
            .tests
            .iter()
            .map(|t| Owned {
                pk: group.key.pk.to_vec(),
                sig: t.sig.to_vec(),
                msg: t.msg.to_vec(),
            })
            .collect();
        for policy in Policy::ALL {
            let batch = verify_batch(policy, &items(&tests));
            for (t, (o, b)) in group.tests.iter().zip(tests.iter().zip(&batch)) {
                let single = verify(policy, &o.item());
                assert_eq!(*b, single, "tc {} {policy:?}", t.tc_id);
                assert_eq!(
                    single.is_valid(),
                    reference(policy, o),
                    "tc {} {policy:?} vs reference",
                    t.tc_id
                );
                // Every policy agrees with Wycheproof's verdicts on its Ed25519 set.
                let expect = t.result == wycheproof::TestResult::Valid;
                assert_eq!(
                    single.is_valid(),
                    expect,
                    "tc {} {policy:?}: {}",
                    t.tc_id,
                    t.comment
                );
                n += 1;
            }
        }
    }
    assert!(n > 400, "{n} checks");
}

#[test]
fn rfc8032_section_7_1() {
    // TEST 1, 2 and 3 of RFC 8032 section 7.1 (public key, message, signature).
    let cases = [
        ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ];
    let batch: Vec<Owned> = cases
        .iter()
        .map(|(pk, m, s)| Owned {
            pk: hex::decode(pk).unwrap(),
            sig: hex::decode(s).unwrap(),
            msg: hex::decode(m).unwrap(),
        })
        .collect();
    for policy in Policy::ALL {
        assert_eq!(
            verify_batch(policy, &items(&batch)),
            vec![Verdict::Valid; 3],
            "{policy:?}"
        );
    }
}
