// Curve25519 for Ed25519 verification: the field of p = 2^255 − 19, the twisted Edwards group
// −x² + y² = 1 + d·x²·y² in extended coordinates (x = X/Z, y = Y/Z, T = XY/Z), and scalars
// mod ℓ. Checked against arkworks' ed25519 field and curve25519-dalek by the host tests.
#pragma once
#include "fields.cuh"

namespace offload {

// The field of 2^255 − 19, eight 32-bit limbs. Values are kept below 2^256 but not reduced:
// 2^256 ≡ 38, so a carry out of the top limb folds back as +38 and no comparison is needed
// until a value is encoded or compared (canonical()).
struct Fe25519 {
  uint32_t v[8];

  HD static Fe25519 zero() {
    Fe25519 r;
    UNROLL for (int i = 0; i < 8; i++) r.v[i] = 0;
    return r;
  }
  HD static Fe25519 one() {
    Fe25519 r = zero();
    r.v[0] = 1;
    return r;
  }
  HD static Fe25519 from_words(const uint32_t* w) {
    Fe25519 r;
    UNROLL for (int i = 0; i < 8; i++) r.v[i] = w[i];
    return r;
  }
#define OFFLOAD_FE(NAME, ...)                  \
  HD static Fe25519 NAME() {                   \
    const uint32_t t[8] = {__VA_ARGS__};       \
    return from_words(t);                      \
  }
  // d = −121665/121666, 2d, and √−1 = 2^((p−1)/4).
  OFFLOAD_FE(d, 0x135978a3u, 0x75eb4dcau, 0x4141d8abu, 0x00700a4du, 0x7779e898u, 0x8cc74079u,
             0x2b6ffe73u, 0x52036ceeu)
  OFFLOAD_FE(d2, 0x26b2f159u, 0xebd69b94u, 0x8283b156u, 0x00e0149au, 0xeef3d130u, 0x198e80f2u,
             0x56dffce7u, 0x2406d9dcu)
  OFFLOAD_FE(sqrt_m1, 0x4a0ea0b0u, 0xc4ee1b27u, 0xad2fe478u, 0x2f431806u, 0x3dfbd7a7u,
             0x2b4d0099u, 0x4fc1df0bu, 0x2b832480u)
#undef OFFLOAD_FE

  // r += k (k < 2^32); the carry out of the top limb.
  HD static uint32_t add_small(Fe25519& r, uint32_t k) {
    uint64_t c = k;
    UNROLL for (int i = 0; i < 8; i++) {
      c += r.v[i];
      r.v[i] = (uint32_t)c;
      c >>= 32;
    }
    return (uint32_t)c;
  }
  // r −= k; the borrow.
  HD static uint32_t sub_small(Fe25519& r, uint32_t k) {
    uint32_t borrow = k;
    UNROLL for (int i = 0; i < 8; i++) {
      uint64_t t = (uint64_t)r.v[i] - borrow;
      r.v[i] = (uint32_t)t;
      borrow = (uint32_t)(t >> 63);
    }
    return borrow;
  }

  HD static Fe25519 add(const Fe25519& a, const Fe25519& b) {
    Fe25519 s;
    uint64_t c = 0;
    UNROLL for (int i = 0; i < 8; i++) {
      c += (uint64_t)a.v[i] + b.v[i];
      s.v[i] = (uint32_t)c;
      c >>= 32;
    }
    // A second fold carries only when the first wrapped, leaving less than 38.
    uint32_t c2 = add_small(s, 38 * (uint32_t)c);
    add_small(s, 38 * c2);
    return s;
  }

  HD static Fe25519 sub(const Fe25519& a, const Fe25519& b) {
    Fe25519 d;
    uint32_t borrow = 0;
    UNROLL for (int i = 0; i < 8; i++) {
      uint64_t t = (uint64_t)a.v[i] - b.v[i] - borrow;
      d.v[i] = (uint32_t)t;
      borrow = (uint32_t)(t >> 63);
    }
    // A borrow left d = a − b + 2^256 ≡ a − b + 38: take 38 off, twice if that borrows too.
    uint32_t b2 = sub_small(d, 38 * borrow);
    sub_small(d, 38 * b2);
    return d;
  }

  HD static Fe25519 neg(const Fe25519& a) { return sub(zero(), a); }

