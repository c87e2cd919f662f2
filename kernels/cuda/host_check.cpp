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

#include "curve.cuh"

// For affine p, q (x then y, N limbs each, Montgomery form; (0, 0) = infinity): out holds four
// XYZZ points (x, y, zz, zzz): p + q, 2p + q (affine operand), 2p + 2q, 4p.
#define CHECK_G1(F, FN)                                                                 \
  extern "C" void FN(const uint32_t* p, const uint32_t* q, uint32_t* out) {            \
    Affine<F> a, b;                                                                     \
    for (int i = 0; i < F::N; i++) {                                                    \
      a.x.v[i] = p[i];                                                                  \
      a.y.v[i] = p[F::N + i];                                                           \
      b.x.v[i] = q[i];                                                                  \
      b.y.v[i] = q[F::N + i];                                                           \
    }                                                                                   \
    typedef Xyzz<F> G;                                                                  \
    G pa = G::from_affine(a), qa = G::from_affine(b);                                   \
    G r[4] = {G::add(pa, qa), G::add_affine(G::dbl(pa), b), G::add(G::dbl(pa), G::dbl(qa)), \
              G::dbl(G::dbl(pa))};                                                      \
    for (int k = 0; k < 4; k++) {                                                       \
      const F* c[4] = {&r[k].x, &r[k].y, &r[k].zz, &r[k].zzz};                          \
      for (int j = 0; j < 4; j++)                                                       \
        for (int i = 0; i < F::N; i++) out[(k * 4 + j) * F::N + i] = c[j]->v[i];        \
    }                                                                                   \
  }

CHECK_G1(Bn254Fq, offload_check_g1_bn254)
CHECK_G1(Bls12381Fq, offload_check_g1_bls12_381)

#include "msm.cuh"
#include <vector>

// The MSM kernels' steps in loops, exactly as the grid runs them: n affine bases (2N words
// each, Montgomery form, (0, 0) = infinity) and n canonical scalars of `words` words; out is
// the XYZZ result (4N words).
template <class F>
static void host_msm(const uint32_t* bases, const uint32_t* scalars, uint32_t words,
                     uint32_t bits, uint32_t n, uint32_t c, uint32_t segments, uint32_t* out) {
  uint32_t windows = msm_windows(bits, c), half = 1u << (c - 1);
  uint64_t total = (uint64_t)windows * n;
  std::vector<uint32_t> keys(total), values(total), counts(windows * half, 0),
      offsets(windows * half), cursors(windows * half), list(total);
  for (uint32_t i = 0; i < n; i++)
    msm_digits_step(scalars, words, i, n, c, windows, keys.data(), values.data());
  for (uint64_t e = 0; e < total; e++) msm_histogram_step(keys.data(), e, counts.data());
  for (uint32_t w = 0; w < windows; w++)
    msm_scan_step(counts.data(), w, half, n, offsets.data(), cursors.data());
  for (uint64_t e = 0; e < total; e++)
    msm_scatter_step(keys.data(), values.data(), e, cursors.data(), list.data());
  const Affine<F>* b = reinterpret_cast<const Affine<F>*>(bases);
  std::vector<Xyzz<F>> buckets(windows * half), partial(windows * segments), sums(windows);
  for (uint32_t k = 0; k < windows * half; k++)
    msm_accumulate_step<F>(b, list.data(), offsets.data(), counts.data(), k, buckets.data());
  for (uint32_t t = 0; t < windows * segments; t++)
    msm_reduce_step<F>(buckets.data(), t, half, segments, partial.data());
  for (uint32_t w = 0; w < windows; w++)
    msm_window_sum_step<F>(partial.data(), w, segments, sums.data());
  Xyzz<F> r = msm_combine<F>(sums.data(), windows, c);
  const F* parts[4] = {&r.x, &r.y, &r.zz, &r.zzz};
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < F::N; i++) out[j * F::N + i] = parts[j]->v[i];
}

extern "C" void offload_check_msm_bn254(const uint32_t* bases, const uint32_t* scalars,
                                        uint32_t n, uint32_t c, uint32_t segments,
                                        uint32_t* out) {
  host_msm<Bn254Fq>(bases, scalars, 8, 254, n, c, segments, out);
}

extern "C" void offload_check_msm_bls12_381(const uint32_t* bases, const uint32_t* scalars,
                                            uint32_t n, uint32_t c, uint32_t segments,
                                            uint32_t* out) {
  host_msm<Bls12381Fq>(bases, scalars, 8, 255, n, c, segments, out);
}

#include "ed25519.cuh"

