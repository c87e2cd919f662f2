//! The Ed25519 verification plan run by the host executor (the kernel's own grid, compiled for
//! the host): every verdict, malformed ones included, equals the CPU engine's single
//! verification under each policy, on the CCTV edge-case vectors and on seeded batches of
//! valid, corrupted and mis-sized signatures.

use ed25519_dalek::{Signer, SigningKey};
use offload_engine::sig::ed25519::{verify, Item, Policy};
use offload_engine::sig::Verdict;
use offload_gpu::exec::{Executor, Host};
use offload_gpu::sig;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Owned {
    pk: Vec<u8>,
    sig: Vec<u8>,
    msg: Vec<u8>,
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

fn on_device(policy: Policy, items: &[Item]) -> Vec<Verdict> {
    let (mut p, slots) = sig::ed25519(policy, items).expect("plan");
    Host::default().execute(&mut p).expect("host run");
    slots.verdicts(&p).expect("every thread wrote a verdict")
}

fn assert_same(policy: Policy, v: &[Owned]) -> Vec<Verdict> {
    let its = items(v);
    let got = on_device(policy, &its);
    assert_eq!(got.len(), its.len());
    for (i, (g, it)) in got.iter().zip(&its).enumerate() {
        assert_eq!(*g, verify(policy, it), "{policy:?} item {i}");
    }
    got
}

fn cctv() -> Vec<Owned> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/cctv-ed25519vectors.json"
    ))
    .expect("../shared/vectors/cctv-ed25519vectors.json beside the repository");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v.as_array()
        .expect("an array of vectors")
        .iter()
        .map(|t| Owned {
            pk: hex::decode(t["key"].as_str().expect("key")).expect("hex"),
            sig: hex::decode(t["sig"].as_str().expect("sig")).expect("hex"),
            msg: t["msg"].as_str().expect("msg").as_bytes().to_vec(),
        })
        .collect()
}

#[test]
fn cctv_vectors_give_the_cpu_verdicts_under_every_policy() {
    let v = cctv();
    assert!(v.len() > 900);
    for policy in Policy::ALL {
        let got = assert_same(policy, &v);
        // The vectors are edge cases: each policy must accept some and reject some.
        let valid = got.iter().filter(|g| **g == Verdict::Valid).count();
        assert!(valid > 0 && valid < v.len(), "{policy:?}: {valid} valid");
    }
}

/// Valid signatures on messages of many lengths, then copies broken one way each.
fn batch(seed: u64) -> Vec<Owned> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for i in 0..48 {
        let key = SigningKey::generate(&mut rng);
        let len = [0, 1, 31, 32, 47, 48, 63, 64, 65, 111, 112, 200][i % 12] + (i / 12);
        let mut msg = vec![0u8; len];
        rng.fill_bytes(&mut msg);
        let sig = key.sign(&msg).to_bytes().to_vec();
        out.push(Owned {
            pk: key.verifying_key().to_bytes().to_vec(),
            sig,
            msg,
        });
    }
    let n = out.len();
    for i in 0..n {
        let o = &out[i];
        let (mut pk, mut sg, mut msg) = (o.pk.clone(), o.sig.clone(), o.msg.clone());
        match i % 8 {
            0 => sg[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8),
            1 => sg[32 + rng.gen_range(0..31)] ^= 1 << rng.gen_range(0..8),
            2 => pk[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8),
            3 => msg.push(0),
            // S + ℓ: the same signature with a non-canonical S.
            4 => {
                let l: [u8; 32] = [
                    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde,
                    0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                ];
                let mut c = 0u16;
                for k in 0..32 {
                    c += sg[32 + k] as u16 + l[k] as u16;
                    sg[32 + k] = c as u8;
                    c >>= 8;
                }
            }
            5 => sg.truncate(63),
            6 => pk.push(0),
            _ => sg[..32].copy_from_slice(&o.pk),
        }
        out.push(Owned { pk, sig: sg, msg });
    }
    out
}

#[test]
fn seeded_batches_give_the_cpu_verdicts_under_every_policy() {
    let v = batch(2026);
    for policy in Policy::ALL {
        let got = assert_same(policy, &v);
        assert!(got[..48].iter().all(|g| *g == Verdict::Valid), "{policy:?}");
        assert!(got[48..].iter().any(|g| matches!(g, Verdict::Malformed(_))));
        assert!(got[48..].contains(&Verdict::Invalid));
    }
}

#[test]
fn empty_batches_and_a_lone_bad_length_need_no_device_work() {
    assert!(on_device(Policy::Zip215, &[]).is_empty());
    let o = [Owned {
        pk: vec![0; 31],
        sig: vec![0; 64],
        msg: vec![],
    }];
    assert_same(Policy::Strict, &o);
}

#[test]
fn a_result_no_thread_wrote_is_an_error_not_a_verdict() {
    let v = batch(1);
    let its = items(&v[..3]);
    // Never run: the buffer still holds the fill value.
    let (p, slots) = sig::ed25519(Policy::Zip215, &its).expect("plan");
    let e = slots.verdicts(&p).expect_err("unwritten verdicts");
    assert_eq!(e.index, 0);
}