  HD static Fe25519 mul(const Fe25519& a, const Fe25519& b) {
    uint32_t t[16];
    UNROLL for (int i = 0; i < 16; i++) t[i] = 0;
    UNROLL for (int i = 0; i < 8; i++) {
      uint64_t c = 0;
      UNROLL for (int j = 0; j < 8; j++) {
        c += (uint64_t)a.v[j] * b.v[i] + t[i + j];
        t[i + j] = (uint32_t)c;
        c >>= 32;
      }
      t[i + 8] = (uint32_t)c;
    }
    // lo + 38·hi < 2^262: fold the top again as +38 per unit.
    Fe25519 r;
    uint64_t c = 0;
    UNROLL for (int i = 0; i < 8; i++) {
      c += (uint64_t)t[i] + (uint64_t)38 * t[i + 8];
      r.v[i] = (uint32_t)c;
      c >>= 32;
    }
    uint32_t c2 = add_small(r, 38 * (uint32_t)c);
    add_small(r, 38 * c2);
    return r;
  }

  HD static Fe25519 sqr(const Fe25519& a) { return mul(a, a); }

  HD static Fe25519 sqr_n(Fe25519 a, int n) {
    for (int i = 0; i < n; i++) a = sqr(a);
    return a;
  }

  // The unique representative below p (a value below 2^256 is below 3p).
  HD static Fe25519 canonical(const Fe25519& a) {
    Fe25519 r = a;
    for (int k = 0; k < 2; k++) {
      Fe25519 d;
      uint32_t borrow = 0;
      UNROLL for (int i = 0; i < 8; i++) {
        uint32_t m = i == 0 ? 0xffffffedu : (i == 7 ? 0x7fffffffu : 0xffffffffu);
        uint64_t t = (uint64_t)r.v[i] - m - borrow;
        d.v[i] = (uint32_t)t;
        borrow = (uint32_t)(t >> 63);
      }
      if (!borrow) r = d;
    }
    return r;
  }

  HD static bool eq(const Fe25519& a, const Fe25519& b) {
    Fe25519 x = canonical(a), y = canonical(b);
    uint32_t acc = 0;
    UNROLL for (int i = 0; i < 8; i++) acc |= x.v[i] ^ y.v[i];
    return acc == 0;
  }
  HD bool is_zero() const { return eq(*this, zero()); }
  // The sign of x in an encoding: the low bit of its canonical value.
  HD bool is_negative() const { return canonical(*this).v[0] & 1; }

  // z^(2^250 − 1) and z^11, the common prefix of the inversion and square-root chains.
  HD static void pow250(const Fe25519& z, Fe25519& z250, Fe25519& z11) {
    Fe25519 z2 = sqr(z);
    Fe25519 z9 = mul(sqr_n(z2, 2), z);
    z11 = mul(z9, z2);
    Fe25519 e5 = mul(sqr(z11), z9);            // 2^5 − 1
    Fe25519 e10 = mul(sqr_n(e5, 5), e5);       // 2^10 − 1
    Fe25519 e20 = mul(sqr_n(e10, 10), e10);    // 2^20 − 1
    Fe25519 e40 = mul(sqr_n(e20, 20), e20);    // 2^40 − 1
    Fe25519 e50 = mul(sqr_n(e40, 10), e10);    // 2^50 − 1
    Fe25519 e100 = mul(sqr_n(e50, 50), e50);   // 2^100 − 1
    Fe25519 e200 = mul(sqr_n(e100, 100), e100);  // 2^200 − 1
    z250 = mul(sqr_n(e200, 50), e50);          // 2^250 − 1
  }

  // z^(p − 2) = z^(2^255 − 21); 0 for 0.
  HD static Fe25519 invert(const Fe25519& z) {
    Fe25519 z250, z11;
    pow250(z, z250, z11);
    return mul(sqr_n(z250, 5), z11);
  }

  // z^((p − 5)/8) = z^(2^252 − 3).
  HD static Fe25519 pow22523(const Fe25519& z) {
    Fe25519 z250, z11;
    pow250(z, z250, z11);
    return mul(sqr_n(z250, 2), z);
  }
};

// An Edwards point in extended coordinates.
struct Ed25519Point {
  Fe25519 x, y, z, t;

