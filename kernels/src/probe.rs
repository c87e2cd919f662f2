//! Is there a GPU we can use? Answered without ever letting cudarc panic: the driver library
//! is looked for first, and everything after runs under `catch_unwind`.

use cudarc::driver::CudaContext;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The GPU the backend would run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuInfo {
    pub ordinal: usize,
    pub name: String,
    /// (major, minor), e.g. (9, 0) for Hopper.
    pub compute_capability: (i32, i32),
    pub total_mem: usize,
    pub devices: i32,
}

impl GpuInfo {
    /// The NVRTC virtual architecture for this device, capped at the newest one the kernels
    /// are built and tested for.
    pub fn arch(&self) -> &'static str {
        match self.compute_capability {
            (m, _) if m >= 9 => "compute_90",
            (8, n) if n >= 9 => "compute_89",
            (8, _) => "compute_80",
            _ => "compute_75",
        }
    }
}

/// Why there is no CUDA backend on this machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("libcuda.so (the NVIDIA driver) not found")]
    NoDriver,
    #[error("libnvrtc.so not found: {0}")]
    NoNvrtc(String),
    #[error("the CUDA driver reports no device")]
    NoDevice,
    #[error("the CUDA driver failed: {0}")]
    Driver(String),
}

/// The first GPU, or why there is none.
pub fn probe() -> Result<GpuInfo, Unavailable> {
    // SAFETY: the presence check only tries to open the library by its candidate names.
    let present = catch_unwind(|| unsafe { cudarc::driver::sys::is_culib_present() });
    if !matches!(present, Ok(true)) {
        return Err(Unavailable::NoDriver);
    }
    crate::compile::nvrtc_present().map_err(Unavailable::NoNvrtc)?;
    catch_unwind(AssertUnwindSafe(first_device))
        .unwrap_or_else(|_| Err(Unavailable::Driver("the driver library panicked".into())))
}

fn first_device() -> Result<GpuInfo, Unavailable> {
    let driver = |e: cudarc::driver::DriverError| Unavailable::Driver(format!("{e:?}"));
    let devices = CudaContext::device_count().map_err(driver)?;
    if devices < 1 {
        return Err(Unavailable::NoDevice);
    }
    let ctx = CudaContext::new(0).map_err(driver)?;
    Ok(GpuInfo {
        ordinal: 0,
        name: ctx.name().map_err(driver)?,
        compute_capability: ctx.compute_capability().map_err(driver)?,
        total_mem: ctx.total_mem().map_err(driver)?,
        devices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probing_never_panics_and_names_what_is_missing() {
        // SAFETY: as in probe().
        let driver = unsafe { cudarc::driver::sys::is_culib_present() };
        match probe() {
            Ok(gpu) => {
                assert!(driver && gpu.devices >= 1 && !gpu.name.is_empty());
                assert!(gpu.arch().starts_with("compute_"));
            }
            Err(why) => {
                assert!(!why.to_string().is_empty());
                if !driver {
                    assert_eq!(why, Unavailable::NoDriver);
                }
            }
        }
    }

    #[test]
    fn the_arch_follows_the_compute_capability() {
        let mut g = GpuInfo {
            ordinal: 0,
            name: "x".into(),
            compute_capability: (9, 0),
            total_mem: 0,
            devices: 1,
        };
        assert_eq!(g.arch(), "compute_90");
        g.compute_capability = (8, 0);
        assert_eq!(g.arch(), "compute_80");
        g.compute_capability = (8, 9);
        assert_eq!(g.arch(), "compute_89");
        g.compute_capability = (10, 0);
        assert_eq!(g.arch(), "compute_90");
    }
}
