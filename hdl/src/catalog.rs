//! Every core the flow and the tests can export, by name.

use crate::babybear::{
    add::BabyBearAddSub,
    butterfly::BabyBearButterfly,
    mul::BabyBearMul,
    ntt::{BabyBearNtt, BabyBearNttPins},
};
use crate::bn254::pins::Bn254MontPins;
use crate::goldilocks::{
    add::GoldilocksAddSub,
    butterfly::GoldilocksButterfly,
    mul::GoldilocksMul,
    ntt::{GoldilocksNtt, GoldilocksNttPins},
};
use rust_hdl::prelude::*;

pub struct Core {
    pub name: &'static str,
    pub about: &'static str,
    verilog: fn() -> String,
}

impl Core {
    /// The core as a Verilog module named `top`, with its submodules.
    pub fn verilog(&self) -> String {
        (self.verilog)()
    }
}

fn export<B: Block>(mut uut: B) -> String {
    uut.connect_all();
    generate_verilog(&uut)
}

pub const CORES: &[Core] = &[
    Core {
        name: "babybear-addsub",
        about: "BabyBear modular adder/subtractor, latency 2",
        verilog: || export(BabyBearAddSub::default()),
    },
    Core {
        name: "babybear-mul",
        about: "BabyBear Montgomery multiplier, four 16x16 products, latency 9",
        verilog: || export(BabyBearMul::default()),
    },
    Core {
        name: "babybear-butterfly",
        about: "BabyBear DIF butterfly with a tag, latency 12",
        verilog: || export(BabyBearButterfly::default()),
    },
    Core {
        name: "goldilocks-addsub",
        about: "Goldilocks modular adder/subtractor, 32-bit carry chains, latency 4",
        verilog: || export(GoldilocksAddSub::default()),
    },
    Core {
        name: "goldilocks-mul",
        about: "Goldilocks multiplier, sixteen 16x16 products, word-wise reduction, latency 15",
        verilog: || export(GoldilocksMul::default()),
    },
    Core {
        name: "goldilocks-butterfly",
        about: "Goldilocks DIF butterfly with a tag, latency 20",
        verilog: || export(GoldilocksButterfly::default()),
    },
    Core {
        name: "bn254-mont",
        about: "BN254 Fq Montgomery multiplier, word-serial FIOS, 386 clocks, behind a 16-bit port",
        verilog: || export(Bn254MontPins::default()),
    },
    Core {
        name: "ntt-babybear-64",
        about: "BabyBear NTT engine, sizes 2 to 64, one butterfly lane, behind its scan port",
        verilog: || export(BabyBearNttPins::<6, 5, 5, 1, 2>::default()),
    },
    Core {
        name: "ntt-babybear-1k",
        about: "BabyBear NTT engine, sizes 2 to 1024, one butterfly lane, behind its scan port",
        verilog: || export(BabyBearNttPins::<10, 9, 9, 1, 2>::default()),
    },
    Core {
        name: "ntt-babybear-16k",
        about: "BabyBear NTT engine, sizes 2 to 16384, one butterfly lane, behind its scan port",
        verilog: || export(BabyBearNttPins::<14, 13, 13, 1, 2>::default()),
    },
    Core {
        name: "ntt-babybear-64-x2",
        about: "BabyBear NTT engine, sizes 4 to 64, two butterfly lanes, behind its scan port",
        verilog: || export(BabyBearNttPins::<6, 5, 4, 2, 4>::default()),
    },
    Core {
        name: "ntt-babybear-1k-x2",
        about: "BabyBear NTT engine, sizes 4 to 1024, two butterfly lanes, behind its scan port",
        verilog: || export(BabyBearNttPins::<10, 9, 8, 2, 4>::default()),
    },
    Core {
        name: "ntt-babybear-1k-x4",
        about: "BabyBear NTT engine, sizes 8 to 1024, four butterfly lanes, behind its scan port",
        verilog: || export(BabyBearNttPins::<10, 9, 7, 4, 8>::default()),
    },
    Core {
        name: "ntt-goldilocks-64",
        about: "Goldilocks NTT engine, sizes 2 to 64, one butterfly lane, behind its scan port",
        verilog: || export(GoldilocksNttPins::<6, 5, 5, 1, 2>::default()),
    },
    Core {
        name: "ntt-goldilocks-1k",
        about: "Goldilocks NTT engine, sizes 2 to 1024, one butterfly lane, behind its scan port",
        verilog: || export(GoldilocksNttPins::<10, 9, 9, 1, 2>::default()),
    },
    // The engines themselves, for an integrator who wires the register bus and the streams
    // to a host interface of their own. Built alone, their ports go to pins all over the
    // package, which pull the logic apart: numbers from these builds are not the engines'.
    Core {
        name: "ntt-babybear-1k-bare",
        about: "BabyBear NTT engine, sizes 2 to 1024, one lane, its register bus and streams as ports",
        verilog: || export(BabyBearNtt::<10, 9, 9, 1, 2>::default()),
    },
    Core {
        name: "ntt-goldilocks-1k-bare",
        about: "Goldilocks NTT engine, sizes 2 to 1024, one lane, its register bus and streams as ports",
        verilog: || export(GoldilocksNtt::<10, 9, 9, 1, 2>::default()),
    },
];

pub fn core(name: &str) -> Option<&'static Core> {
    CORES.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_exports_a_top_module_under_a_name_of_its_own() {
        for (i, c) in CORES.iter().enumerate() {
            assert!(
                CORES[..i].iter().all(|o| o.name != c.name),
                "{} twice",
                c.name
            );
            let v = c.verilog();
            assert!(v.contains("module top("), "{}", c.name);
        }
        // The bare engines carry the register bus; the scan-port builds do not.
        let bare = core("ntt-babybear-1k-bare").expect("listed").verilog();
        let pins = core("ntt-babybear-1k").expect("listed").verilog();
        let top = |v: &str| {
            v.split("module top(")
                .nth(1)
                .map(|t| t[..t.find(')').unwrap_or(0)].to_string())
        };
        assert!(top(&bare).is_some_and(|t| t.contains("reg_addr")));
        assert!(top(&pins).is_some_and(|t| !t.contains("reg_addr") && t.contains("shift_in")));
    }
}
