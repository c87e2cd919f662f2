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
    /// Canonical in and out: [a + b, a − b, a·b].
    pub fn offload_check_babybear(a: u32, b: u32, out: *mut u32);
    pub fn offload_check_goldilocks(a: u64, b: u64, out: *mut u64);
    /// The NTT kernels' grid on the host: bit reversal, DIT stages with `tw` (ω^k, k < n/2),
    /// then × `table` (per element) unless it is null. Montgomery form throughout.
    pub fn offload_check_ntt_babybear(
        data: *mut u32,
        columns: u32,
        log_n: u32,
        tw: *const u32,
        table: *const u32,
    );
    pub fn offload_check_ntt_bn254_fr(
        data: *mut u32,
        columns: u32,
        log_n: u32,
        tw: *const u32,
        table: *const u32,
    );
}
