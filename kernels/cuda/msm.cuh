// The bucket method for G1 MSM, as steps a GPU runs one thread each (the host emulation in
// host_check.cpp runs the same steps in loops):
//   digits      signed c-bit digits of each scalar, one (bucket, point ± sign) entry per window
//   histogram   points per bucket
//   scan        each window's bucket offsets (window w's entries live at w·n .. w·n + n)
//   scatter     the entries grouped by bucket: a counting sort
//   accumulate  each bucket's sum (mixed additions; the doubling case handled by the formula)
//   reduce      Σ (b + 1)·B_b per window, in segments: Σ (j − a + 1)·B_j + a·Σ B_j
//   window_sum  a window's segments added
//   combine     Σ 2^(c·w)·W_w, Horner from the top window
// The order of additions within a bucket depends on the scatter's atomics, so XYZZ results can
// differ run to run, but the group element cannot: the affine result is bit-identical.
#pragma once
#include "curve.cuh"

namespace offload {

#if defined(__CUDA_ARCH__)
HD uint32_t atomic_add_u32(uint32_t* p, uint32_t v) { return atomicAdd(p, v); }
#else
HD uint32_t atomic_add_u32(uint32_t* p, uint32_t v) {
  uint32_t old = *p;
  *p = old + v;
  return old;
}
#endif

// Key of an entry whose digit is zero: in no bucket.
constexpr uint32_t NO_BUCKET = 0xffffffffu;
constexpr uint32_t SIGN = 0x80000000u;

// Bits [at, at + c) of a little-endian scalar of `words` 32-bit words; zero past its end.
HD uint32_t scalar_bits(const uint32_t* s, uint32_t words, uint32_t at, uint32_t c) {
  uint32_t w = at >> 5, sh = at & 31;
  uint64_t lo = w < words ? s[w] : 0;
  uint64_t hi = (w + 1) < words ? s[w + 1] : 0;
  return (uint32_t)((((hi << 32) | lo) >> sh) & ((1ull << c) - 1));
}

// Windows for `bits`-bit scalars: one more bit than the scalar, for the last carry.
HD uint32_t msm_windows(uint32_t bits, uint32_t c) { return (bits + 1 + c - 1) / c; }

// Thread i of n (n < 2^31; c in 2..=24).
HD void msm_digits_step(const uint32_t* scalars, uint32_t words, uint32_t i, uint32_t n,
                        uint32_t c, uint32_t windows, uint32_t* keys, uint32_t* values) {
  const uint32_t* s = scalars + (uint64_t)i * words;
  uint32_t half = 1u << (c - 1);
  uint32_t carry = 0;
  for (uint32_t w = 0; w < windows; w++) {
    uint32_t raw = scalar_bits(s, words, w * c, c) + carry;
    uint32_t mag = raw, sign = 0;
    carry = 0;
    if (raw > half) {
      mag = (1u << c) - raw;
      sign = SIGN;
      carry = 1;
    }
    uint64_t e = (uint64_t)w * n + i;
    keys[e] = mag == 0 ? NO_BUCKET : w * half + (mag - 1);
    values[e] = i | sign;
  }
}

// Thread e of windows·n. `counts` starts at zero.
HD void msm_histogram_step(const uint32_t* keys, uint64_t e, uint32_t* counts) {
  if (keys[e] != NO_BUCKET) atomic_add_u32(&counts[keys[e]], 1);
}

// Thread w of windows: offsets (and the scatter's cursors) of window w's buckets.
HD void msm_scan_step(const uint32_t* counts, uint32_t w, uint32_t half, uint32_t n,
                      uint32_t* offsets, uint32_t* cursors) {
  uint32_t at = w * n;
  for (uint32_t b = w * half; b < (w + 1) * half; b++) {
    offsets[b] = at;
    cursors[b] = at;
    at += counts[b];
  }
}

// Thread e of windows·n.
HD void msm_scatter_step(const uint32_t* keys, const uint32_t* values, uint64_t e,
                         uint32_t* cursors, uint32_t* list) {
  if (keys[e] != NO_BUCKET) list[atomic_add_u32(&cursors[keys[e]], 1)] = values[e];
}

// Thread b of windows·half.
template <class F>
HD void msm_accumulate_step(const Affine<F>* bases, const uint32_t* list, const uint32_t* offsets,
                            const uint32_t* counts, uint32_t b, Xyzz<F>* buckets) {
  Xyzz<F> acc = Xyzz<F>::infinity();
  for (uint32_t k = 0; k < counts[b]; k++) {
    uint32_t v = list[offsets[b] + k];
    Affine<F> p = bases[v & ~SIGN];
    if ((v & SIGN) && !p.is_inf()) p.y = F::neg(p.y);
    acc = Xyzz<F>::add_affine(acc, p);
  }
  buckets[b] = acc;
}

template <class F>
HD Xyzz<F> mul_small(const Xyzz<F>& p, uint32_t k) {
  Xyzz<F> acc = Xyzz<F>::infinity();
  for (int bit = 31; bit >= 0; bit--) {
    acc = Xyzz<F>::dbl(acc);
    if ((k >> bit) & 1) acc = Xyzz<F>::add(acc, p);
  }
  return acc;
}

// Thread t of windows·segments: segment t % segments of window t / segments (segments divides
// half).
template <class F>
HD void msm_reduce_step(const Xyzz<F>* buckets, uint32_t t, uint32_t half, uint32_t segments,
                        Xyzz<F>* partial) {
  uint32_t w = t / segments, s = t % segments;
  uint32_t len = half / segments;
  uint32_t a = s * len;
  const Xyzz<F>* b = buckets + (uint64_t)w * half;
  Xyzz<F> running = Xyzz<F>::infinity(), weighted = Xyzz<F>::infinity();
  for (uint32_t j = a + len; j-- > a;) {
    running = Xyzz<F>::add(running, b[j]);
    weighted = Xyzz<F>::add(weighted, running);
  }
  partial[t] = Xyzz<F>::add(weighted, mul_small(running, a));
}

// Thread w of windows.
template <class F>
HD void msm_window_sum_step(const Xyzz<F>* partial, uint32_t w, uint32_t segments,
                            Xyzz<F>* window_sums) {
  Xyzz<F> acc = Xyzz<F>::infinity();
  for (uint32_t s = 0; s < segments; s++) acc = Xyzz<F>::add(acc, partial[w * segments + s]);
  window_sums[w] = acc;
}

// One thread.
template <class F>
HD Xyzz<F> msm_combine(const Xyzz<F>* window_sums, uint32_t windows, uint32_t c) {
  Xyzz<F> acc = Xyzz<F>::infinity();
  for (uint32_t w = windows; w-- > 0;) {
    for (uint32_t k = 0; k < c; k++) acc = Xyzz<F>::dbl(acc);
    acc = Xyzz<F>::add(acc, window_sums[w]);
  }
  return acc;
}

}  // namespace offload
