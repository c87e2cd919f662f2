//! Device specs: typed, parsed once, from flags or the configuration file.

use offload_core::job::FieldId;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("{spec}: {why}")]
    Malformed { spec: String, why: &'static str },
}

/// A simulated FPGA NTT engine: its field, largest transform (log2) and butterfly lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimFpga {
    pub field: FieldId,
    pub max_log: u32,
    pub lanes: u32,
}

const SIM_FORM: &str = "sim[:FIELD][:LOG[xLANES]], FIELD babybear or goldilocks";

impl SimFpga {
    /// `sim[:FIELD][:LOG[xLANES]]`: None when `spec` names no simulation (a board's path).
    pub fn parse(spec: &str) -> Option<Result<Self, SpecError>> {
        let bad = || SpecError::Malformed {
            spec: spec.to_string(),
            why: SIM_FORM,
        };
        let rest = match spec.strip_prefix("sim") {
            Some("") => "",
            Some(r) => match r.strip_prefix(':')? {
                "" => return Some(Err(bad())),
                r => r,
            },
            None => return None,
        };
        let (field, size) = match rest.split_once(':') {
            Some((f, size)) => (f, size),
            None if rest.chars().all(|c| c.is_ascii_digit() || c == 'x') => ("babybear", rest),
            None => (rest, ""),
        };
        let field = match field {
            "babybear" => FieldId::BabyBear,
            "goldilocks" => FieldId::Goldilocks,
            _ => return Some(Err(bad())),
        };
        let (log, lanes) = match size {
            "" => ("10", "1"),
            s => s.split_once('x').unwrap_or((s, "1")),
        };
        Some(match (log.parse(), lanes.parse()) {
            (Ok(max_log), Ok(lanes)) => Ok(Self {
                field,
                max_log,
                lanes,
            }),
            _ => Err(bad()),
        })
    }
}

/// One device backend to open.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceSpec {
    /// An FPGA board's register map (a UIO or PCI resource file) at `clock_mhz`.
    Fpga { path: PathBuf, clock_mhz: f64 },
    /// The FPGA engine's cycle-accurate simulation; `clock_mhz` is the clock its cycle counts
    /// are projected at.
    FpgaSim { sim: SimFpga, clock_mhz: f64 },
    /// The GPU the CUDA driver finds.
    Cuda,
    /// The GPU kernels' plans run on the host (bring-up and tests), NTTs up to 2^max_log.
    CudaEmulated { max_log: u32 },
}

impl DeviceSpec {
    /// The FPGA `value` names: a simulation (`sim...`) or a board's register-map path.
    pub fn fpga(value: &str, clock_mhz: f64) -> Result<Self, SpecError> {
        match SimFpga::parse(value) {
            Some(sim) => Ok(Self::FpgaSim {
                sim: sim?,
                clock_mhz,
            }),
            None => Ok(Self::Fpga {
                path: value.into(),
                clock_mhz,
            }),
        }
    }

    /// The backend's name in reports, metrics and `--prefer-backend`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Fpga { .. } => "fpga",
            Self::FpgaSim { .. } => "fpga-sim",
            Self::Cuda => "cuda",
            Self::CudaEmulated { .. } => "cuda-emulated",
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fpga { path, .. } => write!(f, "fpga {}", path.display()),
            Self::FpgaSim { sim, .. } => {
                write!(f, "fpga-sim {} 2^{} x{}", sim.field, sim.max_log, sim.lanes)
            }
            Self::Cuda => f.write_str("cuda"),
            Self::CudaEmulated { max_log } => write!(f, "cuda-emulated 2^{max_log}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(field: FieldId, max_log: u32, lanes: u32) -> Option<Result<SimFpga, SpecError>> {
        Some(Ok(SimFpga {
            field,
            max_log,
            lanes,
        }))
    }

    #[test]
    fn simulation_specs_parse_and_paths_are_boards() {
        use FieldId::{BabyBear, Goldilocks};
        assert_eq!(SimFpga::parse("sim"), sim(BabyBear, 10, 1));
        assert_eq!(SimFpga::parse("sim:12"), sim(BabyBear, 12, 1));
        assert_eq!(SimFpga::parse("sim:10x2"), sim(BabyBear, 10, 2));
        assert_eq!(SimFpga::parse("sim:goldilocks"), sim(Goldilocks, 10, 1));
        assert_eq!(SimFpga::parse("sim:goldilocks:8x2"), sim(Goldilocks, 8, 2));
        assert_eq!(SimFpga::parse("sim:babybear:6"), sim(BabyBear, 6, 1));
        assert_eq!(
            SimFpga::parse("/sys/bus/pci/devices/0000:01:00.0/resource0"),
            None
        );
        assert_eq!(SimFpga::parse("simulator"), None);
        for bad in [
            "sim:",
            "sim:bn254",
            "sim:mersenne",
            "sim:12x",
            "sim:10xtwo",
            "sim:goldilocks:x2",
            "sim:goldilocks:ten",
        ] {
            assert!(matches!(SimFpga::parse(bad), Some(Err(_))), "{bad}");
        }
        let board = DeviceSpec::fpga("/dev/uio0", 125.0).unwrap();
        assert_eq!(board.name(), "fpga");
        let s = DeviceSpec::fpga("sim:goldilocks:8x2", 100.0).unwrap();
        assert_eq!(
            (s.name(), s.to_string().as_str()),
            ("fpga-sim", "fpga-sim goldilocks 2^8 x2")
        );
        assert!(DeviceSpec::fpga("sim:bn254", 100.0).is_err());
    }
}
