//! The Ed25519 kernels' arithmetic, compiled for the host: the field of 2^255 − 19 against
//! arkworks' ed25519 base field, points and the double-base product against
//! curve25519-dalek, SHA-512 against the sha2 crate, reduction mod ℓ against dalek's scalars.

mod common;

use ark_ff::{BigInteger, Field, PrimeField};
use common::words;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use offload_kernels::host;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha512};

type Fq = ark_ed25519::Fq;

fn bytes(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn fq(w: &[u32]) -> Fq {
    Fq::from_le_bytes_mod_order(&bytes(w))
}

fn canonical_words(x: Fq) -> Vec<u32> {
    let mut b = x.into_bigint().to_bytes_le();
    b.resize(32, 0);
    words(&b)
}

/// 256-bit values the field must take unreduced: around 0, p, 2p and 2^256.
fn edge_words() -> Vec<[u32; 8]> {
    let p: [u32; 8] = [
        0xffffffed, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
        0x7fffffff,
    ];
    let add = |x: [u32; 8], k: i64| -> [u32; 8] {
        let mut v = [0u32; 8];
        let mut c = k as i128;
        for i in 0..8 {
            c += x[i] as i128;
            v[i] = c.rem_euclid(1 << 32) as u32;
            c = c.div_euclid(1 << 32);
        }
        v
    };
    let mut two_p = [0u32; 8];
    let mut c = 0u64;
    for i in 0..8 {
        c += 2 * p[i] as u64;
        two_p[i] = c as u32;
        c >>= 32;
    }
    let zero = [0u32; 8];
    vec![
        zero,
        add(zero, 1),
        add(zero, 2),
        add(zero, 37),
        add(zero, 38),
        add(p, -1),
        p,
        add(p, 1),
        add(p, 19),
        add(two_p, -1),
        two_p,
        add(two_p, 1),
        add(two_p, 37),
        [u32::MAX; 8],
        add([u32::MAX; 8], -37),
        [0, 0, 0, 0, 0, 0, 0, 0x8000_0000],
    ]
}

#[test]
fn field_of_2_255_minus_19_against_arkworks_unreduced_inputs_included() {
    let mut rng = ChaCha20Rng::seed_from_u64(25519);
    let edges = edge_words();
    let mut pairs: Vec<([u32; 8], [u32; 8])> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    pairs.extend((0..400).map(|_| (rng.gen(), rng.gen())));
    // 2^252 − 3, the square-root exponent.
    let e22523: [u64; 4] = [
        0xffff_ffff_ffff_fffd,
        0xffff_ffff_ffff_ffff,
        0xffff_ffff_ffff_ffff,
        0x0fff_ffff_ffff_ffff,
    ];
    for (a, b) in pairs {
        let mut out = [0u32; 64];
        // SAFETY: 8 words per operand, 64 for the results.
        unsafe { host::offload_check_fe25519(a.as_ptr(), b.as_ptr(), out.as_mut_ptr()) };
        let (x, y) = (fq(&a), fq(&b));
        let o = |k: usize| out[8 * k..8 * k + 8].to_vec();
        let ctx = format!("{a:08x?} {b:08x?}");
        assert_eq!(o(0), canonical_words(x + y), "add {ctx}");
        assert_eq!(o(1), canonical_words(x - y), "sub {ctx}");
        assert_eq!(o(2), canonical_words(x * y), "mul {ctx}");
        assert_eq!(o(3), canonical_words(x.square()), "sqr {ctx}");
        assert_eq!(o(4), canonical_words(-x), "neg {ctx}");
        assert_eq!(
            o(5),
            canonical_words(x.inverse().unwrap_or(Fq::from(0u64))),
            "inv {ctx}"
        );
        assert_eq!(o(6), canonical_words(x.pow(e22523)), "pow22523 {ctx}");
        assert_eq!(o(7), canonical_words(x), "canonical {ctx}");
    }
}

/// Encodings that exercise decoding: random points, the eight-torsion, the identity, y ≥ p,
/// x = 0 with the sign bit set, and random bytes (about half are not on the curve).
fn encodings(rng: &mut ChaCha20Rng) -> Vec<[u8; 32]> {
    let mut v: Vec<[u8; 32]> = Vec::new();
    for _ in 0..40 {
        let s = Scalar::from(rng.gen::<u64>());
        v.push((ED25519_BASEPOINT_POINT * s).compress().to_bytes());
    }
    for t in EIGHT_TORSION {
        v.push(t.compress().to_bytes());
        // The same point plus a random one: a small-order component.
        let p = ED25519_BASEPOINT_POINT * Scalar::from(rng.gen::<u64>()) + t;
        v.push(p.compress().to_bytes());
    }
    // y = 1 and y = p − 1 with the sign bit (x = 0, "negative zero"); y = p + k for small k
    // (non-canonical, decodes as y = k); y = 2^255 − 1.
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut neg_one = [0xffu8; 32];
    neg_one[0] = 0xec;
    neg_one[31] = 0x7f;
    for base in [one, neg_one] {
        v.push(base);
        let mut s = base;
        s[31] |= 0x80;
        v.push(s);
    }
    for k in 0u8..19 {
        let mut y = [0xffu8; 32];
        y[0] = 0xed + k;
        y[31] = 0x7f;
        v.push(y);
        let mut s = y;
        s[31] |= 0x80;
        v.push(s);
    }
    for _ in 0..60 {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        v.push(b);
    }
    v
}

#[test]
fn points_decode_add_double_and_encode_as_dalek() {
    let mut rng = ChaCha20Rng::seed_from_u64(8032);
    let encs = encodings(&mut rng);
    let base = ED25519_BASEPOINT_POINT.compress().to_bytes();
    let mut decoded = 0;
    for (i, p) in encs.iter().enumerate() {
        let q = if i % 3 == 0 {
            base
        } else {
            encs[(i * 7 + 1) % encs.len()]
        };
        let (wp, wq) = (words(p), words(&q));
        let mut out = [0u32; 32];
        // SAFETY: 8 words per encoding, 32 for the results.
        let flags = unsafe {
            host::offload_check_ed25519_points(wp.as_ptr(), wq.as_ptr(), out.as_mut_ptr())
        };
        let dp = CompressedEdwardsY(*p).decompress();
        let dq = CompressedEdwardsY(q).decompress();
        assert_eq!(flags & 1 != 0, dp.is_some(), "decoding {p:02x?}");
        assert_eq!(flags & 2 != 0, dq.is_some(), "decoding {q:02x?}");
        let (Some(a), Some(b)) = (dp, dq) else {
            continue;
        };
        decoded += 1;
        assert_eq!(
            flags & 8 != 0,
            a.compress().to_bytes() == *p,
            "canonical {p:02x?}"
        );
        assert_eq!(flags & 4 != 0, a.is_small_order(), "small order {p:02x?}");
        let expect: [EdwardsPoint; 4] = [a + b, a + a, a - b, a.mul_by_cofactor()];
        for (k, e) in expect.iter().enumerate() {
            assert_eq!(
                bytes(&out[8 * k..8 * k + 8]),
                e.compress().to_bytes(),
                "result {k} for {p:02x?}, {q:02x?}"
            );
        }
    }
    assert!(decoded > 80, "only {decoded} pairs decoded");
}

fn scalar_words(s: &Scalar) -> Vec<u32> {
    words(s.as_bytes())
}

#[test]
fn double_base_product_equals_dalek() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let encs = encodings(&mut rng);
    let l_minus_1 = -Scalar::ONE;
    let mut scalars = vec![Scalar::ZERO, Scalar::ONE, l_minus_1, Scalar::from(8u64)];
    for _ in 0..12 {
        let mut w = [0u8; 64];
        rng.fill_bytes(&mut w);
        scalars.push(Scalar::from_bytes_mod_order_wide(&w));
    }
    let mut checked = 0;
    for (i, p) in encs.iter().enumerate().step_by(3) {
        let Some(pt) = CompressedEdwardsY(*p).decompress() else {
            continue;
        };
        let a = scalars[i % scalars.len()];
        let b = scalars[(i / 2 + 1) % scalars.len()];
        let mut out = [0u32; 8];
        let wp = words(p);
        // SAFETY: 8 words each.
        let ok = unsafe {
            host::offload_check_ed25519_double_mul(
                scalar_words(&a).as_ptr(),
                wp.as_ptr(),
                scalar_words(&b).as_ptr(),
                out.as_mut_ptr(),
            )
        };
        assert!(ok);
        let expect = EdwardsPoint::vartime_double_scalar_mul_basepoint(&a, &pt, &b);
        assert_eq!(
            bytes(&out),
            expect.compress().to_bytes(),
            "[{a:?}]{p:02x?} + [{b:?}]B"
        );
        checked += 1;
    }
    assert!(checked > 20);
}