// 2^255 − 19, inputs any 256-bit values: out = [a + b, a − b, a·b, a², −a, a^(p−2),
// a^((p−5)/8), a], each canonical, 8 words.
extern "C" void offload_check_fe25519(const uint32_t* a, const uint32_t* b, uint32_t* out) {
  typedef Fe25519 F;
  F x = F::from_words(a), y = F::from_words(b);
  F r[8] = {F::add(x, y), F::sub(x, y), F::mul(x, y),      F::sqr(x),
            F::neg(x),    F::invert(x), F::pow22523(x),    x};
  for (int k = 0; k < 8; k++) {
    F c = F::canonical(r[k]);
    for (int i = 0; i < 8; i++) out[k * 8 + i] = c.v[i];
  }
}

// Decode p and q (8 words each); out = encodings of p + q, 2p, p − q, 8p. Returns bit 0: p
// decoded, bit 1: q decoded, bit 2: p is of small order, bit 3: the encoding is canonical.
extern "C" int offload_check_ed25519_points(const uint32_t* p, const uint32_t* q,
                                            uint32_t* out) {
  Ed25519Point a, b;
  int flags = 0;
  if (Ed25519Point::decompress(p, a)) flags |= 1;
  if (Ed25519Point::decompress(q, b)) flags |= 2;
  if (ed25519_canonical(p)) flags |= 8;
  if ((flags & 3) != 3) return flags;
  if (Ed25519Point::is_small_order(a)) flags |= 4;
  Ed25519Cached bc = Ed25519Cached::from(b);
  Ed25519Point r[4] = {Ed25519Cached::add(a, bc), Ed25519Point::dbl(a),
                       Ed25519Cached::add(a, Ed25519Cached::neg(bc)),
                       Ed25519Point::mul_by_cofactor(a)};
  for (int k = 0; k < 4; k++) Ed25519Point::compress(r[k], out + 8 * k);
  return flags;
}

// The encoding of [a]P + [b]B (canonical scalars of 8 words); false if P does not decode.
extern "C" bool offload_check_ed25519_double_mul(const uint32_t* a, const uint32_t* p,
                                                 const uint32_t* b, uint32_t* out) {
  Ed25519Point pt;
  if (!Ed25519Point::decompress(p, pt)) return false;
  Ed25519Point::compress(ed25519_double_mul(a, pt, b), out);
  return true;
}

// A 512-bit little-endian integer (16 words) mod ℓ.
extern "C" void offload_check_scalar_reduce512(const uint32_t* x, uint32_t* out) {
  Ed25519Scalar s = scalar_reduce512(x);
  for (int i = 0; i < 8; i++) out[i] = s.v[i];
}

// SHA-512(r ‖ a ‖ msg[off..off+len]) as 16 little-endian words, and that value mod ℓ.
extern "C" void offload_check_ed25519_hram(const uint32_t* r, const uint32_t* a,
                                           const uint32_t* msg, uint64_t off, uint64_t len,
                                           uint32_t* digest, uint32_t* k) {
  sha512_hram(r, a, msg, off, len, digest);
  Ed25519Scalar s = scalar_reduce512(digest);
  for (int i = 0; i < 8; i++) k[i] = s.v[i];
}

// Every kernel one to one, for the host executor (src/exec.rs): `b` holds the launch's buffer
// arguments and `x` its integer arguments, each in the order the kernel declares them, and the
// grid's threads run in a loop with the kernel's own bounds check (kernels that share memory
// within a block run block by block). −1: no such kernel, or the wrong number of arguments;
// −2: a block shape the kernel cannot run with.
#include <string>
#include <vector>

template <class F>
static int host_ntt(const std::string& kind, uint32_t* const* b, uint32_t nb, const uint64_t* x,
                    uint32_t nx, uint64_t threads, uint32_t block_dim) {
  if (kind == "bitrev" && nb == 1 && nx == 2) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0]) bitrev_step<F>(reinterpret_cast<F*>(b[0]), t, (uint32_t)x[1]);
    return 0;
  }
  if (kind == "ntt_pass" && nb == 3 && nx == 6) {
    // Block by block, each phase for all of the block's threads before the next phase: what
    // __syncthreads orders on the device.
    NttPass p{(uint32_t)x[0], (uint32_t)x[1], (uint32_t)x[2],
              (uint32_t)x[3], (uint32_t)x[4], (uint32_t)x[5]};
    F* data = reinterpret_cast<F*>(b[0]);
    const F* tw = reinterpret_cast<const F*>(b[1]);
    const F* table = reinterpret_cast<const F*>(b[2]);
    uint32_t bt = p.block_threads();
    // The device would silently compute something else with another block shape.
    if (block_dim != bt || threads % bt != 0) return -2;
    std::vector<F> tile(p.block_elements());
    for (uint64_t block = 0; block < threads / bt; block++) {
      for (uint32_t k = 0; k < bt; k++) ntt_pass_load<F>(p, data, table, tile.data(), block, k);
      for (uint32_t step = 0; step < p.stages; step++)
        for (uint32_t k = 0; k < bt; k++)
          ntt_pass_stage<F>(p, tw, tile.data(), block, k, ntt_pass_level(p, step));
      for (uint32_t k = 0; k < bt; k++) ntt_pass_store<F>(p, data, table, tile.data(), block, k);
    }
    return 0;
  }
  return -1;
}