  HD static Ed25519Point identity() {
    Ed25519Point p;
    p.x = Fe25519::zero();
    p.y = Fe25519::one();
    p.z = Fe25519::one();
    p.t = Fe25519::zero();
    return p;
  }

  HD static Ed25519Point base() {
    const uint32_t bx[8] = {0x8f25d51au, 0xc9562d60u, 0x9525a7b2u, 0x692cc760u,
                            0xfdd6dc5cu, 0xc0a4e231u, 0xcd6e53feu, 0x216936d3u};
    const uint32_t by[8] = {0x66666658u, 0x66666666u, 0x66666666u, 0x66666666u,
                            0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u};
    Ed25519Point p;
    p.x = Fe25519::from_words(bx);
    p.y = Fe25519::from_words(by);
    p.z = Fe25519::one();
    p.t = Fe25519::mul(p.x, p.y);
    return p;
  }

  HD static Ed25519Point neg(const Ed25519Point& p) {
    Ed25519Point r = p;
    r.x = Fe25519::neg(p.x);
    r.t = Fe25519::neg(p.t);
    return r;
  }

  // The common end of the extended-coordinate formulas: (EF, GH, FG, EH).
  HD static Ed25519Point from_efgh(const Fe25519& e, const Fe25519& f, const Fe25519& g,
                                   const Fe25519& h) {
    Ed25519Point r;
    r.x = Fe25519::mul(e, f);
    r.y = Fe25519::mul(g, h);
    r.t = Fe25519::mul(e, h);
    r.z = Fe25519::mul(f, g);
    return r;
  }

  // dbl-2008-hwcd with a = −1.
  HD static Ed25519Point dbl(const Ed25519Point& p) {
    typedef Fe25519 F;
    F a = F::sqr(p.x), b = F::sqr(p.y);
    F zz = F::sqr(p.z);
    F c = F::add(zz, zz);
    F e = F::sub(F::sub(F::sqr(F::add(p.x, p.y)), a), b);
    F g = F::sub(b, a);
    F f = F::sub(g, c);
    F h = F::neg(F::add(a, b));
    return from_efgh(e, f, g, h);
  }

  // The decoding of a 32-byte encoding (8 little-endian words) as curve25519-dalek decodes
  // it: y is the low 255 bits, not reduced (so y ≥ p is accepted, as ZIP-215 requires), x
  // the root of (y² − 1)/(d·y² + 1) with the encoded sign, and x = 0 accepted with either
  // sign. False when there is no root.
  HD static bool decompress(const uint32_t* enc, Ed25519Point& out) {
    typedef Fe25519 F;
    F y = F::from_words(enc);
    uint32_t sign = y.v[7] >> 31;
    y.v[7] &= 0x7fffffffu;
    F yy = F::sqr(y);
    F u = F::sub(yy, F::one());
    F v = F::add(F::mul(yy, F::d()), F::one());
    // x = u·v³·(u·v⁷)^((p − 5)/8), corrected by √−1 when v·x² = −u.
    F v3 = F::mul(F::sqr(v), v);
    F v7 = F::mul(F::sqr(v3), v);
    F x = F::mul(F::mul(u, v3), F::pow22523(F::mul(u, v7)));
    F check = F::mul(v, F::sqr(x));
    if (!F::eq(check, u)) {
      if (!F::eq(check, F::neg(u))) return false;
      x = F::mul(x, F::sqrt_m1());
    }
    x = F::canonical(x);
    if (x.v[0] & 1) x = F::neg(x);  // the non-negative root first
    if (sign) x = F::neg(x);
    out.x = x;
    out.y = y;
    out.z = F::one();
    out.t = F::mul(x, y);
    return true;
  }

  // The canonical encoding: y below p, the sign of x in the top bit.
  HD static void compress(const Ed25519Point& p, uint32_t out[8]) {
    typedef Fe25519 F;
    F zi = F::invert(p.z);
    F x = F::canonical(F::mul(p.x, zi)), y = F::canonical(F::mul(p.y, zi));
    UNROLL for (int i = 0; i < 8; i++) out[i] = y.v[i];
    out[7] |= (x.v[0] & 1) << 31;
  }

  HD static bool is_identity(const Ed25519Point& p) {
    return p.x.is_zero() && Fe25519::eq(p.y, p.z);
  }