#[test]
fn challenge_hash_and_reduction_equal_sha2_and_dalek() {
    let mut rng = ChaCha20Rng::seed_from_u64(512);
    // Lengths around SHA-512's block and padding boundaries (64 bytes of R ‖ A come first),
    // at every byte alignment of the message in its buffer.
    let lens: Vec<usize> = (0..=140)
        .chain([175, 176, 177, 191, 192, 193, 300, 1000])
        .collect();
    for (t, &len) in lens.iter().enumerate() {
        let off = t % 4;
        let mut buf = vec![0u8; off + len + 3];
        rng.fill_bytes(&mut buf);
        let mut r = [0u8; 32];
        let mut a = [0u8; 32];
        rng.fill_bytes(&mut r);
        rng.fill_bytes(&mut a);
        let bw = words(&buf[..buf.len() / 4 * 4]);
        let mut digest = [0u32; 16];
        let mut k = [0u32; 8];
        // SAFETY: the message lies inside `bw` (off + len ≤ 4·words).
        unsafe {
            host::offload_check_ed25519_hram(
                words(&r).as_ptr(),
                words(&a).as_ptr(),
                bw.as_ptr(),
                off as u64,
                len as u64,
                digest.as_mut_ptr(),
                k.as_mut_ptr(),
            )
        };
        let mut h = Sha512::new();
        h.update(r);
        h.update(a);
        h.update(&buf[off..off + len]);
        let want: [u8; 64] = h.finalize().into();
        assert_eq!(bytes(&digest), want, "digest, length {len}");
        assert_eq!(
            bytes(&k),
            Scalar::from_bytes_mod_order_wide(&want).to_bytes(),
            "k, length {len}"
        );
    }
    // Reduction at the extremes a hash cannot be steered to.
    let mut inputs: Vec<[u8; 64]> = vec![[0; 64], [0xff; 64]];
    let mut l = [0u8; 64];
    l[..32].copy_from_slice(&(-Scalar::ONE).to_bytes());
    inputs.push(l);
    l[0] += 1; // ℓ itself
    inputs.push(l);
    let mut hi_only = [0u8; 64];
    hi_only[32..].fill(0xff);
    inputs.push(hi_only);
    for x in inputs {
        let mut out = [0u32; 8];
        // SAFETY: 16 words in, 8 out.
        unsafe { host::offload_check_scalar_reduce512(words(&x).as_ptr(), out.as_mut_ptr()) };
        assert_eq!(
            bytes(&out),
            Scalar::from_bytes_mod_order_wide(&x).to_bytes(),
            "{x:02x?}"
        );
    }
}
