//! Block memories whose Verilog is written as columns, each as deep as the memory and no wider
//! than one block RAM holds at that depth, so that synthesis maps each column onto a single
//! block and never cascades blocks behind a multiplexer.
//!
//! Why: an ECP5 DP16KD holds 16384 × 1, 8192 × 2, 4096 × 4, 2048 × 9, 1024 × 18 or 512 × 36
//! bits. Given rust-hdl's one-array memory of 8192 × 31 bits, yosys chose blocks 2048 deep and
//! a 4:1 multiplexer after them, and that multiplexer, far from the scattered blocks, held the
//! 2^14 NTT engine to 95.6 MHz (block RAM clock-to-out alone is 5.6 ns). Sixteen 8192 × 2
//! columns use the same sixteen blocks with nothing after them but routing. Simulation is the
//! same as rust-hdl's `RAM` and `SyncROM`; only the Verilog differs.

use rust_hdl::core::timing::TimingInfo;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// The widest column a block RAM holds at depth 2^`address_bits` (ECP5 DP16KD geometry, which
/// Xilinx's 36 Kbit blocks share at twice the depth).
pub fn column_width(address_bits: usize) -> usize {
    match address_bits {
        0..=9 => 36,
        10 => 18,
        11 => 9,
        12 => 4,
        13 => 2,
        _ => 1,
    }
}

/// The columns of a `width`-bit word at depth 2^`address_bits`: (low bit, width) each.
pub fn columns(width: usize, address_bits: usize) -> Vec<(usize, usize)> {
    let step = column_width(address_bits);
    (0..width)
        .step_by(step)
        .map(|lo| (lo, step.min(width - lo)))
        .collect()
}

fn literal(width: usize, value: u64) -> String {
    format!("{width}'h{value:x}")
}

/// Declarations of every column, `mem0`, `mem1`, ..., with their initial contents.
fn declare(width: usize, address_bits: usize, init: &BTreeMap<u64, u64>) -> String {
    let mut out = String::new();
    let depth = (1u64 << address_bits) - 1;
    let cols = columns(width, address_bits);
    for (c, (_, w)) in cols.iter().enumerate() {
        out += &format!("reg[{}:0] mem{c}[{depth}:0];\n", w - 1);
    }
    if !init.is_empty() {
        out += "\ninitial begin\n";
        for (c, (lo, w)) in cols.iter().enumerate() {
            for (a, v) in init {
                let part = (v >> lo) & ((1u64 << w) - 1);
                out += &format!(
                    "mem{c}[{}] = {};\n",
                    literal(address_bits, *a),
                    literal(*w, part)
                );
            }
        }
        out += "end\n";
    }
    out
}

/// The word at `address`, as the concatenation of every column's read.
fn gather(width: usize, address_bits: usize, address: &str) -> String {
    let reads: Vec<String> = (0..columns(width, address_bits).len())
        .rev()
        .map(|c| format!("mem{c}[{address}]"))
        .collect();
    format!("{{{}}}", reads.join(", "))
}

fn to_u64s<const D: usize, const N: usize>(
    values: &BTreeMap<Bits<N>, Bits<D>>,
) -> BTreeMap<u64, u64> {
    values
        .iter()
        .map(|(a, v)| (a.to_u64(), v.to_u64()))
        .collect()
}

/// A read-only memory of 2^N words of D bits (D ≤ 64), read one cycle after the address.
#[derive(LogicBlock)]
pub struct BlockRom<const D: usize, const N: usize> {
    pub address: Signal<In, Bits<N>>,
    pub clock: Signal<In, Clock>,
    pub data: Signal<Out, Bits<D>>,
    _contents: BTreeMap<Bits<N>, Bits<D>>,
}

impl<const D: usize, const N: usize> BlockRom<D, N> {
    pub fn new(contents: BTreeMap<Bits<N>, Bits<D>>) -> Self {
        assert!(D <= 64, "BlockRom words are at most 64 bits");
        Self {
            address: Default::default(),
            clock: Default::default(),
            data: Default::default(),
            _contents: contents,
        }
    }
}

impl<const D: usize, const N: usize> Logic for BlockRom<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.data.next = self
                ._contents
                .get(&self.address.val())
                .copied()
                .unwrap_or_default();
        }
    }

    fn connect(&mut self) {
        self.data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "{}\nalways @(posedge clock) begin\n   data <= {};\nend\n",
            declare(D, N, &to_u64s(&self._contents)),
            gather(D, N, "address")
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "block_rom".into(),
            clock: "clock".into(),
            inputs: vec!["address".into()],
            outputs: vec!["data".into()],
        }]
    }
}

