//! The FPGA backend. An NTT engine from `offload-hdl` sits behind its register map; this crate
//! drives that map over a [`RegisterBus`]: a memory-mapped region on a board (a PCIe BAR's
//! resource file or a device node) or the engine's cycle-accurate simulation, which serves
//! the same registers. The scheduler sees only the [`FpgaBackend`], which checks the device
//! against the CPU engine when it opens and hands every failure back for the CPU to re-run.

pub mod backend;
pub mod bus;
pub mod driver;
pub mod mmio;
pub mod sim;

pub use backend::FpgaBackend;
pub use bus::{DeviceError, RegisterBus};