  HD static Ed25519Point mul_by_cofactor(const Ed25519Point& p) { return dbl(dbl(dbl(p))); }

  HD static bool is_small_order(const Ed25519Point& p) {
    return is_identity(mul_by_cofactor(p));
  }
};

// A point ready to be added: (Y + X, Y − X, 2Z, 2d·T).
struct Ed25519Cached {
  Fe25519 ypx, ymx, z2, t2d;

  HD static Ed25519Cached from(const Ed25519Point& p) {
    typedef Fe25519 F;
    Ed25519Cached c;
    c.ypx = F::add(p.y, p.x);
    c.ymx = F::sub(p.y, p.x);
    c.z2 = F::add(p.z, p.z);
    c.t2d = F::mul(p.t, F::d2());
    return c;
  }

  // −P: x and T negated, so Y + X and Y − X swap.
  HD static Ed25519Cached neg(const Ed25519Cached& c) {
    Ed25519Cached r;
    r.ypx = c.ymx;
    r.ymx = c.ypx;
    r.z2 = c.z2;
    r.t2d = Fe25519::neg(c.t2d);
    return r;
  }

  // p + q, add-2008-hwcd-3 (a = −1): complete, so doubling and the identity need no case.
  HD static Ed25519Point add(const Ed25519Point& p, const Ed25519Cached& q) {
    typedef Fe25519 F;
    F a = F::mul(F::sub(p.y, p.x), q.ymx);
    F b = F::mul(F::add(p.y, p.x), q.ypx);
    F c = F::mul(p.t, q.t2d);
    F d = F::mul(p.z, q.z2);
    F e = F::sub(b, a), f = F::sub(d, c), g = F::add(d, c), h = F::add(b, a);
    return Ed25519Point::from_efgh(e, f, g, h);
  }
};

// ℓ = 2^252 + 27742317777372353535851937790883648493, the order of the base point.
#define L8(a, b, c, d, e, f, g, h) a, b, c, d, e, f, g, h
OFFLOAD_FIELD(Ed25519Scalar, 8, 0x12547e1bu,
              L8(0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu, 0x00000000u, 0x00000000u,
                 0x00000000u, 0x10000000u),
              L8(0x8d98951du, 0xd6ec3174u, 0x737dcf70u, 0xc6ef5bf4u, 0xfffffffeu, 0xffffffffu,
                 0xffffffffu, 0x0fffffffu),
              L8(0x449c0f01u, 0xa40611e3u, 0x68859347u, 0xd00e1ba7u, 0x17f5be65u, 0xceec73d2u,
                 0x7c309a3du, 0x0399411bu))
#undef L8

// Whether 8 little-endian words are below ℓ (a canonical S).
HD bool scalar_below_l(const uint32_t* s) {
  for (int i = 7; i >= 0; i--) {
    uint32_t m = Ed25519ScalarParams::m(i);
    if (s[i] != m) return s[i] < m;
  }
  return false;
}

// A 512-bit little-endian integer (16 words) mod ℓ, canonical. Montgomery products accept
// one operand below 2^256 when the other is below ℓ, so each half goes in unreduced:
// lo·R² and hi·R³ are the Montgomery forms of lo and hi·2^256.
HD Ed25519Scalar scalar_reduce512(const uint32_t* x) {
  typedef Ed25519Scalar S;
  S lo, hi, r2;
  UNROLL for (int i = 0; i < 8; i++) {
    lo.v[i] = x[i];
    hi.v[i] = x[8 + i];
    r2.v[i] = Ed25519ScalarParams::r2(i);
  }
  S r3 = S::mul(r2, r2);
  return S::to_canonical(S::add(S::mul(lo, r2), S::mul(hi, r3)));
}

// Signed radix-16 digits of a canonical scalar below 2^253: 64 digits, low first, each in
// [−8, 8) but the top one, which stays in [0, 2].
HD void scalar_radix16(const uint32_t* s, int digits[64]) {
  int carry = 0;
  for (int i = 0; i < 64; i++) {
    int e = (int)((s[i / 8] >> (4 * (i % 8))) & 15) + carry;
    carry = i < 63 ? (e + 8) >> 4 : 0;
    digits[i] = e - (carry << 4);
  }
}

}  // namespace offload
