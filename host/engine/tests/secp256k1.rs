//! secp256k1 ECDSA and BIP340 verdicts: Wycheproof (plain and Bitcoin low-S schemas), the
//! BIP340 reference vectors, high-S under each setting, r = 0, s = 0, r = n, malformed items,
//! and batches equal to single verification.

use offload_engine::sig::secp256k1::{
    verify_ecdsa, verify_ecdsa_batch, verify_schnorr, verify_schnorr_batch,
    verify_schnorr_batch_with, EcdsaConfig, EcdsaItem, Encoding, SchnorrItem, SchnorrMethod,
};
use offload_engine::sig::{Field, Malformed, Verdict};
use rand::{Rng, SeedableRng};
use secp256k1::{ecdsa, Message, PublicKey, SecretKey};
use sha2::{Digest, Sha256};

const N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

fn wycheproof(name: wycheproof::ecdsa::TestName, low_s: bool) -> usize {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let cfg = EcdsaConfig {
        encoding: Encoding::Der,
        low_s,
    };
    let mut checked = 0;
    for g in &set.test_groups {
        let digests: Vec<[u8; 32]> = g
            .tests
            .iter()
            .map(|t| Sha256::digest(&t.msg[..]).into())
            .collect();
        let items: Vec<EcdsaItem> = g
            .tests
            .iter()
            .zip(&digests)
            .map(|(t, d)| EcdsaItem {
                public_key: &g.key.key,
                signature: &t.sig,
                digest: d,
            })
            .collect();
        let batch = verify_ecdsa_batch(cfg, &items);
        for ((t, it), b) in g.tests.iter().zip(&items).zip(&batch) {
            let single = verify_ecdsa(cfg, it);
            assert_eq!(*b, single, "tc {}", t.tc_id);
            match t.result {
                wycheproof::TestResult::Valid => assert!(
                    single.is_valid(),
                    "tc {} {}: {single:?}",
                    t.tc_id,
                    t.comment
                ),
                wycheproof::TestResult::Invalid => {
                    assert!(!single.is_valid(), "tc {} {}", t.tc_id, t.comment)
                }
                wycheproof::TestResult::Acceptable => continue,
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn wycheproof_ecdsa_secp256k1_sha256() {
    assert!(wycheproof(wycheproof::ecdsa::TestName::EcdsaSecp256k1Sha256, false) > 300);
}

#[test]
fn wycheproof_ecdsa_secp256k1_bitcoin_low_s() {
    assert!(
        wycheproof(
            wycheproof::ecdsa::TestName::EcdsaSecp256k1Sha256Bitcoin,
            true
        ) > 300
    );
}

fn keyed(seed: u64) -> (SecretKey, PublicKey, [u8; 32]) {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let sk = SecretKey::from_secret_bytes(r.gen()).unwrap();
    (sk, PublicKey::from_secret_key(&sk), r.gen())
}

#[test]
fn high_s_zero_and_overflowing_scalars() {
    let (sk, pk, digest) = keyed(1);
    let sig = ecdsa::sign(Message::from_digest(digest), &sk).serialize_compact();
    // (r, n − s): the same signature with high S.
    let n = hex::decode(N).unwrap();
    let mut high = sig;
    let mut borrow = 0i32;
    for i in (0..32).rev() {
        let v = n[i] as i32 - sig[32 + i] as i32 - borrow;
        high[32 + i] = v.rem_euclid(256) as u8;
        borrow = (v < 0) as i32;
    }
    let pkc = pk.serialize();
    let pku = pk.serialize_uncompressed();
    for key in [&pkc[..], &pku[..]] {
        fn item<'a>(key: &'a [u8], s: &'a [u8], digest: &'a [u8]) -> EcdsaItem<'a> {
            EcdsaItem {
                public_key: key,
                signature: s,
                digest,
            }
        }
        for low_s in [false, true] {
            let cfg = EcdsaConfig {
                encoding: Encoding::Compact,
                low_s,
            };
            assert_eq!(verify_ecdsa(cfg, &item(key, &sig, &digest)), Verdict::Valid);
            let expect_high = if low_s {
                Verdict::Malformed(Malformed::NonCanonical { field: Field::S })
            } else {
                Verdict::Valid
            };
            assert_eq!(
                verify_ecdsa(cfg, &item(key, &high, &digest)),
                expect_high,
                "low_s={low_s}"
            );
            let mut r0 = sig;
            r0[..32].fill(0);
            let mut s0 = sig;
            s0[32..].fill(0);
            assert_eq!(
                verify_ecdsa(cfg, &item(key, &r0, &digest)),
                Verdict::Invalid
            );
            assert_eq!(
                verify_ecdsa(cfg, &item(key, &s0, &digest)),
                Verdict::Invalid
            );
            let mut rn = sig;
            rn[..32].copy_from_slice(&n);
            assert_eq!(
                verify_ecdsa(cfg, &item(key, &rn, &digest)),
                Verdict::Malformed(Malformed::ScalarOutOfRange {
                    field: Field::Signature
                })
            );
            // DER of the same signature.
            let der = ecdsa::Signature::from_compact(&sig)
                .unwrap()
                .serialize_der();
            let dcfg = EcdsaConfig {
                encoding: Encoding::Der,
                low_s,
            };
            assert_eq!(
                verify_ecdsa(dcfg, &item(key, &der, &digest)),
                Verdict::Valid
            );
            assert_eq!(
                verify_ecdsa(dcfg, &item(key, &der[..der.len() - 1], &digest)),
                Verdict::Malformed(Malformed::BadEncoding {
                    field: Field::Signature
                })
            );
        }
    }
}

#[test]
fn ecdsa_batches_name_the_bad_items() {
    let mut owned = Vec::new();
    for i in 0..300u64 {
        let (sk, pk, digest) = keyed(100 + i);
        let sig = ecdsa::sign(Message::from_digest(digest), &sk).serialize_compact();
        owned.push((pk.serialize().to_vec(), sig.to_vec(), digest.to_vec()));
    }
    owned[5].2[0] ^= 1; // wrong digest
    owned[77].1[10] ^= 1; // r changed
    owned[150].0 = vec![2u8; 33]; // a key not on the curve? x = 0x0202…: whatever it is, single decides
    owned[200].1.truncate(63);
    owned[250].2.push(0);
    let items: Vec<EcdsaItem> = owned
        .iter()
        .map(|(k, s, d)| EcdsaItem {
            public_key: k,
            signature: s,
            digest: d,
        })
        .collect();
    let cfg = EcdsaConfig {
        encoding: Encoding::Compact,
        low_s: true,
    };
    let v = verify_ecdsa_batch(cfg, &items);
    assert_eq!(
        v[200],
        Verdict::Malformed(Malformed::BadLength {
            field: Field::Signature,
            expected: 64,
            got: 63
        })
    );
    assert_eq!(
        v[250],
        Verdict::Malformed(Malformed::BadLength {
            field: Field::Message,
            expected: 32,
            got: 33
        })
    );
    for (i, verdict) in v.iter().enumerate() {
        assert_eq!(*verdict, verify_ecdsa(cfg, &items[i]));
        assert_eq!(
            verdict.is_valid(),
            ![5, 77, 150, 200, 250].contains(&i),
            "item {i}: {verdict:?}"
        );
    }
    assert!(verify_ecdsa_batch(cfg, &[]).is_empty());
}

/// Public key, message, signature, expected result.
type Bip340Row = (Vec<u8>, Vec<u8>, Vec<u8>, bool);

#[test]
fn bip340_reference_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/bip340-test-vectors.csv"
    ))
    .expect("../shared/vectors/bip340-test-vectors.csv beside the repository");
    let rows: Vec<Bip340Row> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                hex::decode(f[2]).unwrap(),
                hex::decode(f[4]).unwrap(),
                hex::decode(f[5]).unwrap(),
                f[6] == "TRUE",
            )
        })
        .collect();
    assert!(rows.len() >= 19, "{} vectors", rows.len());
    // Vector 0's signature starts E907 (the current version of the vectors).
    assert_eq!(&rows[0].2[..2], &[0xe9, 0x07]);
    let items: Vec<SchnorrItem> = rows
        .iter()
        .map(|(pk, msg, sig, _)| SchnorrItem {
            public_key: pk,
            signature: sig,
            message: msg,
        })
        .collect();
    let batch = verify_schnorr_batch(&items);
    for (i, ((_, _, _, expect), it)) in rows.iter().zip(&items).enumerate() {
        let single = verify_schnorr(it);
        assert_eq!(single.is_valid(), *expect, "BIP340 vector {i}: {single:?}");
        assert_eq!(batch[i], single);
    }
    // The same vectors inside a batch large enough for the equation, under every method: the
    // invalid ones (odd R, wrong key, r = p, s = n, ...) must be named, the valid ones kept.
    let owned = signed_schnorr(40, 7);
    let mut mixed: Vec<SchnorrItem> = as_items(&owned);
    for (k, it) in items.iter().enumerate() {
        mixed.insert(2 * k + 1, *it);
    }
    let singles: Vec<Verdict> = mixed.iter().map(verify_schnorr).collect();
    for method in METHODS {
        assert_eq!(
            verify_schnorr_batch_with(&mixed, method),
            singles,
            "{method:?}"
        );
    }
    // Not on the curve, and wrong lengths, are named.
    let mut bad_key = rows[0].0.clone();
    bad_key[31] ^= 0x01;
    let v = verify_schnorr(&SchnorrItem {
        public_key: &rows[0].0[..31],
        signature: &rows[0].2,
        message: &rows[0].1,
    });
    assert_eq!(
        v,
        Verdict::Malformed(Malformed::BadLength {
            field: Field::PublicKey,
            expected: 32,
            got: 31
        })
    );
    let v = verify_schnorr(&SchnorrItem {
        public_key: &bad_key,
        signature: &rows[0].2,
        message: &rows[0].1,
    });
    assert!(!v.is_valid());
}

