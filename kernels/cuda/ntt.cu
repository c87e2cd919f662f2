// NTT kernels: the multi-stage pass over shared memory (ntt.cuh says how a pass is laid out),
// and the bit reversal that the two same-order cases need besides.
#include "ntt.cuh"

using namespace offload;

// Dynamic shared memory is one untyped array for every field's instantiation.
extern __shared__ uint4 offload_ntt_tile[];

template <class F>
__device__ void ntt_pass(F* data, const F* tw, const F* table, NttPass p) {
  F* tile = reinterpret_cast<F*>(offload_ntt_tile);
  uint64_t block = blockIdx.x;
  uint32_t k = threadIdx.x;
  ntt_pass_load<F>(p, data, table, tile, block, k);
  __syncthreads();
  for (uint32_t step = 0; step < p.stages; step++) {
    ntt_pass_stage<F>(p, tw, tile, block, k, ntt_pass_level(p, step));
    __syncthreads();
  }
  ntt_pass_store<F>(p, data, table, tile, block, k);
}

#define OFFLOAD_NTT_KERNELS(F, SUFFIX)                                                        \
  extern "C" __global__ void bitrev_##SUFFIX(F* data, uint64_t total, uint32_t log_n) {      \
    uint64_t tid = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;                          \
    if (tid < total) bitrev_step<F>(data, tid, log_n);                                        \
  }                                                                                           \
  extern "C" __global__ void ntt_pass_##SUFFIX(F* data, const F* tw, const F* table,         \
                                               uint32_t log_n, uint32_t s0, uint32_t stages, \
                                               uint32_t log_run, uint32_t log_rep,           \
                                               uint32_t flags) {                             \
    ntt_pass<F>(data, tw, table, NttPass{log_n, s0, stages, log_run, log_rep, flags});       \
  }

OFFLOAD_NTT_KERNELS(Bn254Fr, bn254_fr)
OFFLOAD_NTT_KERNELS(Bls12381Fr, bls12_381_fr)
OFFLOAD_NTT_KERNELS(BabyBear, babybear)
OFFLOAD_NTT_KERNELS(Goldilocks, goldilocks)
