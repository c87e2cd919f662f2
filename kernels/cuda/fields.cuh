// The fields the kernels work in. Constants are checked against arkworks and Plonky3 by the
// host tests (kernels/tests/host_arith.rs), so a wrong digit fails CI.
#pragma once
#include "mont.cuh"

namespace offload {

// m(i): limb i of the modulus; one(i): R mod p; r2(i): R^2 mod p; INV = −p^−1 mod 2^32.
// The tables are function-local so that device code can use them (a static member array
// would need device storage); with the loops unrolled they fold into immediates.
#define OFFLOAD_FIELD(NAME, LIMBS, INV_, MOD, ONE, R2)                   \
  struct NAME##Params {                                                \
    static constexpr int N = LIMBS;                                    \
    static constexpr uint32_t INV = INV_;                              \
    HD static uint32_t m(int i) {                                      \
      const uint32_t t[LIMBS] = {MOD};                                 \
      return t[i];                                                     \
    }                                                                  \
    HD static uint32_t one(int i) {                                    \
      const uint32_t t[LIMBS] = {ONE};                                 \
      return t[i];                                                     \
    }                                                                  \
    HD static uint32_t r2(int i) {                                     \
      const uint32_t t[LIMBS] = {R2};                                  \
      return t[i];                                                     \
    }                                                                  \
  };                                                                   \
  typedef Fp<NAME##Params> NAME;

#define L8(a, b, c, d, e, f, g, h) a, b, c, d, e, f, g, h
#define L12(a, b, c, d, e, f, g, h, i, j, k, l) a, b, c, d, e, f, g, h, i, j, k, l

OFFLOAD_FIELD(Bn254Fr, 8, 0xefffffffu,
              L8(0xf0000001u, 0x43e1f593u, 0x79b97091u, 0x2833e848u, 0x8181585du, 0xb85045b6u,
                 0xe131a029u, 0x30644e72u),
              L8(0x4ffffffbu, 0xac96341cu, 0x9f60cd29u, 0x36fc7695u, 0x7879462eu, 0x666ea36fu,
                 0x9a07df2fu, 0x0e0a77c1u),
              L8(0xae216da7u, 0x1bb8e645u, 0xe35c59e3u, 0x53fe3ab1u, 0x53bb8085u, 0x8c49833du,
                 0x7f4e44a5u, 0x0216d0b1u))

OFFLOAD_FIELD(Bn254Fq, 8, 0xe4866389u,
              L8(0xd87cfd47u, 0x3c208c16u, 0x6871ca8du, 0x97816a91u, 0x8181585du, 0xb85045b6u,
                 0xe131a029u, 0x30644e72u),
              L8(0xc58f0d9du, 0xd35d438du, 0xf5c70b3du, 0x0a78eb28u, 0x7879462cu, 0x666ea36fu,
                 0x9a07df2fu, 0x0e0a77c1u),
              L8(0x538afa89u, 0xf32cfc5bu, 0xd44501fbu, 0xb5e71911u, 0x0a417ff6u, 0x47ab1effu,
                 0xcab8351fu, 0x06d89f71u))

OFFLOAD_FIELD(Bls12381Fr, 8, 0xffffffffu,
              L8(0x00000001u, 0xffffffffu, 0xfffe5bfeu, 0x53bda402u, 0x09a1d805u, 0x3339d808u,
                 0x299d7d48u, 0x73eda753u),
              L8(0xfffffffeu, 0x00000001u, 0x00034802u, 0x5884b7fau, 0xecbc4ff5u, 0x998c4fefu,
                 0xacc5056fu, 0x1824b159u),
              L8(0xf3f29c6du, 0xc999e990u, 0x87925c23u, 0x2b6cedcbu, 0x7254398fu, 0x05d31496u,
                 0x9f59ff11u, 0x0748d9d9u))

