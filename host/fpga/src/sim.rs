//! The simulated device: the NTT engine's rust-hdl model, clocked one cycle per register
//! access, serving the same register map a board does.

use crate::bus::{DeviceError, RegisterBus};
use offload_hdl::babybear::ntt::BabyBearNtt;
use offload_hdl::sim::{from_bits, to_bits, Clocked, Sim};
use rust_hdl::prelude::*;

/// The one-lane engine for sizes up to 2^A (B = A − 1).
pub struct SimDevice<const A: usize, const B: usize> {
    sim: Sim<BabyBearNtt<A, B, B, 1, 2>>,
}

impl<const A: usize, const B: usize> SimDevice<A, B> {
    pub fn new() -> Result<Self, DeviceError> {
        let sim = Sim::new(BabyBearNtt::<A, B, B, 1, 2>::default())
            .map_err(|e| DeviceError::Sim(e.to_string()))?;
        Ok(Self { sim })
    }

    /// One bus cycle: drive the bus, let the read data settle, sample it, clock the edge.
    fn cycle(&mut self, reg: u64, wdata: u32, write: bool, read: bool) -> Result<u32, DeviceError> {
        let u = &mut self.sim.uut;
        u.reg_addr.next = to_bits(&[reg]);
        u.reg_wdata.next = to_bits(&[wdata as u64]);
        u.reg_write.next = write;
        u.reg_read.next = read;
        u.in_valid.next = false;
        u.out_ready.next = false;
        u.clock().next = Clock::from(false);
        if !simulate(&mut self.sim.uut, 1000) {
            return Err(DeviceError::Sim("the logic did not settle".into()));
        }
        let data = from_bits(self.sim.uut.reg_rdata.val())[0] as u32;
        self.sim
            .step()
            .map_err(|e| DeviceError::Sim(e.to_string()))?;
        Ok(data)
    }
}

impl<const A: usize, const B: usize> RegisterBus for SimDevice<A, B> {
    fn read(&mut self, reg: u64) -> Result<u32, DeviceError> {
        self.cycle(reg, 0, false, true)
    }

    fn write(&mut self, reg: u64, value: u32) -> Result<(), DeviceError> {
        self.cycle(reg, value, true, false).map(|_| ())
    }

    fn describe(&self) -> String {
        format!("simulated BabyBear NTT engine (rust-hdl, cycle-accurate), sizes to 2^{A}")
    }

    fn cycles(&self) -> Option<u64> {
        Some(self.sim.cycles())
    }
}

/// A simulated BabyBear engine taking sizes up to 2^max_log.
pub fn babybear(max_log: u32) -> Result<Box<dyn RegisterBus>, DeviceError> {
    macro_rules! sizes {
        ($($a:literal => $b:literal),*) => {
            match max_log {
                $($a => Ok(Box::new(SimDevice::<$a, $b>::new()?)),)*
                _ => Err(DeviceError::Unsupported(format!(
                    "a simulated engine takes sizes to 2^4 .. 2^16, not 2^{max_log}"
                ))),
            }
        };
    }
    sizes!(4 => 3, 5 => 4, 6 => 5, 7 => 6, 8 => 7, 9 => 8, 10 => 9, 11 => 10, 12 => 11,
        13 => 12, 14 => 13, 15 => 14, 16 => 15)
}
