// The device arithmetic, compiled for the host so that cargo test can check it against
// arkworks and Plonky3 (CI has no GPU). Nothing here runs in production.
#include "fields.cuh"

using namespace offload;

// For each multiprecision field: out = [a + b, a − b, a·b, −a, from_canonical(a),
// to_canonical(a)], N limbs each, inputs and outputs as raw limbs.
#define CHECK_FP(NAME, FN)                                                        \
  extern "C" void FN(const uint32_t* a, const uint32_t* b, uint32_t* out) {     \
    NAME x, y;                                                                  \
    for (int i = 0; i < NAME::N; i++) {                                         \
      x.v[i] = a[i];                                                            \
      y.v[i] = b[i];                                                            \
    }                                                                           \
    NAME r[6] = {NAME::add(x, y),        NAME::sub(x, y),                       \
                 NAME::mul(x, y),        NAME::neg(x),                          \
                 NAME::from_canonical(x), NAME::to_canonical(x)};               \
    for (int k = 0; k < 6; k++)                                                 \
      for (int i = 0; i < NAME::N; i++) out[k * NAME::N + i] = r[k].v[i];        \
  }

CHECK_FP(Bn254Fr, offload_check_bn254_fr)
CHECK_FP(Bn254Fq, offload_check_bn254_fq)
CHECK_FP(Bls12381Fr, offload_check_bls12_381_fr)
CHECK_FP(Bls12381Fq, offload_check_bls12_381_fq)

// x^e, e of `words` 32-bit words.
extern "C" void offload_check_bn254_fr_pow(const uint32_t* x, const uint32_t* e, int words,
                                           uint32_t* out) {
  Bn254Fr a;
  for (int i = 0; i < Bn254Fr::N; i++) a.v[i] = x[i];
  Bn254Fr r = Bn254Fr::pow(a, e, words);
  for (int i = 0; i < Bn254Fr::N; i++) out[i] = r.v[i];
}

// Canonical in, canonical out: [a + b, a − b, a·b].
extern "C" void offload_check_babybear(uint32_t a, uint32_t b, uint32_t* out) {
  BabyBear x = BabyBear::from_canonical(a), y = BabyBear::from_canonical(b);
  out[0] = BabyBear::to_canonical(BabyBear::add(x, y));
  out[1] = BabyBear::to_canonical(BabyBear::sub(x, y));
  out[2] = BabyBear::to_canonical(BabyBear::mul(x, y));
}

extern "C" void offload_check_goldilocks(uint64_t a, uint64_t b, uint64_t* out) {
  Goldilocks x = Goldilocks::make(a), y = Goldilocks::make(b);
  out[0] = Goldilocks::add(x, y).v;
  out[1] = Goldilocks::sub(x, y).v;
  out[2] = Goldilocks::mul(x, y).v;
}

#include "ntt.cuh"

// The NTT kernels' grid emulated on the host: bit reversal, then log_n DIT stages, then the
// table multiply when `table` is given. BabyBear in Montgomery form.
extern "C" void offload_check_ntt_babybear(uint32_t* data, uint32_t columns, uint32_t log_n,
                                           const uint32_t* tw, const uint32_t* table) {
  BabyBear* d = reinterpret_cast<BabyBear*>(data);
  const BabyBear* w = reinterpret_cast<const BabyBear*>(tw);
  uint64_t n = 1ull << log_n;
  for (uint64_t t = 0; t < n * columns; t++) bitrev_step<BabyBear>(d, t, log_n);
  for (uint32_t s = 0; s < log_n; s++)
    for (uint64_t t = 0; t < (n / 2) * columns; t++) dit_step<BabyBear>(d, w, t, log_n, s);
  if (table)
    for (uint64_t t = 0; t < n * columns; t++)
      scale_step<BabyBear>(d, reinterpret_cast<const BabyBear*>(table), t, log_n);
}

extern "C" void offload_check_ntt_bn254_fr(uint32_t* data, uint32_t columns, uint32_t log_n,
                                           const uint32_t* tw, const uint32_t* table) {
  Bn254Fr* d = reinterpret_cast<Bn254Fr*>(data);
  const Bn254Fr* w = reinterpret_cast<const Bn254Fr*>(tw);
  uint64_t n = 1ull << log_n;
  for (uint64_t t = 0; t < n * columns; t++) bitrev_step<Bn254Fr>(d, t, log_n);
  for (uint32_t s = 0; s < log_n; s++)
    for (uint64_t t = 0; t < (n / 2) * columns; t++) dit_step<Bn254Fr>(d, w, t, log_n, s);
  if (table)
    for (uint64_t t = 0; t < n * columns; t++)
      scale_step<Bn254Fr>(d, reinterpret_cast<const Bn254Fr*>(table), t, log_n);
}
