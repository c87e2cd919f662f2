//! What the driver needs of a device: 32-bit register reads and writes.

/// Register access to one engine. Reading `DATA` takes the element it returns.
pub trait RegisterBus: Send {
    fn read(&mut self, reg: u64) -> Result<u32, DeviceError>;
    fn write(&mut self, reg: u64, value: u32) -> Result<(), DeviceError>;
    /// The device in words, e.g. "simulated BabyBear NTT engine, sizes to 2^10".
    fn describe(&self) -> String;
    /// Clock cycles elapsed, where the device counts them (the simulation does).
    fn cycles(&self) -> Option<u64> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("{0}")]
    Io(String),
    #[error("no answer before the deadline ({0})")]
    Timeout(&'static str),
    #[error("the device reported error {code} ({name})")]
    Device { code: u32, name: &'static str },
    #[error("{0}")]
    Unsupported(String),
    #[error("the device is still busy with another job")]
    Busy,
    #[error("simulation: {0}")]
    Sim(String),
    #[error("cancelled")]
    Cancelled,
}
