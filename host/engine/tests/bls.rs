//! BLS12-381 (Ethereum min-pk, POP ciphersuite) verdicts: single, aggregate, fast aggregate
//! and the eth_ empty-set rule, batches with bad items, the infinity signature and key, a G2
//! point outside the subgroup, and flipped compression flags.

use ark_ff::UniformRand;
use ark_serialize::CanonicalSerialize;
use blst::min_pk::{AggregateSignature, SecretKey};
use offload_engine::sig::bls::{
    aggregate_verify, eth_fast_aggregate_verify, fast_aggregate_verify, verify, verify_batch,
    verify_batch_cached, Item, DST, G2_INFINITY,
};
use offload_engine::sig::keys::Keys;
use offload_engine::sig::{Field, Malformed, Verdict};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Owned {
    pk: Vec<u8>,
    sig: Vec<u8>,
    msg: Vec<u8>,
}

fn keys(n: usize, seed: u64) -> Vec<SecretKey> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let ikm: [u8; 32] = r.gen();
            SecretKey::key_gen(&ikm, &[]).unwrap()
        })
        .collect()
}

fn signed(n: usize, seed: u64) -> Vec<Owned> {
    keys(n, seed)
        .iter()
        .enumerate()
        .map(|(i, sk)| {
            let msg = format!("message {i} of batch {seed}").into_bytes();
            Owned {
                pk: sk.sk_to_pk().compress().to_vec(),
                sig: sk.sign(&msg, DST, &[]).compress().to_vec(),
                msg,
            }
        })
        .collect()
}

fn items(v: &[Owned]) -> Vec<Item<'_>> {
    v.iter()
        .map(|o| Item {
            public_key: &o.pk,
            signature: &o.sig,
            message: &o.msg,
        })
        .collect()
}

#[test]
fn batches_name_exactly_the_bad_items() {
    let mut r = ChaCha20Rng::seed_from_u64(9);
    for bad_count in [0usize, 1, 2, 17] {
        let mut batch = signed(96, 10 + bad_count as u64);
        let mut idx: Vec<usize> = (0..batch.len()).collect();
        idx.shuffle(&mut r);
        for &i in &idx[..bad_count] {
            batch[i].msg.push(b'!');
        }
        let v = verify_batch(&items(&batch));
        for (i, verdict) in v.iter().enumerate() {
            assert_eq!(
                verdict.is_valid(),
                !idx[..bad_count].contains(&i),
                "{bad_count} bad, item {i}"
            );
            let it = &items(&batch)[i];
            assert_eq!(*verdict, verify(it));
        }
    }
    assert!(verify_batch(&[]).is_empty());
    let one = signed(1, 3);
    assert_eq!(verify_batch(&items(&one)), vec![Verdict::Valid]);
}

/// A point on the G2 curve outside the prime-order subgroup, compressed (zcash encoding).
fn g2_outside_subgroup() -> Vec<u8> {
    let mut r = ChaCha20Rng::seed_from_u64(4);
    loop {
        let x = ark_bls12_381::Fq2::rand(&mut r);
        if let Some(p) = ark_bls12_381::G2Affine::get_point_from_x_unchecked(x, true) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                let mut out = Vec::new();
                p.serialize_compressed(&mut out).unwrap();
                return out;
            }
        }
    }
}

#[test]
fn malformed_points_and_flags() {
    let good = signed(4, 5);
    let g = &good[0];
    // The infinity signature parses (it is in the group) and verifies nothing.
    let inf = Item {
        public_key: &g.pk,
        signature: &G2_INFINITY,
        message: &g.msg,
    };
    assert_eq!(verify(&inf), Verdict::Invalid);
    // The infinity key fails KeyValidate.
    let mut inf_pk = vec![0u8; 48];
    inf_pk[0] = 0xc0;
    let v = verify(&Item {
        public_key: &inf_pk,
        signature: &g.sig,
        message: &g.msg,
    });
    assert_eq!(
        v,
        Verdict::Malformed(Malformed::Identity {
            field: Field::PublicKey
        })
    );
    // A G2 point outside the subgroup.
    let outside = g2_outside_subgroup();
    let v = verify(&Item {
        public_key: &g.pk,
        signature: &outside,
        message: &g.msg,
    });
    assert_eq!(
        v,
        Verdict::Malformed(Malformed::NotInSubgroup {
            field: Field::Signature
        })
    );
    // Compression flag cleared: the bytes now claim an uncompressed point of the wrong length.
    let mut flag = g.sig.clone();
    flag[0] &= 0x7f;
    assert!(matches!(
        verify(&Item {
            public_key: &g.pk,
            signature: &flag,
            message: &g.msg
        }),
        Verdict::Malformed(Malformed::BadEncoding {
            field: Field::Signature
        })
    ));
    // Sign flag flipped: −σ, a valid point that does not verify.
    let mut neg = g.sig.clone();
    neg[0] ^= 0x20;
    assert_eq!(
        verify(&Item {
            public_key: &g.pk,
            signature: &neg,
            message: &g.msg
        }),
        Verdict::Invalid
    );
    // Infinity flag set on a nonzero key: a bad encoding.
    let mut bad_inf = g.pk.clone();
    bad_inf[0] |= 0x40;
    assert!(!verify(&Item {
        public_key: &bad_inf,
        signature: &g.sig,
        message: &g.msg
    })
    .is_valid());
    // Lengths.
    let v = verify(&Item {
        public_key: &g.pk[..47],
        signature: &g.sig,
        message: &g.msg,
    });
    assert_eq!(
        v,
        Verdict::Malformed(Malformed::BadLength {
            field: Field::PublicKey,
            expected: 48,
            got: 47
        })
    );
    // A batch mixing all of these with good items: each verdict equals single verification.
    let mut mixed = signed(12, 6);
    mixed[1].sig = G2_INFINITY.to_vec();
    mixed[3].pk = inf_pk.clone();
    mixed[5].sig = outside.clone();
    mixed[7].sig = flag.clone();
    mixed[9].sig = neg.clone();
    let its = items(&mixed);
    let v = verify_batch(&its);
    for (i, verdict) in v.iter().enumerate() {
        assert_eq!(*verdict, verify(&its[i]), "item {i}");
        assert_eq!(
            verdict.is_valid(),
            ![1, 3, 5, 7, 9].contains(&i),
            "item {i}"
        );
    }
    // Through a key cache: the same verdicts on first sight, from the cache, and with keys
    // repeated across items (the infinity key, a bad key, cached as malformed too).
    let keys = Keys::new(64);
    let mut again = signed(12, 6);
    again.extend(signed(12, 6));
    again[1].sig = G2_INFINITY.to_vec();
    again[3].pk = inf_pk.clone();
    again[15].pk = inf_pk.clone();
    again[20].msg.push(b'!');
    let its2 = items(&again);
    let want: Vec<Verdict> = its2.iter().map(verify).collect();
    for round in 0..3 {
        assert_eq!(verify_batch_cached(&its2, &keys), want, "round {round}");
        assert_eq!(verify_batch_cached(&its, &keys), v, "round {round}");
    }
    // The 11 good keys left (key 3 is the infinity key in both copies) and the infinity key.
    assert_eq!(keys.bls.len(), 12);
}

