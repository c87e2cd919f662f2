// NTT kernels: one launch per radix-2 stage over a batch in global memory, plus the bit
// reversal and the table multiply (coset shift, 1/n). A first, simple schedule, correct for
// every size and checked on the host; the shared-memory multi-stage schedule that reaches the
// bandwidth bound is the next step (it needs a GPU to tune).
#include "ntt.cuh"

using namespace offload;

#define OFFLOAD_NTT_KERNELS(F, SUFFIX)                                                        \
  extern "C" __global__ void bitrev_##SUFFIX(F* data, uint64_t total, uint32_t log_n) {      \
    uint64_t tid = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;                          \
    if (tid < total) bitrev_step<F>(data, tid, log_n);                                        \
  }                                                                                           \
  extern "C" __global__ void dit_##SUFFIX(F* data, const F* tw, uint64_t total,              \
                                          uint32_t log_n, uint32_t log_half) {               \
    uint64_t tid = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;                          \
    if (tid < total) dit_step<F>(data, tw, tid, log_n, log_half);                             \
  }                                                                                           \
  extern "C" __global__ void scale_##SUFFIX(F* data, const F* table, uint64_t total,         \
                                            uint32_t log_n) {                                 \
    uint64_t tid = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;                          \
    if (tid < total) scale_step<F>(data, table, tid, log_n);                                  \
  }

OFFLOAD_NTT_KERNELS(Bn254Fr, bn254_fr)
OFFLOAD_NTT_KERNELS(Bls12381Fr, bls12_381_fr)
OFFLOAD_NTT_KERNELS(BabyBear, babybear)
OFFLOAD_NTT_KERNELS(Goldilocks, goldilocks)
