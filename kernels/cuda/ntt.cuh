// Radix-2 NTT steps over any of the fields in fields.cuh, written once for the device (one
// thread per butterfly or element) and for the host emulation of the same grid that the CPU
// tests run. A batch is `columns` transforms of n elements, column c at data + c·n.
#pragma once
#include "fields.cuh"

namespace offload {

HD uint32_t bit_reverse(uint32_t x, uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return bits == 0 ? 0 : __brev(x) >> (32 - bits);
#else
  uint32_t r = 0;
  for (uint32_t i = 0; i < bits; i++) r |= ((x >> i) & 1u) << (bits - 1 - i);
  return r;
#endif
}

// Thread `tid` of n·columns: swap element i with its bit reversal (once per pair).
template <class F>
HD void bitrev_step(F* data, uint64_t tid, uint32_t log_n) {
  uint64_t n = 1ull << log_n;
  uint64_t c = tid >> log_n;
  uint32_t i = (uint32_t)(tid & (n - 1));
  uint32_t j = bit_reverse(i, log_n);
  if (i < j) {
    F* col = data + c * n;
    F t = col[i];
    col[i] = col[j];
    col[j] = t;
  }
}

// Thread `tid` of (n/2)·columns: one decimation-in-time butterfly of the stage whose pairs are
// 2^log_half apart. `tw` holds ω^k for k < n/2 (ω of order n, or its inverse).
template <class F>
HD void dit_step(F* data, const F* tw, uint64_t tid, uint32_t log_n, uint32_t log_half) {
  uint64_t n = 1ull << log_n;
  uint64_t c = tid >> (log_n - 1);
  uint32_t k = (uint32_t)(tid & ((n >> 1) - 1));
  uint32_t half = 1u << log_half;
  uint32_t j = k & (half - 1);
  uint32_t i0 = ((k >> log_half) << (log_half + 1)) | j;
  uint32_t i1 = i0 + half;
  F* col = data + c * n;
  F w = tw[(uint64_t)j << (log_n - 1 - log_half)];
  F a = col[i0];
  F b = F::mul(col[i1], w);
  col[i0] = F::add(a, b);
  col[i1] = F::sub(a, b);
}

// Thread `tid` of n·columns: element i times table[i] (the coset
// powers, the 1/n scaling, or both folded into one table by the caller).
template <class F>
HD void scale_step(F* data, const F* table, uint64_t tid, uint32_t log_n) {
  uint32_t i = (uint32_t)(tid & ((1ull << log_n) - 1));
  data[tid] = F::mul(data[tid], table[i]);
}

}  // namespace offload
