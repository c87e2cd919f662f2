// Ed25519 verification, one signature per thread, under the three policies of the CPU engine
// (host/engine/src/sig/ed25519.rs), with the same checks in the same order so that every
// verdict, malformed ones included, is the CPU's:
//   0 zip215:  [8]([S]B − R − [k]A) = 0; A and R may be non-canonical; S < ℓ.
//   1 strict:  R canonical; A, R not of small order; encode([S]B − [k]A) = R's bytes.
//   2 rfc8032: R canonical; encode([S]B − [k]A) = R's bytes (R is never decoded).
// k = SHA-512(R ‖ A ‖ M) mod ℓ over the bytes as given.
#pragma once
#include "curve25519.cuh"
#include "sha512.cuh"

namespace offload {

enum Ed25519Verdict : uint32_t {
  ED_VALID = 0,
  ED_INVALID = 1,
  ED_A_NOT_ON_CURVE = 2,
  ED_R_NOT_ON_CURVE = 3,
  ED_R_NON_CANONICAL = 4,
  ED_S_OUT_OF_RANGE = 5,
};

enum Ed25519Policy : uint32_t { ED_ZIP215 = 0, ED_STRICT = 1, ED_RFC8032 = 2 };

// Whether an encoding is the canonical one of the point it decodes to: y < p, and no sign on
// x = 0 (the points with y = 1 or y = p − 1).
HD bool ed25519_canonical(const uint32_t* enc) {
  uint32_t sign = enc[7] >> 31;
  uint32_t top = enc[7] & 0x7fffffffu;
  bool high_ones = top == 0x7fffffffu;
  for (int i = 1; i < 7; i++) high_ones = high_ones && enc[i] == 0xffffffffu;
  bool below_p = !(high_ones && enc[0] >= 0xffffffedu);
  bool middle_zero = top == 0;
  for (int i = 1; i < 7; i++) middle_zero = middle_zero && enc[i] == 0;
  bool y_is_one = middle_zero && enc[0] == 1;
  bool y_is_p_minus_1 = high_ones && enc[0] == 0xffffffecu;
  return below_p && !(sign && (y_is_one || y_is_p_minus_1));
}

// 1P .. 8P, ready to add.
HD void ed25519_multiples(const Ed25519Point& p, Ed25519Cached table[8]) {
  Ed25519Point acc = p;
  table[0] = Ed25519Cached::from(p);
  for (int i = 1; i < 8; i++) {
    acc = Ed25519Cached::add(acc, table[0]);
    table[i] = Ed25519Cached::from(acc);
  }
}

HD Ed25519Point ed25519_add_digit(const Ed25519Point& acc, const Ed25519Cached table[8],
                                  int digit) {
  if (digit > 0) return Ed25519Cached::add(acc, table[digit - 1]);
  if (digit < 0) return Ed25519Cached::add(acc, Ed25519Cached::neg(table[-digit - 1]));
  return acc;
}

// [a]P + [b]B for canonical scalars a, b (Straus, shared doublings, signed radix 16).
HD Ed25519Point ed25519_double_mul(const uint32_t* a, const Ed25519Point& p, const uint32_t* b) {
  Ed25519Cached tp[8], tb[8];
  ed25519_multiples(p, tp);
  ed25519_multiples(Ed25519Point::base(), tb);
  int da[64], db[64];
  scalar_radix16(a, da);
  scalar_radix16(b, db);
  Ed25519Point acc = Ed25519Point::identity();
  for (int i = 63; i >= 0; i--) {
    if (i != 63)
      for (int k = 0; k < 4; k++) acc = Ed25519Point::dbl(acc);
    acc = ed25519_add_digit(acc, tp, da[i]);
    acc = ed25519_add_digit(acc, tb, db[i]);
  }
  return acc;
}

// One signature: A (8 words), the signature R ‖ S (16 words), the message at byte `off` of
// `msgs`, `len` bytes long.
HD uint32_t ed25519_verify_one(uint32_t policy, const uint32_t* key, const uint32_t* sig,
                               const uint32_t* msgs, uint64_t off, uint64_t len) {
  const uint32_t* r_enc = sig;
  const uint32_t* s = sig + 8;
  if (policy != ED_ZIP215 && !ed25519_canonical(r_enc)) return ED_R_NON_CANONICAL;
  Ed25519Point a, r;
  if (!Ed25519Point::decompress(key, a)) return ED_A_NOT_ON_CURVE;
  if (policy != ED_RFC8032 && !Ed25519Point::decompress(r_enc, r)) return ED_R_NOT_ON_CURVE;
  if (!scalar_below_l(s)) return ED_S_OUT_OF_RANGE;
  uint32_t digest[16];
  sha512_hram(r_enc, key, msgs, off, len, digest);
  Ed25519Scalar k = scalar_reduce512(digest);
  // k·(−A), not (−k)·A: the two differ by ℓ·A when A has a small-order component.
  Ed25519Point q = ed25519_double_mul(k.v, Ed25519Point::neg(a), s);
  if (policy == ED_ZIP215) {
    Ed25519Point diff = Ed25519Cached::add(q, Ed25519Cached::neg(Ed25519Cached::from(r)));
    return Ed25519Point::is_identity(Ed25519Point::mul_by_cofactor(diff)) ? ED_VALID
                                                                          : ED_INVALID;
  }
  if (policy == ED_STRICT &&
      (Ed25519Point::is_small_order(a) || Ed25519Point::is_small_order(r)))
    return ED_INVALID;
  uint32_t enc[8];
  Ed25519Point::compress(q, enc);
  uint32_t diff = 0;
  for (int i = 0; i < 8; i++) diff |= enc[i] ^ r_enc[i];
  return diff == 0 ? ED_VALID : ED_INVALID;
}

// Thread i of the verify kernel: spans holds (byte offset, length) per message.
HD void ed25519_verify_step(const uint32_t* keys, const uint32_t* sigs, const uint32_t* msgs,
                            const uint32_t* spans, uint32_t* out, uint32_t i, uint32_t policy) {
  out[i] = ed25519_verify_one(policy, keys + 8 * (uint64_t)i, sigs + 16 * (uint64_t)i, msgs,
                              spans[2 * (uint64_t)i], spans[2 * (uint64_t)i + 1]);
}

}  // namespace offload
