//! Opening devices: each spec to a probed backend, or the reason it is absent. Blocking (a
//! probe runs a job on the device); async callers run it on a blocking thread.

use crate::spec::DeviceSpec;
use offload_core::cpu::CpuBackend;
use offload_core::Backend;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// A device named in the configuration that is not serving, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Absent {
    pub name: String,
    pub why: String,
}

/// The backends a daemon or a bench runs on: the CPU first (the fallback that runs every
/// job), then each device that opened, in the order named.
pub struct Registry {
    pub backends: Vec<Arc<dyn Backend>>,
    pub absent: Vec<Absent>,
}

impl Registry {
    /// `cpu` first, then each device `specs` name that opens.
    pub fn open(cpu: CpuBackend, specs: &[DeviceSpec]) -> Self {
        let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(cpu)];
        let mut absent = Vec::new();
        for spec in specs {
            // Names tell lanes apart in reports, metrics and --prefer-backend: a second FPGA
            // engine is "fpga-sim-2"; the GPU backend drives the one GPU the driver finds.
            let taken = |n: &str| {
                backends.iter().any(|b| b.name() == n)
                    || absent.iter().any(|a: &Absent| a.name == n)
            };
            let name = match (taken(spec.name()), spec) {
                (false, _) => spec.name().to_string(),
                (true, DeviceSpec::Fpga { .. } | DeviceSpec::FpgaSim { .. }) => (2..)
                    .map(|k| format!("{}-{k}", spec.name()))
                    .find(|n| !taken(n))
                    .unwrap_or_default(),
                (true, _) => {
                    absent.push(Absent {
                        name: spec.name().into(),
                        why: "named twice: the GPU backend serves the one GPU it finds".into(),
                    });
                    continue;
                }
            };
            match open_named(spec, &name) {
                Ok(b) => backends.push(b),
                Err(a) => absent.push(a),
            }
        }
        Self { backends, absent }
    }

    /// The backend failed and timed-out jobs re-run on: the first whose capabilities cover
    /// every job (the CPU's do).
    pub fn fallback(&self) -> Option<usize> {
        self.backends
            .iter()
            .position(|b| offload_core::caps::covers_everything(&b.capabilities()))
    }
}

/// Open and probe the device `spec` names. A panic while opening (a driver's) is an absence,
/// never a crash of the caller.
pub fn open(spec: &DeviceSpec) -> Result<Arc<dyn Backend>, Absent> {
    open_named(spec, spec.name())
}

fn open_named(spec: &DeviceSpec, name: &str) -> Result<Arc<dyn Backend>, Absent> {
    let absent = |why: String| Absent {
        name: name.into(),
        why,
    };
    match std::panic::catch_unwind(AssertUnwindSafe(|| open_device(spec, name))) {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(why)) => Err(absent(why)),
        Err(p) => {
            let why = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(absent(format!("opening panicked: {why}")))
        }
    }
}

fn open_device(spec: &DeviceSpec, name: &str) -> Result<Arc<dyn Backend>, String> {
    match spec {
        DeviceSpec::Fpga { .. } | DeviceSpec::FpgaSim { .. } => fpga::open(spec, name),
        DeviceSpec::Cuda | DeviceSpec::CudaEmulated { .. } => cuda::open(spec),
    }
}

#[cfg(feature = "fpga")]
mod fpga {
    use super::*;
    use offload_core::job::FieldId;
    use offload_fpga::{mmio::MmioDevice, sim, FpgaBackend};

    pub fn open(spec: &DeviceSpec, name: &str) -> Result<Arc<dyn Backend>, String> {
        let (bus, clock_mhz) = match spec {
            DeviceSpec::FpgaSim { sim: s, clock_mhz } => {
                let bus = match s.field {
                    FieldId::Goldilocks => sim::goldilocks(s.max_log, s.lanes),
                    _ => sim::babybear(s.max_log, s.lanes),
                }
                .map_err(|e| e.to_string())?;
                (bus, *clock_mhz)
            }
            DeviceSpec::Fpga { path, clock_mhz } => {
                let dev = MmioDevice::open(path).map_err(|e| e.to_string())?;
                (Box::new(dev) as _, *clock_mhz)
            }
            _ => unreachable!("only FPGA specs come here"),
        };
        let b = FpgaBackend::open(name, bus, clock_mhz).map_err(|e| format!("probe: {e}"))?;
        Ok(Arc::new(b))
    }
}

#[cfg(not(feature = "fpga"))]
mod fpga {
    use super::*;

    pub fn open(_: &DeviceSpec, _: &str) -> Result<Arc<dyn Backend>, String> {
        Err("this build has no fpga feature".into())
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use super::*;
    use offload_gpu::backend::GpuBackend;

    pub fn open(spec: &DeviceSpec) -> Result<Arc<dyn Backend>, String> {
        if let DeviceSpec::CudaEmulated { max_log } = spec {
            let b = GpuBackend::host_emulation(*max_log).map_err(|e| e.to_string())?;
            return Ok(Arc::new(b));
        }
        let gpu = offload_gpu::probe().map_err(|e| e.to_string())?;
        let b = GpuBackend::cuda(&gpu).map_err(|e| {
            format!(
                "{} (compute {}.{}): {e}",
                gpu.name, gpu.compute_capability.0, gpu.compute_capability.1
            )
        })?;
        Ok(Arc::new(b))
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::*;

    pub fn open(_: &DeviceSpec) -> Result<Arc<dyn Backend>, String> {
        Err("this build has no cuda feature".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SimFpga;
    use offload_core::job::FieldId;

    #[test]
    fn the_cpu_comes_first_and_absent_devices_say_why() {
        let specs = [
            DeviceSpec::FpgaSim {
                sim: SimFpga {
                    field: FieldId::Goldilocks,
                    max_log: 6,
                    lanes: 2,
                },
                clock_mhz: 100.0,
            },
            DeviceSpec::Fpga {
                path: "/dev/null".into(),
                clock_mhz: 100.0,
            },
            DeviceSpec::CudaEmulated { max_log: 10 },
        ];
        let r = Registry::open(CpuBackend::new(), &specs);
        let names: Vec<&str> = r.backends.iter().map(|b| b.name()).collect();
        assert_eq!(names, ["cpu", "fpga-sim", "cuda-emulated"]);
        assert_eq!(r.fallback(), Some(0));
        assert_eq!(r.absent.len(), 1, "{:?}", r.absent);
        assert_eq!(r.absent[0].name, "fpga");
        assert!(!r.absent[0].why.is_empty());
    }

    #[test]
    fn devices_named_twice_get_names_of_their_own() {
        let specs: Vec<DeviceSpec> = ["fpga-sim:6", "fpga-sim:goldilocks:6", "cuda-emulated:8"]
            .iter()
            .chain(&["cuda-emulated:8"])
            .map(|t| DeviceSpec::parse(t, 100.0).unwrap())
            .collect();
        let r = Registry::open(CpuBackend::new(), &specs);
        let names: Vec<&str> = r.backends.iter().map(|b| b.name()).collect();
        assert_eq!(names, ["cpu", "fpga-sim", "fpga-sim-2", "cuda-emulated"]);
        assert_eq!(r.absent.len(), 1, "{:?}", r.absent);
        assert!(r.absent[0].why.contains("named twice"));
    }
}
