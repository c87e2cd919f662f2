//! secp256k1 contenders: our parallel ECDSA and BIP340 verification against libsecp256k1's
//! single verify, one by one on one thread, as the library ships.

use crate::sig::Contender;
use crate::Runner;
use offload_engine::sig::secp256k1::{
    verify_ecdsa_batch, verify_schnorr_batch_with, EcdsaConfig, EcdsaItem, Encoding, SchnorrItem,
    SchnorrMethod,
};
use offload_engine::sig::Verdict;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::{ecdsa, schnorr, Keypair, Message, PublicKey, SecretKey, XOnlyPublicKey};

/// (public key, signature, message) as bytes.
pub type Inputs = Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>;

fn secret(r: &mut ChaCha20Rng) -> SecretKey {
    loop {
        if let Ok(sk) = SecretKey::from_secret_bytes(r.gen()) {
            return sk;
        }
    }
}

fn ours_ecdsa(low_s: bool) -> fn(&Inputs) -> Vec<bool> {
    fn run(v: &Inputs, low_s: bool) -> Vec<bool> {
        let items: Vec<EcdsaItem> = v
            .iter()
            .map(|(k, s, d)| EcdsaItem {
                public_key: k,
                signature: s,
                digest: d,
            })
            .collect();
        let cfg = EcdsaConfig {
            encoding: Encoding::Compact,
            low_s,
        };
        verify_ecdsa_batch(cfg, &items)
            .iter()
            .map(Verdict::is_valid)
            .collect()
    }
    if low_s {
        |v| run(v, true)
    } else {
        |v| run(v, false)
    }
}

/// libsecp256k1 as a caller uses it on bytes: parse, (normalise), verify.
fn peer_ecdsa(low_s: bool) -> fn(&Inputs) -> Vec<bool> {
    fn run(v: &Inputs, low_s: bool) -> Vec<bool> {
        v.iter()
            .map(|(k, s, d)| {
                let (Ok(pk), Ok(mut sig), Ok(d)) = (
                    PublicKey::from_slice(k),
                    ecdsa::Signature::from_compact(s),
                    <[u8; 32]>::try_from(&d[..]),
                ) else {
                    return false;
                };
                if !low_s {
                    sig.normalize_s();
                }
                ecdsa::verify(&sig, Message::from_digest(d), &pk).is_ok()
            })
            .collect()
    }
    if low_s {
        |v| run(v, true)
    } else {
        |v| run(v, false)
    }
}

pub fn ecdsa_runners(low_s: bool, batch: usize, compare: bool) -> Vec<Box<dyn Runner>> {
    let inputs = ecdsa_inputs(batch);
    let mut v: Vec<Box<dyn Runner>> =
        vec![Contender::boxed("cpu", inputs.clone(), ours_ecdsa(low_s))];
    if compare {
        v.push(Contender::boxed(
            "peer:libsecp256k1-verify",
            inputs,
            peer_ecdsa(low_s),
        ));
    }
    v
}

/// `batch` valid compact ECDSA signatures (low S, as libsecp256k1 signs) over 64 keys.
pub fn ecdsa_inputs(batch: usize) -> Inputs {
    let mut r = ChaCha20Rng::seed_from_u64(0x0ff1_0ad3 + batch as u64);
    let keys: Vec<SecretKey> = (0..64).map(|_| secret(&mut r)).collect();
    (0..batch)
        .map(|i| {
            let sk = &keys[i % keys.len()];
            let d: [u8; 32] = r.gen();
            let sig = ecdsa::sign(Message::from_digest(d), sk).serialize_compact();
            (
                PublicKey::from_secret_key(sk).serialize().to_vec(),
                sig.to_vec(),
                d.to_vec(),
            )
        })
        .collect()
}

fn ours_schnorr(v: &Inputs) -> Vec<bool> {
    schnorr_with(v, SchnorrMethod::Auto)
}

/// Our parallel single verification, to show what the batch equation adds.
fn ours_schnorr_singles(v: &Inputs) -> Vec<bool> {
    schnorr_with(v, SchnorrMethod::Singles)
}

pub fn schnorr_with(v: &Inputs, method: SchnorrMethod) -> Vec<bool> {
    let items: Vec<SchnorrItem> = v
        .iter()
        .map(|(k, s, m)| SchnorrItem {
            public_key: k,
            signature: s,
            message: m,
        })
        .collect();
    verify_schnorr_batch_with(&items, method)
        .iter()
        .map(Verdict::is_valid)
        .collect()
}

fn peer_schnorr(v: &Inputs) -> Vec<bool> {
    v.iter()
        .map(|(k, s, m)| {
            let (Ok(k), Ok(s)) = (<[u8; 32]>::try_from(&k[..]), <[u8; 64]>::try_from(&s[..]))
            else {
                return false;
            };
            let Ok(pk) = XOnlyPublicKey::from_byte_array(k) else {
                return false;
            };
            let sig = schnorr::Signature::from_byte_array(s);
            schnorr::verify(&sig, m, &pk).is_ok()
        })
        .collect()
}

pub fn schnorr_runners(batch: usize, compare: bool) -> Vec<Box<dyn Runner>> {
    let inputs = schnorr_inputs(batch);
    let mut v: Vec<Box<dyn Runner>> = vec![Contender::boxed("cpu", inputs.clone(), ours_schnorr)];
    if compare {
        v.push(Contender::boxed(
            "cpu:singles",
            inputs.clone(),
            ours_schnorr_singles,
        ));
        v.push(Contender::boxed(
            "peer:libsecp256k1-schnorr-verify",
            inputs,
            peer_schnorr,
        ));
    }
    v
}

/// `batch` BIP340 signatures by 64 keys over messages of 32 to 95 bytes, fixed seed.
pub fn schnorr_inputs(batch: usize) -> Inputs {
    let mut r = ChaCha20Rng::seed_from_u64(0x0ff1_0ad4 + batch as u64);
    let keys: Vec<Keypair> = (0..64)
        .map(|_| Keypair::from_secret_key(&secret(&mut r)))
        .collect();
    (0..batch)
        .map(|i| {
            let kp = &keys[i % keys.len()];
            let len = r.gen_range(32..96);
            let m: Vec<u8> = (0..len).map(|_| r.gen()).collect();
            let sig = schnorr::sign_with_aux_rand(&m, kp, &r.gen());
            (
                kp.x_only_public_key().0.to_byte_array().to_vec(),
                sig.to_byte_array().to_vec(),
                m,
            )
        })
        .collect()
}