const METHODS: [SchnorrMethod; 4] = [
    SchnorrMethod::Auto,
    SchnorrMethod::Singles,
    SchnorrMethod::Equation { min_chunk: 1 },
    SchnorrMethod::Equation { min_chunk: 4096 },
];

/// Public key, signature, message of `n` BIP340 signatures by distinct keys, messages of
/// varying length.
fn signed_schnorr(n: u64, seed: u64) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let (sk, _, _) = keyed(seed * 10_000 + i);
            let keypair = secp256k1::Keypair::from_secret_key(&sk);
            let msg: Vec<u8> = (0..rng.gen_range(0..100)).map(|_| rng.gen()).collect();
            let sig = secp256k1::schnorr::sign_with_aux_rand(&msg, &keypair, &rng.gen());
            let pk = keypair.x_only_public_key().0.to_byte_array();
            (pk.to_vec(), sig.to_byte_array().to_vec(), msg)
        })
        .collect()
}

fn as_items(owned: &[(Vec<u8>, Vec<u8>, Vec<u8>)]) -> Vec<SchnorrItem<'_>> {
    owned
        .iter()
        .map(|(pk, sig, msg)| SchnorrItem {
            public_key: pk,
            signature: sig,
            message: msg,
        })
        .collect()
}

#[test]
fn bip340_batches_name_exactly_the_bad_items() {
    let mut owned = signed_schnorr(1000, 3);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
    for bad in [1usize, 2, 17] {
        let mut positions: Vec<usize> = Vec::new();
        while positions.len() < bad {
            let p = rng.gen_range(0..owned.len());
            if !positions.contains(&p) {
                positions.push(p);
            }
        }
        let mut batch = owned.clone();
        for (k, &p) in positions.iter().enumerate() {
            match k % 3 {
                0 => batch[p].2.push(1),                                  // another message
                1 => batch[p].1[40] ^= 0x10,                              // s changed
                _ => batch[p].0 = owned[(p + 1) % owned.len()].0.clone(), // another key
            }
        }
        let items = as_items(&batch);
        for method in METHODS {
            let v = verify_schnorr_batch_with(&items, method);
            let named: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_valid()).collect();
            let mut expect = positions.clone();
            expect.sort();
            assert_eq!(named, expect, "{bad} bad, {method:?}");
            assert!(named.iter().all(|&i| v[i] == Verdict::Invalid));
        }
    }
    // Errors that cancel when every coefficient is 1: s + 1 on one item and s − 1 on another.
    use ark_ff::{BigInteger, PrimeField};
    let shift = |sig: &mut Vec<u8>, up: bool| {
        let s = ark_secp256k1::Fr::from_be_bytes_mod_order(&sig[32..]);
        let s = if up {
            s + ark_secp256k1::Fr::from(1u64)
        } else {
            s - ark_secp256k1::Fr::from(1u64)
        };
        sig[32..].copy_from_slice(&s.into_bigint().to_bytes_be());
    };
    shift(&mut owned[10].1, true);
    shift(&mut owned[600].1, false);
    let items = as_items(&owned);
    for method in METHODS {
        let v = verify_schnorr_batch_with(&items, method);
        let named: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_valid()).collect();
        assert_eq!(named, vec![10, 600], "{method:?}");
    }
}

