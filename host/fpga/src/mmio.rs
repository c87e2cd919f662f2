//! A board's engine: its register map memory-mapped from a PCIe BAR's resource file
//! (`/sys/bus/pci/devices/<bdf>/resource0`) or a device node (`/dev/uioN`). Register r is the
//! 32-bit word at byte offset 4·r.

use crate::bus::{DeviceError, RegisterBus};
use memmap2::{MmapMut, MmapOptions};
use std::path::{Path, PathBuf};

/// Registers in the map: CONTROL through DATA_HI.
const REGISTERS: usize = offload_hdl::ntt::reg::DATA_HI as usize + 1;

pub struct MmioDevice {
    map: MmapMut,
    path: PathBuf,
}

impl MmioDevice {
    pub fn open(path: &Path) -> Result<Self, DeviceError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| DeviceError::Io(format!("opening {}: {e}", path.display())))?;
        // SAFETY: the mapping is shared with the device (or whoever else has the file open);
        // every access below goes through volatile reads and writes of aligned u32 words
        // inside its length, and nothing hands out references into it.
        let map = unsafe { MmapOptions::new().len(4 * REGISTERS).map_mut(&file) }
            .map_err(|e| DeviceError::Io(format!("mapping {}: {e}", path.display())))?;
        Ok(Self {
            map,
            path: path.to_path_buf(),
        })
    }

    fn word(&mut self, reg: u64) -> Result<*mut u32, DeviceError> {
        let r = usize::try_from(reg)
            .ok()
            .filter(|&r| r < REGISTERS)
            .ok_or_else(|| DeviceError::Unsupported(format!("register {reg} is not in the map")))?;
        // In bounds (checked above) and 4-aligned (page-aligned base).
        Ok(self.map.as_mut_ptr().cast::<u32>().wrapping_add(r))
    }
}

impl RegisterBus for MmioDevice {
    fn read(&mut self, reg: u64) -> Result<u32, DeviceError> {
        let p = self.word(reg)?;
        // SAFETY: `word` returns an aligned pointer inside the live mapping.
        Ok(u32::from_le(unsafe { std::ptr::read_volatile(p) }))
    }

    fn write(&mut self, reg: u64, value: u32) -> Result<(), DeviceError> {
        let p = self.word(reg)?;
        // SAFETY: as in `read`.
        unsafe { std::ptr::write_volatile(p, value.to_le()) };
        Ok(())
    }

    fn describe(&self) -> String {
        format!("NTT engine at {}", self.path.display())
    }
}
