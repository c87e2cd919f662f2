// Shared by every kernel and by the host build of the arithmetic (cargo test compiles these
// headers with the host C++ compiler and checks them against arkworks and Plonky3).
#pragma once

#if defined(__CUDACC__)
#define HD __host__ __device__ __forceinline__
#define UNROLL _Pragma("unroll")
#else
#define HD inline
#define UNROLL
#endif

#if defined(__CUDACC_RTC__)
// NVRTC ships no C library headers.
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
#else
#include <stdint.h>
#endif

namespace offload {

// High 64 bits of a 64×64 product.
HD uint64_t mul_hi64(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  return (uint64_t)(((unsigned __int128)a * b) >> 64);
#endif
}

}  // namespace offload
