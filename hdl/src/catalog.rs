//! Every core the flow and the tests can export, by name.

use crate::babybear::{
    add::BabyBearAddSub, butterfly::BabyBearButterfly, mul::BabyBearMul, ntt::BabyBearNttPins,
};
use crate::bn254::pins::Bn254MontPins;
use crate::goldilocks::{
    add::GoldilocksAddSub, butterfly::GoldilocksButterfly, mul::GoldilocksMul,
    ntt::GoldilocksNttPins,
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
];

pub fn core(name: &str) -> Option<&'static Core> {
    CORES.iter().find(|c| c.name == name)
}
