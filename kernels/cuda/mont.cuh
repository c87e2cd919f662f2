// Prime fields of 8 or 12 32-bit limbs in Montgomery form, R = 2^(32·N).
//
// R equals arkworks' (2^(64·N/2)) for every field here, so an arkworks element's internal
// limbs are this type's limbs: bases and scalars cross to the device with no conversion.
// Operands and results are reduced (< p); every modulus here is below R/2, so the CIOS
// product stays below 2p and one conditional subtraction reduces it.
#pragma once
#include "common.cuh"

namespace offload {

template <class P>
struct Fp {
  static constexpr int N = P::N;
  uint32_t v[N];

  HD static Fp zero() {
    Fp r;
    UNROLL for (int i = 0; i < N; i++) r.v[i] = 0;
    return r;
  }
  // 1 in Montgomery form (R mod p).
  HD static Fp one() {
    Fp r;
    UNROLL for (int i = 0; i < N; i++) r.v[i] = P::one(i);
    return r;
  }
  HD bool is_zero() const {
    uint32_t acc = 0;
    UNROLL for (int i = 0; i < N; i++) acc |= v[i];
    return acc == 0;
  }
  HD bool operator==(const Fp& o) const {
    uint32_t acc = 0;
    UNROLL for (int i = 0; i < N; i++) acc |= v[i] ^ o.v[i];
    return acc == 0;
  }

  // x − p, and whether it borrowed (x < p).
  HD static bool sub_p(const uint32_t* x, Fp& d) {
    uint32_t borrow = 0;
    UNROLL for (int i = 0; i < N; i++) {
      uint64_t t = (uint64_t)x[i] - P::m(i) - borrow;
      d.v[i] = (uint32_t)t;
      borrow = (uint32_t)(t >> 63);
    }
    return borrow != 0;
  }

  HD static Fp add(const Fp& a, const Fp& b) {
    Fp s, d;
    uint64_t c = 0;
    UNROLL for (int i = 0; i < N; i++) {
      c += (uint64_t)a.v[i] + b.v[i];
      s.v[i] = (uint32_t)c;
      c >>= 32;
    }
    bool below = sub_p(s.v, d);
    return (c != 0 || !below) ? d : s;
  }

  HD static Fp sub(const Fp& a, const Fp& b) {
    Fp d, s;
    uint32_t borrow = 0;
    UNROLL for (int i = 0; i < N; i++) {
      uint64_t t = (uint64_t)a.v[i] - b.v[i] - borrow;
      d.v[i] = (uint32_t)t;
      borrow = (uint32_t)(t >> 63);
    }
    uint64_t c = 0;
    UNROLL for (int i = 0; i < N; i++) {
      c += (uint64_t)d.v[i] + P::m(i);
      s.v[i] = (uint32_t)c;
      c >>= 32;
    }
    return borrow ? s : d;
  }

  HD static Fp neg(const Fp& a) { return sub(zero(), a); }

  // a·b·R^−1 mod p (CIOS). Each inner step is t_j + a_j·b_i + carry < 2^64.
  HD static Fp mul(const Fp& a, const Fp& b) {
    uint32_t t[N + 2];
    UNROLL for (int i = 0; i < N + 2; i++) t[i] = 0;
    UNROLL for (int i = 0; i < N; i++) {
      uint64_t c = 0;
      UNROLL for (int j = 0; j < N; j++) {
        c += (uint64_t)a.v[j] * b.v[i] + t[j];
        t[j] = (uint32_t)c;
        c >>= 32;
      }
      c += t[N];
      t[N] = (uint32_t)c;
      t[N + 1] = (uint32_t)(c >> 32);
      uint32_t m = t[0] * P::INV;
      c = ((uint64_t)m * P::m(0) + t[0]) >> 32;
      UNROLL for (int j = 1; j < N; j++) {
        c += (uint64_t)m * P::m(j) + t[j];
        t[j - 1] = (uint32_t)c;
        c >>= 32;
      }
      c += t[N];
      t[N - 1] = (uint32_t)c;
      t[N] = t[N + 1] + (uint32_t)(c >> 32);
    }
    Fp r, d;
    UNROLL for (int i = 0; i < N; i++) r.v[i] = t[i];
    bool below = sub_p(r.v, d);
    return below ? r : d;
  }

  HD static Fp sqr(const Fp& a) { return mul(a, a); }

  // Into Montgomery form: x·R^2·R^−1.
  HD static Fp from_canonical(const Fp& x) {
    Fp r2;
    UNROLL for (int i = 0; i < N; i++) r2.v[i] = P::r2(i);
    return mul(x, r2);
  }
  // Out of it: x·1·R^−1.
  HD static Fp to_canonical(const Fp& x) {
    Fp one_raw = zero();
    one_raw.v[0] = 1;
    return mul(x, one_raw);
  }

  // x^e for a little-endian exponent of `words` 32-bit words.
  HD static Fp pow(const Fp& x, const uint32_t* e, int words) {
    Fp acc = one();
    for (int w = words - 1; w >= 0; w--) {
      for (int bit = 31; bit >= 0; bit--) {
        acc = sqr(acc);
        if ((e[w] >> bit) & 1) acc = mul(acc, x);
      }
    }
    return acc;
  }
};

}  // namespace offload
