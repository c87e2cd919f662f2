//! Compiles the device arithmetic for the host (`cuda/host_check.cpp`), so that `cargo test`
//! checks the kernels' field and NTT code against arkworks and Plonky3 on a machine with no GPU.

fn main() {
    println!("cargo:rerun-if-changed=cuda");
    cc::Build::new()
        .cpp(true)
        .file("cuda/host_check.cpp")
        .flag_if_supported("-std=c++17")
        .opt_level(2)
        .warnings(true)
        .compile("offload_host_check");
}
