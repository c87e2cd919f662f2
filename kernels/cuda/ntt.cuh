// NTT steps over any of the fields in fields.cuh, written once for the device and for the host
// emulation that the CPU tests run. A batch is a run of transforms of n = 2^log_n elements
// each, back to back; the column is simply the index bits above log_n.
//
// The transform is a few passes, each of which reads every element once, runs several radix-2
// stages on it in shared memory and writes it back once, so a pass costs one round trip to
// global memory whatever number of stages it does. A pass covers the stages that pair index
// bits s0 .. s0 + stages − 1: a tile is the 2^stages elements that differ only in those bits.
// Where s0 > 0 a tile's elements lie 2^s0 apart, so a block takes 2^log_run tiles whose low
// bits are consecutive and loads them as runs of 2^log_run adjacent elements (coalesced), and
// where tiles are small it takes 2^log_rep of them to keep its threads busy. One thread per
// butterfly of the block; the caller sizes the block to half its elements.
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

// Pass flags.
#define OFFLOAD_NTT_DIF 1u         // Gentleman–Sande stages, highest first (natural in)
#define OFFLOAD_NTT_SCALE_LOAD 2u  // × table[i mod n] as elements are read
#define OFFLOAD_NTT_SCALE_STORE 4u // × table[i mod n] as elements are written

struct NttPass {
  uint32_t log_n, s0, stages, log_run, log_rep, flags;

  HD uint32_t tile_bits() const { return stages + log_run; }
  // Elements in a block's shared tile, and threads in the block.
  HD uint32_t block_elements() const { return 1u << (tile_bits() + log_rep); }
  HD uint32_t block_threads() const { return block_elements() >> 1; }

  // The batch index of the block's element e = (h, t, u): tile h of the block, position t in
  // the tile, u in the run.
  HD uint64_t index(uint64_t block, uint32_t e) const {
    uint32_t u = e & ((1u << log_run) - 1);
    uint32_t t = (e >> log_run) & ((1u << stages) - 1);
    uint64_t tile = (block << log_rep) | (e >> tile_bits());
    uint32_t lo_bits = s0 - log_run;
    uint64_t hi = tile >> lo_bits;
    uint64_t lo_run = tile & ((1ull << lo_bits) - 1);
    return (hi << (s0 + stages)) | ((uint64_t)t << s0) | (lo_run << log_run) | u;
  }
};

// Phase one: the block's thread k reads two elements into the tile.
template <class F>
HD void ntt_pass_load(const NttPass& p, const F* data, const F* table, F* tile, uint64_t block,
                      uint32_t k) {
  uint64_t mask = (1ull << p.log_n) - 1;
  for (uint32_t e = k; e < p.block_elements(); e += p.block_threads()) {
    uint64_t i = p.index(block, e);
    F x = data[i];
    if (p.flags & OFFLOAD_NTT_SCALE_LOAD) x = F::mul(x, table[i & mask]);
    tile[e] = x;
  }
}

// Phase two, once per stage: thread k's butterfly at tile level l (global stage s0 + l, whose
// pairs are 2^(s0 + l) apart). `tw` holds ω^j for j < n/2.
template <class F>
HD void ntt_pass_stage(const NttPass& p, const F* tw, F* tile, uint64_t block, uint32_t k,
                       uint32_t l) {
  uint32_t h = k >> (p.tile_bits() - 1);
  uint32_t kk = k & ((1u << (p.tile_bits() - 1)) - 1);
  uint32_t u = kk & ((1u << p.log_run) - 1);
  uint32_t q = kk >> p.log_run;
  uint32_t low = q & ((1u << l) - 1);
  uint32_t t0 = ((q >> l) << (l + 1)) | low;
  uint32_t t1 = t0 | (1u << l);
  uint32_t base = h << p.tile_bits();
  uint32_t e0 = base | (t0 << p.log_run) | u;
  uint32_t e1 = base | (t1 << p.log_run) | u;
  // The pair's distance from the start of its group: index bits below the stage, of which
  // the run and the block's low tile bits are the ones under s0.
  uint64_t tile_id = (block << p.log_rep) | h;
  uint64_t below_s0 =
      ((tile_id & ((1ull << (p.s0 - p.log_run)) - 1)) << p.log_run) | (uint64_t)u;
  uint64_t j = ((uint64_t)low << p.s0) | below_s0;
  uint32_t s = p.s0 + l;
  F w = tw[j << (p.log_n - 1 - s)];
  F a = tile[e0], b = tile[e1];
  if (p.flags & OFFLOAD_NTT_DIF) {
    tile[e0] = F::add(a, b);
    tile[e1] = F::mul(F::sub(a, b), w);
  } else {
    b = F::mul(b, w);
    tile[e0] = F::add(a, b);
    tile[e1] = F::sub(a, b);
  }
}

// Phase three: thread k writes its two elements back.
template <class F>
HD void ntt_pass_store(const NttPass& p, F* data, const F* table, const F* tile, uint64_t block,
                       uint32_t k) {
  uint64_t mask = (1ull << p.log_n) - 1;
  for (uint32_t e = k; e < p.block_elements(); e += p.block_threads()) {
    uint64_t i = p.index(block, e);
    F x = tile[e];
    if (p.flags & OFFLOAD_NTT_SCALE_STORE) x = F::mul(x, table[i & mask]);
    data[i] = x;
  }
}

// The levels of a pass in the order its stages run: DIT from the lowest, DIF from the highest.
HD uint32_t ntt_pass_level(const NttPass& p, uint32_t step) {
  return (p.flags & OFFLOAD_NTT_DIF) ? p.stages - 1 - step : step;
}

}  // namespace offload
