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

/// The emulated GPU's largest NTT by default: it runs on the host, slowly, for bring-up and
/// tests.
pub const EMULATED_GPU_MAX_LOG: u32 = 16;

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

    /// A device as the configuration's `devices` list and `--device` name it: `cuda`,
    /// `cuda-emulated[:LOG]`, `fpga-sim[:FIELD][:LOG[xLANES]]` or `fpga:PATH`, an FPGA's
    /// optionally followed by `@MHZ` (else `clock_mhz`).
    pub fn parse(text: &str, clock_mhz: f64) -> Result<Self, SpecError> {
        let bad = |why| SpecError::Malformed {
            spec: text.to_string(),
            why,
        };
        const FORMS: &str = "cuda, cuda-emulated[:LOG], fpga-sim[:FIELD][:LOG[xLANES]][@MHZ] \
                             or fpga:PATH[@MHZ]";
        let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
        let fpga_clock = |rest: &str| -> Result<(String, f64), SpecError> {
            match rest.rsplit_once('@') {
                Some((r, mhz)) => match mhz.parse::<f64>() {
                    Ok(m) if m.is_finite() && m > 0.0 => Ok((r.to_string(), m)),
                    _ => Err(bad("the clock after @ is a positive number of MHz")),
                },
                None => Ok((rest.to_string(), clock_mhz)),
            }
        };
        match kind {
            "cuda" if rest.is_empty() => Ok(Self::Cuda),
            "cuda-emulated" => Ok(Self::CudaEmulated {
                max_log: match rest {
                    "" => EMULATED_GPU_MAX_LOG,
                    l => l
                        .parse()
                        .map_err(|_| bad("cuda-emulated:LOG takes a number"))?,
                },
            }),
            "fpga-sim" => {
                let (rest, clock_mhz) = fpga_clock(rest)?;
                let sim = if rest.is_empty() {
                    "sim".to_string()
                } else {
                    format!("sim:{rest}")
                };
                match SimFpga::parse(&sim) {
                    Some(s) => Ok(Self::FpgaSim {
                        sim: s.map_err(|_| bad(SIM_FORM))?,
                        clock_mhz,
                    }),
                    None => Err(bad(SIM_FORM)),
                }
            }
            "fpga" if !rest.is_empty() => {
                let (path, clock_mhz) = fpga_clock(rest)?;
                Ok(Self::Fpga {
                    path: path.into(),
                    clock_mhz,
                })
            }
            _ => Err(bad(FORMS)),
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

    #[test]
    fn device_list_entries_parse() {
        let p = |t: &str| DeviceSpec::parse(t, 100.0);
        assert_eq!(p("cuda"), Ok(DeviceSpec::Cuda));
        assert_eq!(
            p("cuda-emulated"),
            Ok(DeviceSpec::CudaEmulated {
                max_log: EMULATED_GPU_MAX_LOG
            })
        );
        assert_eq!(
            p("cuda-emulated:10"),
            Ok(DeviceSpec::CudaEmulated { max_log: 10 })
        );
        let sim = |field, max_log, lanes, clock_mhz| {
            Ok(DeviceSpec::FpgaSim {
                sim: SimFpga {
                    field,
                    max_log,
                    lanes,
                },
                clock_mhz,
            })
        };
        assert_eq!(p("fpga-sim"), sim(FieldId::BabyBear, 10, 1, 100.0));
        assert_eq!(
            p("fpga-sim:goldilocks:8x2@125"),
            sim(FieldId::Goldilocks, 8, 2, 125.0)
        );
        assert_eq!(p("fpga-sim:12x4"), sim(FieldId::BabyBear, 12, 4, 100.0));
        assert_eq!(
            p("fpga:/sys/bus/pci/devices/0000:01:00.0/resource0@250"),
            Ok(DeviceSpec::Fpga {
                path: "/sys/bus/pci/devices/0000:01:00.0/resource0".into(),
                clock_mhz: 250.0
            })
        );
        for bad in [
            "",
            "gpu",
            "cuda:0",
            "cuda-emulated:x",
            "fpga",
            "fpga:",
            "fpga-sim:bn254",
            "fpga-sim:10x2@",
            "fpga-sim@-5",
            "fpga:/dev/uio0@fast",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
