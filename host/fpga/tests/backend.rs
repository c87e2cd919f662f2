//! The FPGA backend on the simulated engine where it differs from other backends: its
//! refusals, lanes, failures handed back for the CPU, cancellation at the device, and the
//! memory-mapped register path on a plain file. Its answers are checked with every backend's
//! in the conformance suite (offload-backends).

use offload_core::backend::{Accepts, Backend, Cancel, Health};
use offload_core::cpu::CpuBackend;
use offload_core::job::{Job, Ntt, NttJob, Output};
use offload_engine::ntt::NttConfig;
use offload_fpga::bus::{DeviceError, RegisterBus};
use offload_fpga::mmio::MmioDevice;
use offload_fpga::{sim, FpgaBackend};
use offload_hdl::ntt::{field, reg};
use p3_baby_bear::BabyBear;
use p3_field::PrimeCharacteristicRing;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn job(cfg: NttConfig<BabyBear>, log_n: u32, columns: usize, seed: u64) -> Job {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let data = (0..columns << log_n)
        .map(|_| BabyBear::from_u32(r.gen_range(0..0x7800_0001)))
        .collect();
    Job::Ntt(NttJob::BabyBear(Ntt::new(cfg, columns, data).unwrap()))
}

fn data(o: Output) -> Vec<BabyBear> {
    match o {
        Output::Ntt(NttJob::BabyBear(n)) => n.data,
        _ => panic!("not a BabyBear NTT"),
    }
}

/// A Goldilocks engine claims Goldilocks NTTs only. Every engine's answers, in every order and
/// direction, are checked in the conformance suite (offload-backends).
#[test]
fn a_goldilocks_engine_claims_its_own_field_only() {
    let fpga = FpgaBackend::open("fpga-sim", sim::goldilocks(6, 2).unwrap(), 100.0).unwrap();
    let ops = fpga.capabilities();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].kind(), "goldilocks");
    assert!(!fpga.accepts(&job(NttConfig::forward(), 4, 1, 1)));
}

#[test]
fn a_four_lane_engine_takes_what_its_lanes_share_and_leaves_smaller_sizes_to_the_cpu() {
    let fpga = FpgaBackend::open("fpga-sim", sim::babybear(6, 4).unwrap(), 100.0).unwrap();
    assert_eq!((fpga.info().lanes, fpga.info().min_log()), (4, 3));
    for (log_n, seed) in [(3, 1), (5, 2), (6, 3)] {
        let j = job(NttConfig::inverse(), log_n, 2, seed);
        assert!(fpga.accepts(&j));
        let want = data(
            CpuBackend::new()
                .run(j.clone(), &Cancel::never())
                .ok()
                .unwrap(),
        );
        assert_eq!(
            data(fpga.run(j, &Cancel::never()).ok().unwrap()),
            want,
            "2^{log_n}"
        );
    }
    assert!(!fpga.accepts(&job(NttConfig::forward(), 2, 1, 4)));
    assert!(
        sim::babybear(7, 4).is_err(),
        "no such engine: a clear error"
    );
}

#[test]
fn what_the_engine_cannot_do_goes_elsewhere() {
    let fpga = FpgaBackend::open("fpga-sim", sim::babybear(5, 1).unwrap(), 100.0).unwrap();
    assert!(
        !fpga.accepts(&job(NttConfig::forward(), 6, 1, 1)),
        "too large"
    );
    let coset = NttConfig::forward().coset(BabyBear::from_u32(7));
    assert!(!fpga.accepts(&job(coset, 4, 1, 2)), "coset");
    let gl = Job::Ntt(NttJob::Goldilocks(
        Ntt::new(
            NttConfig::forward(),
            1,
            vec![p3_goldilocks::Goldilocks::ONE; 8],
        )
        .unwrap(),
    ));
    assert!(!fpga.accepts(&gl), "another field");
    // A size-1 column has no transform to run on the engine.
    assert!(!fpga.accepts(&job(NttConfig::forward(), 0, 1, 3)));
}

