//! The kernels' arithmetic compiled for the host (`cuda/host_check.cpp`), for the tests: limbs
//! in and out exactly as the device sees them. Not used in production.

extern "C" {
    /// out = [a + b, a − b, a·b, −a, from_canonical(a), to_canonical(a)], 8 limbs each.
    pub fn offload_check_bn254_fr(a: *const u32, b: *const u32, out: *mut u32);
    pub fn offload_check_bn254_fq(a: *const u32, b: *const u32, out: *mut u32);
    pub fn offload_check_bls12_381_fr(a: *const u32, b: *const u32, out: *mut u32);
    /// As above with 12 limbs each.
    pub fn offload_check_bls12_381_fq(a: *const u32, b: *const u32, out: *mut u32);
    pub fn offload_check_bn254_fr_pow(x: *const u32, e: *const u32, words: i32, out: *mut u32);
    /// For affine p, q (x, y; (0, 0) = infinity): four XYZZ points (x, y, zz, zzz):
    /// p + q, 2p + q (affine operand), 2p + 2q, 4p.
    pub fn offload_check_g1_bn254(p: *const u32, q: *const u32, out: *mut u32);
    pub fn offload_check_g1_bls12_381(p: *const u32, q: *const u32, out: *mut u32);
    /// The MSM kernels' steps on the host: n affine bases (2N words each, (0, 0) = infinity),
    /// n canonical scalars of 8 words, window c, reduction segments per window; the XYZZ
    /// result (4N words) in `out`.
    pub fn offload_check_msm_bn254(
        bases: *const u32,
        scalars: *const u32,
        n: u32,
        c: u32,
        segments: u32,
        out: *mut u32,
    );
    pub fn offload_check_msm_bls12_381(
        bases: *const u32,
        scalars: *const u32,
        n: u32,
        c: u32,
        segments: u32,
        out: *mut u32,
    );
    /// One launch of any kernel over its whole grid: `bufs` the buffer arguments and `nums`
    /// the integer ones, each in the kernel's order, `block` threads to a block. −1 for an
    /// unknown kernel or arity, −2 for a block shape the kernel cannot run with.
    pub fn offload_host_launch(
        kernel: *const std::ffi::c_char,
        bufs: *const *mut u32,
        nbufs: u32,
        nums: *const u64,
        nnums: u32,
        threads: u64,
        block: u32,
    ) -> i32;
    /// 2^255 − 19, any 256-bit inputs: [a + b, a − b, a·b, a², −a, a^(p−2), a^((p−5)/8), a],
    /// each canonical, 8 words.
    pub fn offload_check_fe25519(a: *const u32, b: *const u32, out: *mut u32);
    /// Decode p and q (8 words each); `out` gets the encodings of p + q, 2p, p − q, 8p.
    /// Returns bit 0: p decoded, 1: q decoded, 2: p of small order, 3: p's encoding canonical.
    pub fn offload_check_ed25519_points(p: *const u32, q: *const u32, out: *mut u32) -> i32;
    /// The encoding of [a]P + [b]B; false if P does not decode.
    pub fn offload_check_ed25519_double_mul(
        a: *const u32,
        p: *const u32,
        b: *const u32,
        out: *mut u32,
    ) -> bool;
    /// A 512-bit little-endian integer (16 words) mod ℓ, canonical.
    pub fn offload_check_scalar_reduce512(x: *const u32, out: *mut u32);
    /// SHA-512(r ‖ a ‖ msg[off..off + len]) as 16 little-endian words, and that mod ℓ.
    pub fn offload_check_ed25519_hram(
        r: *const u32,
        a: *const u32,
        msg: *const u32,
        off: u64,
        len: u64,
        digest: *mut u32,
        k: *mut u32,
    );
    /// Canonical in and out: [a + b, a − b, a·b].
    pub fn offload_check_babybear(a: u32, b: u32, out: *mut u32);
    pub fn offload_check_goldilocks(a: u64, b: u64, out: *mut u64);
}