template <class F>
static int host_msm_curve(const std::string& kind, uint32_t* const* b, uint32_t nb,
                          const uint64_t* x, uint32_t nx, uint64_t threads) {
  typedef Xyzz<F> G;
  if (kind == "msm_accumulate" && nb == 5 && nx == 1) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0])
        msm_accumulate_step<F>(reinterpret_cast<const Affine<F>*>(b[0]), b[1], b[2], b[3],
                               (uint32_t)t, reinterpret_cast<G*>(b[4]));
    return 0;
  }
  if (kind == "msm_reduce" && nb == 2 && nx == 3) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0])
        msm_reduce_step<F>(reinterpret_cast<const G*>(b[0]), (uint32_t)t, (uint32_t)x[1],
                           (uint32_t)x[2], reinterpret_cast<G*>(b[1]));
    return 0;
  }
  if (kind == "msm_window_sum" && nb == 2 && nx == 2) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0])
        msm_window_sum_step<F>(reinterpret_cast<const G*>(b[0]), (uint32_t)t, (uint32_t)x[1],
                               reinterpret_cast<G*>(b[1]));
    return 0;
  }
  if (kind == "msm_combine" && nb == 2 && nx == 2) {
    if (threads > 0)
      *reinterpret_cast<G*>(b[1]) =
          msm_combine<F>(reinterpret_cast<const G*>(b[0]), (uint32_t)x[0], (uint32_t)x[1]);
    return 0;
  }
  return -1;
}

static bool split(const std::string& name, const char* suffix, std::string& kind) {
  std::string s = std::string("_") + suffix;
  if (name.size() <= s.size() || name.compare(name.size() - s.size(), s.size(), s) != 0)
    return false;
  kind = name.substr(0, name.size() - s.size());
  return true;
}

extern "C" int offload_host_launch(const char* kernel, uint32_t* const* b, uint32_t nb,
                                   const uint64_t* x, uint32_t nx, uint64_t threads,
                                   uint32_t block_dim) {
  std::string name(kernel), kind;
  if (split(name, "bn254_fr", kind)) return host_ntt<Bn254Fr>(kind, b, nb, x, nx, threads, block_dim);
  if (split(name, "bls12_381_fr", kind)) return host_ntt<Bls12381Fr>(kind, b, nb, x, nx, threads, block_dim);
  if (split(name, "babybear", kind)) return host_ntt<BabyBear>(kind, b, nb, x, nx, threads, block_dim);
  if (split(name, "goldilocks", kind)) return host_ntt<Goldilocks>(kind, b, nb, x, nx, threads, block_dim);
  if (split(name, "bn254", kind)) return host_msm_curve<Bn254Fq>(kind, b, nb, x, nx, threads);
  if (split(name, "bls12_381", kind))
    return host_msm_curve<Bls12381Fq>(kind, b, nb, x, nx, threads);
  if (name == "ed25519_verify" && nb == 5 && nx == 2) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0]) ed25519_verify_step(b[0], b[1], b[2], b[3], b[4], (uint32_t)t, (uint32_t)x[1]);
    return 0;
  }
  if (name == "msm_digits" && nb == 3 && nx == 4) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[1])
        msm_digits_step(b[0], (uint32_t)x[0], (uint32_t)t, (uint32_t)x[1], (uint32_t)x[2],
                        (uint32_t)x[3], b[1], b[2]);
    return 0;
  }
  if (name == "msm_histogram" && nb == 2 && nx == 1) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0]) msm_histogram_step(b[0], t, b[1]);
    return 0;
  }
  if (name == "msm_scan" && nb == 3 && nx == 3) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0])
        msm_scan_step(b[0], (uint32_t)t, (uint32_t)x[1], (uint32_t)x[2], b[1], b[2]);
    return 0;
  }
  if (name == "msm_scatter" && nb == 4 && nx == 1) {
    for (uint64_t t = 0; t < threads; t++)
      if (t < x[0]) msm_scatter_step(b[0], b[1], t, b[2], b[3]);
    return 0;
  }
  return -1;
}