#[test]
fn bip340_batch_edges() {
    for method in METHODS {
        assert!(verify_schnorr_batch_with(&[], method).is_empty());
    }
    let mut owned = signed_schnorr(300, 5);
    let one = as_items(&owned[..1]);
    for method in METHODS {
        assert_eq!(
            verify_schnorr_batch_with(&one, method),
            vec![Verdict::Valid]
        );
    }
    // Malformed and undecodable items among good ones each get their single verdict.
    owned[3].0.truncate(31);
    owned[50].1.push(0);
    owned[51].0 = vec![0xff; 32]; // x ≥ p: not a key
    owned[52].1[..32].copy_from_slice(&[0xff; 32]); // r ≥ p
    owned[53].1[32..].copy_from_slice(&hex::decode(N).unwrap()); // s = n
    owned[54].1[..32].fill(0); // r = 0: not an x coordinate
    let items = as_items(&owned);
    let singles: Vec<Verdict> = items.iter().map(verify_schnorr).collect();
    assert_eq!(
        singles[3],
        Verdict::Malformed(Malformed::BadLength {
            field: Field::PublicKey,
            expected: 32,
            got: 31
        })
    );
    assert!(matches!(
        singles[50],
        Verdict::Malformed(Malformed::BadLength { .. })
    ));
    assert_eq!(
        singles[51],
        Verdict::Malformed(Malformed::NotOnCurve {
            field: Field::PublicKey
        })
    );
    assert_eq!(singles[52..=54], [Verdict::Invalid; 3]);
    for method in METHODS {
        let v = verify_schnorr_batch_with(&items, method);
        assert_eq!(v, singles, "{method:?}");
        assert_eq!(v.iter().filter(|v| v.is_valid()).count(), 294);
    }
}