OFFLOAD_FIELD(Bls12381Fq, 12, 0xfffcfffdu,
              L12(0xffffaaabu, 0xb9feffffu, 0xb153ffffu, 0x1eabfffeu, 0xf6b0f624u, 0x6730d2a0u,
                  0xf38512bfu, 0x64774b84u, 0x434bacd7u, 0x4b1ba7b6u, 0x397fe69au, 0x1a0111eau),
              L12(0x0002fffdu, 0x76090000u, 0xc40c0002u, 0xebf4000bu, 0x53c758bau, 0x5f489857u,
                  0x70525745u, 0x77ce5853u, 0xa256ec6du, 0x5c071a97u, 0xfa80e493u, 0x15f65ec3u),
              L12(0x1c341746u, 0xf4df1f34u, 0x09d104f1u, 0x0a76e6a6u, 0x4c95b6d5u, 0x8de5476cu,
                  0x939d83c0u, 0x67eb88a9u, 0xb519952du, 0x9a793e85u, 0x92cae3aau, 0x11988fe5u))

#undef L8
#undef L12

// BabyBear, p = 2^31 − 2^27 + 1, in Montgomery form with R = 2^32 (Plonky3's representation).
struct BabyBear {
  static constexpr uint32_t P = 0x78000001u;
  static constexpr uint32_t INV = 0x77ffffffu;  // −p^−1 mod 2^32
  static constexpr uint32_t R2 = 0x45dddde3u;   // 2^64 mod p
  uint32_t v;

  HD static uint32_t reduce(uint64_t x) {
    uint32_t m = (uint32_t)x * INV;
    uint32_t t = (uint32_t)((x + (uint64_t)m * P) >> 32);
    return t >= P ? t - P : t;
  }
  HD static BabyBear make(uint32_t mont) {
    BabyBear r;
    r.v = mont;
    return r;
  }
  HD static BabyBear from_canonical(uint32_t x) { return make(reduce((uint64_t)x * R2)); }
  HD static uint32_t to_canonical(BabyBear x) { return reduce(x.v); }
  HD static BabyBear add(BabyBear a, BabyBear b) {
    uint32_t s = a.v + b.v;
    return make(s >= P ? s - P : s);
  }
  HD static BabyBear sub(BabyBear a, BabyBear b) {
    uint32_t d = a.v - b.v;
    return make(a.v < b.v ? d + P : d);
  }
  HD static BabyBear mul(BabyBear a, BabyBear b) { return make(reduce((uint64_t)a.v * b.v)); }
};

// Goldilocks, p = 2^64 − 2^32 + 1, canonical u64 (2^64 ≡ 2^32 − 1, 2^96 ≡ −1).
struct Goldilocks {
  static constexpr uint64_t P = 0xffffffff00000001ull;
  static constexpr uint64_t EPS = 0xffffffffull;
  uint64_t v;

  HD static Goldilocks make(uint64_t x) {
    Goldilocks r;
    r.v = x;
    return r;
  }
  HD static Goldilocks add(Goldilocks a, Goldilocks b) {
    uint64_t s = a.v + b.v;
    if (s < a.v) return make(s + EPS);  // wrapped: a + b − p = s + EPS < p
    return make(s >= P ? s - P : s);
  }
  HD static Goldilocks sub(Goldilocks a, Goldilocks b) {
    uint64_t d = a.v - b.v;
    return make(a.v < b.v ? d - EPS : d);  // + p ≡ − EPS mod 2^64
  }
  // Any 64-bit operands; canonical result.
  HD static Goldilocks mul(Goldilocks a, Goldilocks b) {
    uint64_t lo = a.v * b.v;
    uint64_t hi = mul_hi64(a.v, b.v);
    uint64_t hh = hi >> 32, hl = hi & EPS;
    uint64_t t0 = lo - hh;
    if (lo < hh) t0 -= EPS;
    uint64_t t1 = hl * EPS;
    uint64_t t2 = t0 + t1;
    if (t2 < t1) t2 += EPS;
    return make(t2 >= P ? t2 - P : t2);
  }
};

}  // namespace offload
