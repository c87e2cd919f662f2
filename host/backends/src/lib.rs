//! The backend registry. Everything that knows a device by name lives here: the spec an
//! operator writes ("fpga-sim:goldilocks:8x2", "cuda"), the constructor each device needs,
//! and the reason a named device is absent. The daemon and the CLI hand specs in and get
//! `dyn Backend`s out; neither names a device type.

mod open;
mod spec;

pub use open::{open, Absent, Registry};
pub use spec::{DeviceSpec, SimFpga, SpecError, EMULATED_GPU_MAX_LOG};
