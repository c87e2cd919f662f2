//! One transform through the register map: configure, ring, stream the column in through
//! DATA (DATA_HI first for 64-bit fields), wait, stream the result out. The engine returns
//! bit-reversed order; the backend permutes for the order a job asks for.

use crate::bus::{DeviceError, RegisterBus};
use offload_engine::cancel::Cancel;
use offload_hdl::ntt::{err, field, reg, status};
use std::time::Instant;

/// What the INFO register says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    pub max_log: u32,
    pub lanes: u32,
    pub field: u32,
    pub latency: u32,
}

impl EngineInfo {
    /// The smallest transform the engine takes: one butterfly per lane.
    pub fn min_log(&self) -> u32 {
        (2 * self.lanes).trailing_zeros()
    }

    /// Whether elements take two 32-bit words (DATA_HI, then DATA).
    pub fn wide(&self) -> bool {
        self.field as u64 == field::GOLDILOCKS
    }

    /// The field's name, as jobs name it.
    pub fn field_name(&self) -> &'static str {
        if self.wide() {
            "goldilocks"
        } else {
            "babybear"
        }
    }
}

pub fn info(bus: &mut dyn RegisterBus) -> Result<EngineInfo, DeviceError> {
    let v = bus.read(reg::INFO)?;
    let i = EngineInfo {
        max_log: v & 0xff,
        lanes: (v >> 8) & 0xff,
        field: (v >> 16) & 0xff,
        latency: v >> 24,
    };
    if !matches!(i.field as u64, field::BABYBEAR | field::GOLDILOCKS)
        || !i.lanes.is_power_of_two()
        || !(1..=27).contains(&i.max_log)
        || i.min_log() > i.max_log
    {
        return Err(DeviceError::Unsupported(format!(
            "INFO reads {v:#010x}: not a BabyBear or Goldilocks NTT engine this driver knows"
        )));
    }
    Ok(i)
}

fn device_error(code: u32) -> DeviceError {
    let name = match code as u64 {
        err::SIZE => "size out of range",
        err::BUSY => "busy",
        err::UNEXPECTED_INPUT => "input while not loading",
        err::NO_OUTPUT => "read with no output waiting",
        err::NON_CANONICAL => "input element not below p",
        _ => "unknown",
    };
    DeviceError::Device { code, name }
}

/// Read STATUS until one of `bits` is set; a raised error bit ends the wait with the error.
fn wait(
    bus: &mut dyn RegisterBus,
    bits: u32,
    deadline: Instant,
    cancel: &Cancel,
    what: &'static str,
) -> Result<(), DeviceError> {
    loop {
        let st = bus.read(reg::STATUS)?;
        if st & status::ERROR as u32 != 0 {
            return Err(device_error(bus.read(reg::ERROR)?));
        }
        if st & bits != 0 {
            return Ok(());
        }
        if cancel.is_cancelled() {
            return Err(DeviceError::Cancelled);
        }
        if Instant::now() >= deadline {
            return Err(DeviceError::Timeout(what));
        }
    }
}

/// The result of one transform: elements in bit-reversed order, and the engine's count of
/// compute cycles.
#[derive(Debug)]
pub struct Run {
    pub output: Vec<u64>,
    pub cycles: u32,
}

/// Transform one column (canonical elements, natural order, power-of-two length) on an engine
/// whose elements are `wide` (64 bits) or not. On any failure the engine is told to abort, so
/// the next job finds it idle.
pub fn transform(
    bus: &mut dyn RegisterBus,
    wide: bool,
    data: &[u64],
    inverse: bool,
    deadline: Instant,
    cancel: &Cancel,
) -> Result<Run, DeviceError> {
    let r = run(bus, wide, data, inverse, deadline, cancel);
    if r.is_err() {
        // Best effort: a device that cannot take this has failed already.
        let _ = abort(bus, Instant::now() + std::time::Duration::from_secs(1));
    }
    r
}

/// Drop whatever job the engine holds and wait until it is idle.
fn abort(bus: &mut dyn RegisterBus, deadline: Instant) -> Result<(), DeviceError> {
    bus.write(reg::DOORBELL, 2)?;
    while bus.read(reg::STATUS)? & status::BUSY as u32 != 0 {
        if Instant::now() >= deadline {
            return Err(DeviceError::Timeout("aborting a job"));
        }
    }
    Ok(())
}

fn run(
    bus: &mut dyn RegisterBus,
    wide: bool,
    data: &[u64],
    inverse: bool,
    deadline: Instant,
    cancel: &Cancel,
) -> Result<Run, DeviceError> {
    let n = data.len();
    if !n.is_power_of_two() || n < 2 {
        return Err(DeviceError::Unsupported(format!(
            "{n} elements: the engine takes powers of two from 2"
        )));
    }
    if bus.read(reg::STATUS)? & status::BUSY as u32 != 0 {
        // A job someone gave up on: drop it.
        abort(bus, deadline)?;
    }
    bus.write(reg::CONTROL, inverse as u32)?;
    bus.write(reg::LOG_SIZE, n.trailing_zeros())?;
    bus.write(reg::DOORBELL, 1)?;
    wait(
        bus,
        status::IN_READY as u32,
        deadline,
        cancel,
        "taking input",
    )?;
    for (i, &x) in data.iter().enumerate() {
        // A narrow field's element needs no high word; one above 32 bits still reaches the
        // engine whole, to be refused there.
        if wide || x >> 32 != 0 {
            bus.write(reg::DATA_HI, (x >> 32) as u32)?;
        }
        bus.write(reg::DATA, x as u32)?;
        if i % 1024 == 1023 && cancel.is_cancelled() {
            return Err(DeviceError::Cancelled);
        }
    }
    let mut output = Vec::with_capacity(n);
    for _ in 0..n {
        wait(bus, status::OUT_VALID as u32, deadline, cancel, "computing")?;
        let hi = if wide { bus.read(reg::DATA_HI)? } else { 0 };
        output.push((hi as u64) << 32 | bus.read(reg::DATA)? as u64);
    }
    wait(bus, status::DONE as u32, deadline, cancel, "finishing")?;
    let code = bus.read(reg::ERROR)?;
    if code != 0 {
        return Err(device_error(code));
    }
    Ok(Run {
        output,
        cycles: bus.read(reg::CYCLES)?,
    })
}
