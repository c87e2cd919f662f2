// Ed25519 batch verification: one thread per signature, one verdict each (ed25519.cuh).
#include "ed25519.cuh"

using namespace offload;

extern "C" __global__ void ed25519_verify(const uint32_t* keys, const uint32_t* sigs,
                                          const uint32_t* msgs, const uint32_t* spans,
                                          uint32_t* out, uint32_t n, uint32_t policy) {
  uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) ed25519_verify_step(keys, sigs, msgs, spans, out, (uint32_t)i, policy);
}
