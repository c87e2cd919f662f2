// MSM kernels for G1 of BN254 and BLS12-381: the steps of msm.cuh, one thread each. The host
// side (upload bases once, pick c, launch, chunk inputs larger than device memory) comes with
// the CUDA backend.
#include "msm.cuh"

using namespace offload;

#define TID ((uint64_t)blockIdx.x * blockDim.x + threadIdx.x)

extern "C" __global__ void msm_digits(const uint32_t* scalars, uint32_t words, uint32_t n,
                                      uint32_t c, uint32_t windows, uint32_t* keys,
                                      uint32_t* values) {
  if (TID < n) msm_digits_step(scalars, words, (uint32_t)TID, n, c, windows, keys, values);
}

extern "C" __global__ void msm_histogram(const uint32_t* keys, uint64_t total, uint32_t* counts) {
  if (TID < total) msm_histogram_step(keys, TID, counts);
}

extern "C" __global__ void msm_scan(const uint32_t* counts, uint32_t windows, uint32_t half,
                                    uint32_t n, uint32_t* offsets, uint32_t* cursors) {
  if (TID < windows) msm_scan_step(counts, (uint32_t)TID, half, n, offsets, cursors);
}

extern "C" __global__ void msm_scatter(const uint32_t* keys, const uint32_t* values,
                                       uint64_t total, uint32_t* cursors, uint32_t* list) {
  if (TID < total) msm_scatter_step(keys, values, TID, cursors, list);
}

#define OFFLOAD_MSM_KERNELS(F, SUFFIX)                                                        \
  extern "C" __global__ void msm_accumulate_##SUFFIX(                                         \
      const Affine<F>* bases, const uint32_t* list, const uint32_t* offsets,                  \
      const uint32_t* counts, uint32_t buckets_total, Xyzz<F>* buckets) {                     \
    if (TID < buckets_total)                                                                  \
      msm_accumulate_step<F>(bases, list, offsets, counts, (uint32_t)TID, buckets);           \
  }                                                                                           \
  extern "C" __global__ void msm_reduce_##SUFFIX(const Xyzz<F>* buckets, uint32_t total,     \
                                                 uint32_t half, uint32_t segments,            \
                                                 Xyzz<F>* partial) {                          \
    if (TID < total) msm_reduce_step<F>(buckets, (uint32_t)TID, half, segments, partial);    \
  }                                                                                           \
  extern "C" __global__ void msm_window_sum_##SUFFIX(const Xyzz<F>* partial,                 \
                                                     uint32_t windows, uint32_t segments,     \
                                                     Xyzz<F>* window_sums) {                  \
    if (TID < windows) msm_window_sum_step<F>(partial, (uint32_t)TID, segments, window_sums); \
  }                                                                                           \
  extern "C" __global__ void msm_combine_##SUFFIX(const Xyzz<F>* window_sums,                \
                                                  uint32_t windows, uint32_t c,               \
                                                  Xyzz<F>* out) {                             \
    if (TID == 0) *out = msm_combine<F>(window_sums, windows, c);                             \
  }

OFFLOAD_MSM_KERNELS(Bn254Fq, bn254)
OFFLOAD_MSM_KERNELS(Bls12381Fq, bls12_381)