/// A memory of 2^N words of D bits (D ≤ 64) with one read port (data one cycle after the
/// address) and one write port; a word read as it is written reads the old value.
#[derive(LogicBlock, Default)]
pub struct BlockRam<const D: usize, const N: usize> {
    pub read_address: Signal<In, Bits<N>>,
    pub read_clock: Signal<In, Clock>,
    pub read_data: Signal<Out, Bits<D>>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_clock: Signal<In, Clock>,
    pub write_data: Signal<In, Bits<D>>,
    pub write_enable: Signal<In, Bit>,
    _contents: BTreeMap<Bits<N>, Bits<D>>,
}

impl<const D: usize, const N: usize> Logic for BlockRam<D, N> {
    fn update(&mut self) {
        if self.read_clock.pos_edge() {
            self.read_data.next = self
                ._contents
                .get(&self.read_address.val())
                .copied()
                .unwrap_or_default();
        }
        if self.write_clock.pos_edge() && self.write_enable.val() {
            self._contents
                .insert(self.write_address.val(), self.write_data.val());
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let writes: String = columns(D, N)
            .iter()
            .enumerate()
            .map(|(c, (lo, w))| {
                format!(
                    "      mem{c}[write_address] <= write_data[{}:{lo}];\n",
                    lo + w - 1
                )
            })
            .collect();
        Verilog::Custom(format!(
            "{}\nalways @(posedge read_clock) begin\n   read_data <= {};\nend\n\n\
             always @(posedge write_clock) begin\n   if (write_enable) begin\n{writes}   end\nend\n",
            declare(D, N, &to_u64s(&self._contents)),
            gather(D, N, "read_address")
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![
            TimingInfo {
                name: "block_ram_read".into(),
                clock: "read_clock".into(),
                inputs: vec!["read_address".into()],
                outputs: vec!["read_data".into()],
            },
            TimingInfo {
                name: "block_ram_write".into(),
                clock: "write_clock".into(),
                inputs: vec![
                    "write_address".into(),
                    "write_data".into(),
                    "write_enable".into(),
                ],
                outputs: vec![],
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_one_block_each() {
        assert_eq!(
            columns(31, 13),
            (0..16)
                .map(|c| (2 * c, if c == 15 { 1 } else { 2 }))
                .collect::<Vec<_>>()
        );
        assert_eq!(columns(31, 9), vec![(0, 31)]);
        assert_eq!(columns(64, 5), vec![(0, 36), (36, 28)]);
        assert_eq!(columns(64, 10), vec![(0, 18), (18, 18), (36, 18), (54, 10)]);
        for bits in 1..=14 {
            for (_, w) in columns(31, bits) {
                // One DP16KD: 16 Kbit of data plus parity in the 9-, 18- and 36-bit shapes.
                assert!(w << bits <= 18 << 10, "{w} x 2^{bits}");
            }
        }
    }

    #[test]
    fn the_rom_verilog_splits_every_word_across_its_columns() {
        let contents: BTreeMap<Bits<13>, Bits<31>> = [(1u64, 0x7fff_ffffu64), (5, 0x1234_5678)]
            .iter()
            .map(|&(a, v)| (a.into(), v.into()))
            .collect();
        let rom = BlockRom::<31, 13>::new(contents);
        let Verilog::Custom(text) = rom.hdl() else {
            panic!("custom Verilog expected")
        };
        assert!(text.contains("reg[1:0] mem0[8191:0];"));
        assert!(text.contains("reg[0:0] mem15[8191:0];"));
        assert!(!text.contains("mem16"));
        // 0x12345678: bits 1:0 are 0, bits 3:2 are 2, bit 30 is 0; 0x7fffffff's bit 30 is 1.
        assert!(text.contains("mem0[13'h5] = 2'h0;"));
        assert!(text.contains("mem1[13'h5] = 2'h2;"));
        assert!(text.contains("mem15[13'h5] = 1'h0;"));
        assert!(text.contains("mem15[13'h1] = 1'h1;"));
        assert!(text.contains("data <= {mem15[address], "));
        assert!(text.contains("mem1[address], mem0[address]};"));
    }
}
