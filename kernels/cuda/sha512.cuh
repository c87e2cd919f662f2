// SHA-512 (FIPS 180-4), for the Ed25519 challenge k = SHA-512(R ‖ A ‖ M): hashing on the device
// keeps the host out of the per-signature path. Checked against the sha2 crate by the host
// tests, padding boundaries included.
#pragma once
#include "common.cuh"

namespace offload {

// Round constants: the first 64 bits of the fractional parts of the cube roots of the first 80
// primes (kernels/tests/host_ed25519.rs checks the digests against sha2).
HD uint64_t sha512_k(int i) {
  const uint64_t t[80] = {
      0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
      0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
      0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
      0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
      0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
      0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
      0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
      0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
      0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
      0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
      0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
      0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
      0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
      0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
      0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
      0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
      0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
      0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
      0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
      0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
  };
  return t[i];
}

HD uint64_t sha512_h0(int i) {
  const uint64_t t[8] = {0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};
  return t[i];
}

HD uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

// One compression of a block of 16 big-endian words into h.
HD void sha512_block(uint64_t h[8], const uint64_t block[16]) {
  uint64_t w[16];
  UNROLL for (int i = 0; i < 16; i++) w[i] = block[i];
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  UNROLL for (int i = 0; i < 80; i++) {
    uint64_t wi;
    if (i < 16) {
      wi = w[i];
    } else {
      // The message schedule in a ring of 16: w[i mod 16] becomes w_i.
      uint64_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      uint64_t s0 = rotr64(w15, 1) ^ rotr64(w15, 8) ^ (w15 >> 7);
      uint64_t s1 = rotr64(w2, 19) ^ rotr64(w2, 61) ^ (w2 >> 6);
      wi = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
      w[i & 15] = wi;
    }
    uint64_t S1 = rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41);
    uint64_t ch = (e & f) ^ (~e & g);
    uint64_t t1 = hh + S1 + ch + sha512_k(i) + wi;
    uint64_t S0 = rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39);
    uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint64_t t2 = S0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

// Byte i of a byte string packed little-endian into 32-bit words (how every buffer reaches
// the device).
HD uint32_t byte_at(const uint32_t* words, uint64_t i) {
  return (words[i >> 2] >> (8 * (i & 3))) & 0xff;
}

// SHA-512 of a ‖ b ‖ msg[off .. off + len], where a and b are 32 bytes each (8 words): the
// digest as a 512-bit little-endian integer in 16 words, as Ed25519 reads it.
HD void sha512_hram(const uint32_t* a, const uint32_t* b, const uint32_t* msg, uint64_t off,
                    uint64_t len, uint32_t out[16]) {
  uint64_t h[8];
  UNROLL for (int i = 0; i < 8; i++) h[i] = sha512_h0(i);
  uint64_t total = 64 + len;
  // The message, 0x80, zeros, then the length in bits as a 128-bit big-endian integer.
  uint64_t blocks = (total + 17 + 127) / 128;
  uint64_t bits = total * 8;
  for (uint64_t blk = 0; blk < blocks; blk++) {
    uint64_t w[16];
    for (int q = 0; q < 16; q++) {
      uint64_t word = 0;
      for (int e = 0; e < 8; e++) {
        uint64_t j = blk * 128 + q * 8 + e;
        uint32_t byte;
        if (j < 32) {
          byte = byte_at(a, j);
        } else if (j < 64) {
          byte = byte_at(b, j - 32);
        } else if (j < total) {
          byte = byte_at(msg, off + (j - 64));
        } else if (j == total) {
          byte = 0x80;
        } else if (j >= blocks * 128 - 8) {
          byte = (uint32_t)(bits >> (8 * (blocks * 128 - 1 - j))) & 0xff;
        } else {
          byte = 0;
        }
        word = (word << 8) | byte;
      }
      w[q] = word;
    }
    sha512_block(h, w);
  }
  // Digest bytes are h[0] big-endian, then h[1], ...; read little-endian, word q of 64 bits
  // is h[q] byte-swapped.
  for (int q = 0; q < 8; q++) {
    uint64_t x = h[q], le = 0;
    for (int e = 0; e < 8; e++) le |= ((x >> (56 - 8 * e)) & 0xff) << (8 * e);
    out[2 * q] = (uint32_t)le;
    out[2 * q + 1] = (uint32_t)(le >> 32);
  }
}

}  // namespace offload