/// A device that works until `after` register accesses, then raises its error bit.
struct Faulty {
    inner: Box<dyn RegisterBus>,
    after: usize,
    seen: usize,
    /// Once set, the bus reports no more errors.
    healed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RegisterBus for Faulty {
    fn read(&mut self, r: u64) -> Result<u32, DeviceError> {
        self.seen += 1;
        let v = self.inner.read(r)?;
        Ok(match r {
            _ if self.seen < self.after => v,
            _ if self.healed.load(std::sync::atomic::Ordering::Relaxed) => v,
            reg::STATUS => v | 4,
            reg::ERROR => 5,
            _ => v,
        })
    }
    fn write(&mut self, r: u64, v: u32) -> Result<(), DeviceError> {
        self.seen += 1;
        self.inner.write(r, v)
    }
    fn describe(&self) -> String {
        "faulty".into()
    }
}

#[test]
fn device_errors_hand_the_job_back_untouched() {
    let healed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bus = Faulty {
        inner: sim::babybear(5, 1).unwrap(),
        after: 400,
        seen: 0,
        healed: healed.clone(),
    };
    let fpga = FpgaBackend::open("fpga-sim", Box::new(bus), 100.0).unwrap();
    let j = job(NttConfig::forward(), 5, 1, 9);
    let before = data(Output::Ntt(match &j {
        Job::Ntt(n) => n.clone(),
        _ => unreachable!(),
    }));
    for _ in 0..3 {
        let f = fpga
            .run(j.clone(), &Cancel::never())
            .err()
            .expect("a failure");
        assert!(f.reason.contains("error 5"), "{}", f.reason);
        let back = f.job.expect("the job comes back for the CPU");
        assert_eq!(
            data(Output::Ntt(match back {
                Job::Ntt(n) => n,
                _ => unreachable!(),
            })),
            before
        );
    }
    assert!(matches!(fpga.health(), Health::Unhealthy(_)));
    // Checked again while still failing, it stays out; once the fault is gone it passes its
    // probe, takes jobs again, and answers as the CPU does.
    assert!(fpga.recover().is_err());
    assert!(matches!(fpga.health(), Health::Unhealthy(_)));
    healed.store(true, std::sync::atomic::Ordering::Relaxed);
    fpga.recover().unwrap();
    assert_eq!(fpga.health(), Health::Healthy);
    let want = CpuBackend::new()
        .run(j.clone(), &Cancel::never())
        .ok()
        .unwrap();
    let got = fpga.run(j, &Cancel::never()).expect("a healed device runs");
    assert_eq!(data(got), data(want));
}

#[test]
fn a_raised_cancel_stops_the_device_and_it_serves_the_next_job() {
    let fpga = FpgaBackend::open("fpga-sim", sim::babybear(6, 1).unwrap(), 100.0).unwrap();
    let c = Cancel::new();
    c.cancel();
    let f = fpga
        .run(job(NttConfig::forward(), 6, 1, 4), &c)
        .err()
        .unwrap();
    assert_eq!(f.kind, offload_core::FailureKind::Cancelled);
    assert_eq!(
        fpga.health(),
        Health::Healthy,
        "a cancel is not a device failure"
    );
    let j = job(NttConfig::forward(), 6, 1, 5);
    let want = data(
        CpuBackend::new()
            .run(j.clone(), &Cancel::never())
            .ok()
            .unwrap(),
    );
    assert_eq!(data(fpga.run(j, &Cancel::never()).ok().unwrap()), want);
}

#[test]
fn the_mapped_registers_are_words_at_four_byte_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bar0");
    let mut bytes = vec![0u8; 36];
    let info = 10 | 1 << 8 | (field::BABYBEAR as u32) << 16 | 12 << 24;
    bytes[4 * reg::INFO as usize..][..4].copy_from_slice(&info.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let mut dev = MmioDevice::open(&path).unwrap();
    assert_eq!(dev.read(reg::INFO).unwrap(), info);
    dev.write(reg::LOG_SIZE, 9).unwrap();
    dev.write(reg::CONTROL, 1).unwrap();
    assert!(dev.read(reg::DATA_HI + 1).is_err(), "past the map");
    drop(dev);
    let after = std::fs::read(&path).unwrap();
    assert_eq!(after[4 * reg::LOG_SIZE as usize], 9);
    assert_eq!(after[4 * reg::CONTROL as usize], 1);

    // A file of zeros is no engine: opening says why.
    std::fs::write(&path, [0u8; 36]).unwrap();
    let e = FpgaBackend::open("fpga", Box::new(MmioDevice::open(&path).unwrap()), 100.0)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("not a BabyBear or Goldilocks NTT engine"),
        "{e}"
    );
    // Nor is a missing device.
    assert!(MmioDevice::open(&dir.path().join("nothing")).is_err());
}
