//! Offload's FPGA cores, written with rust-hdl: field arithmetic for the STARK fields, the NTT
//! butterfly and engine, and the BN254 Montgomery multiplier, plus the Verilog export and the
//! open-flow (yosys, nextpnr, ecppack) driver.
//!
//! Widths are explicit everywhere: every operand is cast to the width of its result before an
//! add, subtract or shift, so the Rust simulation (which wraps at the operand width) and the
//! exported Verilog (which sizes expressions by context) compute the same bits.

pub mod babybear;
pub mod bank;
pub mod bn254;
pub mod butterfly;
pub mod catalog;
pub mod flow;
pub mod goldilocks;
pub mod memory;
pub mod ntt;
pub mod schedule;
pub mod sim;
