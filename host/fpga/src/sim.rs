//! The simulated device: the NTT engine's rust-hdl model, clocked one cycle per register
//! access, serving the same register map a board does.

use crate::bus::{DeviceError, RegisterBus};
use offload_hdl::babybear::ntt::BabyBearNtt;
use offload_hdl::goldilocks::ntt::GoldilocksNtt;
use offload_hdl::ntt::NttPorts;
use offload_hdl::sim::Sim;
use rust_hdl::prelude::*;

/// An engine of either field in its simulation.
pub struct SimDevice<E: NttPorts> {
    sim: Sim<E>,
    about: String,
}

impl<E: NttPorts + Default> SimDevice<E> {
    pub fn new(about: String) -> Result<Self, DeviceError> {
        let sim = Sim::new(E::default()).map_err(|e| DeviceError::Sim(e.to_string()))?;
        Ok(Self { sim, about })
    }

    /// One bus cycle: drive the bus, let the read data settle, sample it, clock the edge.
    fn cycle(&mut self, reg: u64, wdata: u32, write: bool, read: bool) -> Result<u32, DeviceError> {
        let u = &mut self.sim.uut;
        u.drive([reg, wdata as u64, write as u64, read as u64, 0, 0, 0]);
        u.clock().next = Clock::from(false);
        if !simulate(&mut self.sim.uut, 1000) {
            return Err(DeviceError::Sim("the logic did not settle".into()));
        }
        let data = self.sim.uut.sample()[0] as u32;
        self.sim
            .step()
            .map_err(|e| DeviceError::Sim(e.to_string()))?;
        Ok(data)
    }
}

impl<E: NttPorts + Default + Send> RegisterBus for SimDevice<E> {
    fn read(&mut self, reg: u64) -> Result<u32, DeviceError> {
        self.cycle(reg, 0, false, true)
    }

    fn write(&mut self, reg: u64, value: u32) -> Result<(), DeviceError> {
        self.cycle(reg, value, true, false).map(|_| ())
    }

    fn describe(&self) -> String {
        self.about.clone()
    }

    fn cycles(&self) -> Option<u64> {
        Some(self.sim.cycles())
    }
}

/// One engine, built in a frame of its own: a match over every configuration that built
/// them inline would reserve stack for all of them at once (it overflowed a 2 MiB thread).
#[inline(never)]
fn boxed<E: NttPorts + Default + Send + 'static>(
    about: String,
) -> Result<Box<dyn RegisterBus>, DeviceError> {
    Ok(Box::new(SimDevice::<E>::new(about)?))
}

fn about(field: &str, max_log: u32, lanes: u32) -> String {
    format!(
        "simulated {field} NTT engine (rust-hdl, cycle-accurate), sizes to 2^{max_log}, {lanes} lane(s)"
    )
}

/// A simulated BabyBear engine taking sizes up to 2^max_log on `lanes` butterfly lanes: one
/// lane for 2^4 .. 2^16, two or four for even sizes 2^4 (2^6 for four) .. 2^14.
pub fn babybear(max_log: u32, lanes: u32) -> Result<Box<dyn RegisterBus>, DeviceError> {
    macro_rules! engines {
        ($(($a:literal, $l:literal) => $w:literal, $b:literal, $k:literal);*) => {
            match (max_log, lanes) {
                $(($a, $l) => boxed::<BabyBearNtt<$a, $w, $b, $l, $k>>(about("BabyBear", $a, $l)),)*
                _ => Err(DeviceError::Unsupported(format!(
                    "no simulated engine for sizes to 2^{max_log} on {lanes} lane(s): one lane \
                     takes 2^4 .. 2^16, two or four lanes even sizes to 2^14"
                ))),
            }
        };
    }
    engines!(
        (4, 1) => 3, 3, 2; (5, 1) => 4, 4, 2; (6, 1) => 5, 5, 2; (7, 1) => 6, 6, 2;
        (8, 1) => 7, 7, 2; (9, 1) => 8, 8, 2; (10, 1) => 9, 9, 2; (11, 1) => 10, 10, 2;
        (12, 1) => 11, 11, 2; (13, 1) => 12, 12, 2; (14, 1) => 13, 13, 2;
        (15, 1) => 14, 14, 2; (16, 1) => 15, 15, 2;
        (4, 2) => 3, 2, 4; (6, 2) => 5, 4, 4; (8, 2) => 7, 6, 4; (10, 2) => 9, 8, 4;
        (12, 2) => 11, 10, 4; (14, 2) => 13, 12, 4;
        (6, 4) => 5, 3, 8; (8, 4) => 7, 5, 8; (10, 4) => 9, 7, 8; (12, 4) => 11, 9, 8;
        (14, 4) => 13, 11, 8
    )
}

/// A simulated Goldilocks engine taking sizes up to 2^max_log on `lanes` butterfly lanes: one
/// lane for 2^4 .. 2^14, two for even sizes 2^4 .. 2^12.
pub fn goldilocks(max_log: u32, lanes: u32) -> Result<Box<dyn RegisterBus>, DeviceError> {
    macro_rules! engines {
        ($(($a:literal, $l:literal) => $w:literal, $b:literal, $k:literal);*) => {
            match (max_log, lanes) {
                $(($a, $l) => boxed::<GoldilocksNtt<$a, $w, $b, $l, $k>>(about("Goldilocks", $a, $l)),)*
                _ => Err(DeviceError::Unsupported(format!(
                    "no simulated Goldilocks engine for sizes to 2^{max_log} on {lanes} lane(s): \
                     one lane takes 2^4 .. 2^14, two lanes even sizes to 2^12"
                ))),
            }
        };
    }
    engines!(
        (4, 1) => 3, 3, 2; (6, 1) => 5, 5, 2; (8, 1) => 7, 7, 2; (10, 1) => 9, 9, 2;
        (12, 1) => 11, 11, 2; (14, 1) => 13, 13, 2;
        (4, 2) => 3, 2, 4; (6, 2) => 5, 4, 4; (8, 2) => 7, 6, 4; (10, 2) => 9, 8, 4;
        (12, 2) => 11, 10, 4
    )
}