#[test]
fn aggregate_and_eth_rules() {
    let sks = keys(3, 7);
    let pks: Vec<Vec<u8>> = sks
        .iter()
        .map(|k| k.sk_to_pk().compress().to_vec())
        .collect();
    let pk_refs: Vec<&[u8]> = pks.iter().map(|p| p.as_slice()).collect();
    // FastAggregateVerify: one message, every key signs it.
    let msg = b"attestation";
    let sigs: Vec<_> = sks.iter().map(|k| k.sign(msg, DST, &[])).collect();
    let agg = AggregateSignature::aggregate(&sigs.iter().collect::<Vec<_>>(), true).unwrap();
    let agg = agg.to_signature().compress();
    assert_eq!(fast_aggregate_verify(&pk_refs, msg, &agg), Verdict::Valid);
    assert_eq!(
        fast_aggregate_verify(&pk_refs[..2], msg, &agg),
        Verdict::Invalid
    );
    assert_eq!(
        eth_fast_aggregate_verify(&pk_refs, msg, &agg),
        Verdict::Valid
    );
    // Empty key sets: FastAggregateVerify says no; the eth_ variant accepts only infinity.
    assert_eq!(
        fast_aggregate_verify(&[], msg, &G2_INFINITY),
        Verdict::Invalid
    );
    assert_eq!(
        eth_fast_aggregate_verify(&[], msg, &G2_INFINITY),
        Verdict::Valid
    );
    assert_eq!(eth_fast_aggregate_verify(&[], msg, &agg), Verdict::Invalid);
    // AggregateVerify: distinct messages, and a repeated one (allowed under POP).
    let msgs: [&[u8]; 3] = [b"a", b"b", b"a"];
    let sigs: Vec<_> = sks
        .iter()
        .zip(msgs)
        .map(|(k, m)| k.sign(m, DST, &[]))
        .collect();
    let agg = AggregateSignature::aggregate(&sigs.iter().collect::<Vec<_>>(), true).unwrap();
    let agg = agg.to_signature().compress();
    assert_eq!(aggregate_verify(&pk_refs, &msgs, &agg), Verdict::Valid);
    assert_eq!(
        aggregate_verify(&pk_refs, &[b"a", b"b", b"c"], &agg),
        Verdict::Invalid
    );
    assert_eq!(aggregate_verify(&[], &[], &agg), Verdict::Invalid);
    let mut inf_pk = vec![0u8; 48];
    inf_pk[0] = 0xc0;
    assert_eq!(
        fast_aggregate_verify(&[pk_refs[0], &inf_pk], msg, &agg),
        Verdict::Malformed(Malformed::Identity {
            field: Field::PublicKey
        })
    );
}

#[test]
fn wycheproof_ng_pop_verify() {
    use wycheproof_ng_bls::{TestName, TestSet};
    let set = TestSet::load(TestName::BlsSigG2PopVerify).unwrap();
    let mut n = 0;
    for g in &set.test_groups {
        assert_eq!(
            g.ciphersuite.as_deref(),
            Some("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_")
        );
        let pk = hex::decode(g.public_key.as_ref().unwrap()["pk"].as_str().unwrap()).unwrap();
        for t in &g.tests {
            let msg: &[u8] = t.msg.as_deref().map(|m| &m[..]).unwrap_or(&[]);
            let sig: &[u8] = t.sig.as_deref().map(|s| &s[..]).unwrap_or(&[]);
            let item = Item {
                public_key: &pk,
                signature: sig,
                message: msg,
            };
            let v = verify(&item);
            // The result enum lives in wycheproof-ng-core; its Debug name is enough here.
            let expect = format!("{:?}", t.result) == "Valid";
            assert_eq!(v.is_valid(), expect, "tc {} {}: {v:?}", t.tc_id, t.comment);
            assert_eq!(verify_batch(&[item]), vec![v]);
            n += 1;
        }
    }
    assert!(n >= 20, "{n} vectors");
}
