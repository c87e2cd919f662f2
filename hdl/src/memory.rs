//! Block memories written so that synthesis never cascades block RAMs behind a multiplexer:
//! a RAM as columns, each as deep as the memory and no wider than one block holds at that
//! depth; a ROM as parts one block deep, read in two cycles with the choice of part after a
//! register.
//!
//! Why: an ECP5 DP16KD holds 16384 × 1, 8192 × 2, 4096 × 4, 2048 × 9, 1024 × 18 or 512 × 36
//! bits. Given rust-hdl's one-array memory of 8192 × 31 bits, yosys chose blocks 2048 deep and
//! a 4:1 multiplexer after them, and that multiplexer, far from the scattered blocks, held the
//! 2^14 NTT engine to 95.6 MHz (block RAM clock-to-out alone is 5.6 ns). Simulation is the
//! same as rust-hdl's `RAM` and `SyncROM`, but for the ROM's second cycle.

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

/// Address bits of one part of a [`PartedRom`]: 512 words, the depth at which one block RAM
/// holds a whole word of up to 36 bits (two side by side for 64), so no part is cascaded.
pub const PART_BITS: usize = 9;

/// A read-only memory of 2^N words of D bits (D ≤ 64), read in two cycles: the word at the
/// address presented at a clock edge is on `data` after the second edge from it.
///
/// It is not written as columns like [`BlockRam`]: a ROM's columns would each carry the whole
/// contents, and yosys took 15 minutes over the 2^14 engine's 131072 column writes (30 s for
/// the 8192 of one array). Instead it is split by depth into parts of 2^[`PART_BITS`] words,
/// each part's read is registered, and the part is chosen after that register by a one-hot
/// select registered beside it, an OR of ANDs. The second cycle is the engine's, which had a
/// register behind the ROM anyway.
#[derive(LogicBlock)]
pub struct PartedRom<const D: usize, const N: usize> {
    pub address: Signal<In, Bits<N>>,
    pub clock: Signal<In, Clock>,
    pub data: Signal<Out, Bits<D>>,
    _contents: BTreeMap<Bits<N>, Bits<D>>,
    // The word read at the last edge (the block RAM's output) and the one before.
    _read: Bits<D>,
}

impl<const D: usize, const N: usize> PartedRom<D, N> {
    pub fn new(contents: BTreeMap<Bits<N>, Bits<D>>) -> Self {
        assert!(D <= 64, "PartedRom words are at most 64 bits");
        Self {
            address: Default::default(),
            clock: Default::default(),
            data: Default::default(),
            _contents: contents,
            _read: Default::default(),
        }
    }

    fn parts() -> usize {
        1 << N.saturating_sub(PART_BITS)
    }

    fn verilog(&self) -> String {
        let parts = Self::parts();
        let part_bits = N.min(PART_BITS);
        let top = (1u64 << part_bits) - 1;
        let mut out = String::new();
        for p in 0..parts {
            out += &format!("reg[{}:0] mem{p}[{top}:0];\n", D - 1);
            out += &format!("reg[{}:0] read{p};\nreg[{}:0] held{p};\n", D - 1, D - 1);
        }
        if !self._contents.is_empty() {
            out += "\ninitial begin\n";
            for (a, v) in &self._contents {
                let a = a.to_u64();
                out += &format!(
                    "mem{}[{}] = {};\n",
                    a >> part_bits,
                    literal(part_bits, a & top),
                    literal(D, v.to_u64())
                );
            }
            out += "end\n";
        }
        // Zeros at time 0, as rust-hdl's registers start, so that Icarus replays match.
        out += "\ninitial begin\n";
        for p in 0..parts {
            out += &format!("   read{p} = 0;\n   held{p} = 0;\n");
        }
        if parts > 1 {
            out += "   part = 0;\n   select = 1;\n";
        }
        out += "end\n\nalways @(posedge clock) begin\n";
        for p in 0..parts {
            out += &format!("   read{p} <= mem{p}[address[{}:0]];\n", part_bits - 1);
            out += &format!("   held{p} <= read{p};\n");
        }
        if parts == 1 {
            out += "end\n\nalways @(*) data = held0;\n";
            return out;
        }
        // The part, one cycle behind the address (beside the block RAMs' outputs), then as a
        // one-hot select beside the held words.
        let hi = N - PART_BITS;
        out = format!("reg[{}:0] part;\nreg[{}:0] select;\n", hi - 1, parts - 1) + &out;
        out += &format!("   part <= address[{}:{PART_BITS}];\n", N - 1);
        out += &format!("   select <= {parts}'h1 << part;\nend\n\n");
        let terms: Vec<String> = (0..parts)
            .map(|p| format!("({{{D}{{select[{p}]}}}} & held{p})"))
            .collect();
        out += &format!("always @(*) data = {};\n", terms.join("\n   | "));
        out
    }
}

impl<const D: usize, const N: usize> Logic for PartedRom<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.data.next = self._read;
            self._read = self
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
        Verilog::Custom(self.verilog())
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "parted_rom".into(),
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

impl<const D: usize, const N: usize> BlockRam<D, N> {
    /// A memory holding `contents` at start (the rest zero in simulation, undefined on chip).
    pub fn new(contents: BTreeMap<Bits<N>, Bits<D>>) -> Self {
        assert!(D <= 64, "BlockRam words are at most 64 bits");
        Self {
            _contents: contents,
            ..Default::default()
        }
    }
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
    fn the_rom_verilog_puts_every_word_in_its_part() {
        let contents: BTreeMap<Bits<13>, Bits<31>> =
            [(1u64, 0x7fff_ffffu64), (0x1205, 0x1234_5678)]
                .iter()
                .map(|&(a, v)| (a.into(), v.into()))
                .collect();
        let text = PartedRom::<31, 13>::new(contents).verilog();
        assert!(text.contains("reg[30:0] mem0[511:0];"));
        assert!(text.contains("reg[30:0] mem15[511:0];"));
        assert!(!text.contains("mem16"));
        // 0x1205 is word 0x5 of part 9.
        assert!(text.contains("mem0[9'h1] = 31'h7fffffff;"));
        assert!(text.contains("mem9[9'h5] = 31'h12345678;"));
        assert!(text.contains("read15 <= mem15[address[8:0]];"));
        assert!(text.contains("part <= address[12:9];"));
        assert!(text.contains("({31{select[15]}} & held15)"));
        // One part: no select.
        let one = PartedRom::<31, 9>::new(BTreeMap::new()).verilog();
        assert!(one.contains("data = held0;") && !one.contains("select"));
    }
}
