//! A scan port: the engine's whole port set (register bus and both streams) behind 20 pins, so
//! that a bare engine can go through place and route as a design of its own.
//!
//! Why: on a board the engine sits beside its host interface on chip (a PCIe endpoint's
//! register bus and DMA streams), and none of its ports reach a pin. Built bare, its 140 to 200
//! ports take most of the package's pins, all around its edge, and the placer stretches the
//! engine's control and queue logic towards them: the measured critical paths of the bare
//! 2^6 engines were such stretched nets (a queue enable, the source-memory flag), about 9 ns of
//! routing between two of the engine's own flip-flops. Behind this port every pin meets a
//! register and the engine places as it would on chip.
//!
//! How it works, a slow but complete host: shift a command of 13 bytes in through `din` (one
//! byte a clock while `shift_in`, the last byte shifted in is the top one), pulse `apply`,
//! and the engine sees the command's inputs for exactly one clock; at that same edge the port
//! captures what the engine showed before it (the register read's data, `in_ready`,
//! `out_valid` and `out_data`: whether the push was taken, and the element the pop took), which
//! shifts out through `dout` a byte a clock while `shift_out`, lowest byte first. Every pin
//! input is registered once before use, so each takes effect one clock after it is driven.
//! Between commands the engine runs on with no strobes.
//!
//! Command layout (bits, lowest first): 0–3 reg_addr, 4 reg_write, 5 reg_read, 6 in_valid,
//! 7 out_ready, 8–39 reg_wdata, 40–103 in_data (its low D bits are used). Response layout:
//! 0–31 reg_rdata, 32 in_ready, 33 out_valid, 40–103 out_data (D bits, zero above).

use rust_hdl::prelude::*;

/// Bytes in a command and in a response.
pub const BYTES: usize = 13;

/// Command bit positions.
pub mod cmd {
    pub const WRITE: u32 = 4;
    pub const READ: u32 = 5;
    pub const IN_VALID: u32 = 6;
    pub const OUT_READY: u32 = 7;
    pub const WDATA: u32 = 8;
    pub const DATA: u32 = 40;
}

/// Response bit positions.
pub mod resp {
    pub const IN_READY: u32 = 32;
    pub const OUT_VALID: u32 = 33;
    pub const DATA: u32 = 40;
}

#[derive(LogicBlock, Default)]
pub struct ScanPort<const D: usize> {
    pub clock: Signal<In, Clock>,
    // The pins.
    pub shift_in: Signal<In, Bit>,
    pub din: Signal<In, Bits<8>>,
    pub apply: Signal<In, Bit>,
    pub shift_out: Signal<In, Bit>,
    pub dout: Signal<Out, Bits<8>>,
    // The engine's ports, seen from the engine's side.
    pub reg_addr: Signal<Out, Bits<4>>,
    pub reg_wdata: Signal<Out, Bits<32>>,
    pub reg_write: Signal<Out, Bit>,
    pub reg_read: Signal<Out, Bit>,
    pub reg_rdata: Signal<In, Bits<32>>,
    pub in_data: Signal<Out, Bits<D>>,
    pub in_valid: Signal<Out, Bit>,
    pub in_ready: Signal<In, Bit>,
    pub out_data: Signal<In, Bits<D>>,
    pub out_valid: Signal<In, Bit>,
    pub out_ready: Signal<Out, Bit>,
    shift_in_r: DFF<Bit>,
    din_r: DFF<Bits<8>>,
    apply_r: DFF<Bit>,
    shift_out_r: DFF<Bit>,
    command: DFF<Bits<104>>,
    response: DFF<Bits<104>>,
}

impl<const D: usize> Logic for ScanPort<D> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            shift_in_r,
            din_r,
            apply_r,
            shift_out_r,
            command,
            response
        );
        self.shift_in_r.d.next = self.shift_in.val();
        self.din_r.d.next = self.din.val();
        self.apply_r.d.next = self.apply.val();
        self.shift_out_r.d.next = self.shift_out.val();
        if self.shift_in_r.q.val() {
            self.command.d.next =
                (self.command.q.val() >> 8) | (bit_cast::<104, 8>(self.din_r.q.val()) << 96);
        }
        self.reg_addr.next = self.command.q.val().get_bits::<4>(0);
        self.reg_wdata.next = self.command.q.val().get_bits::<32>(8);
        self.in_data.next = self.command.q.val().get_bits::<D>(40);
        self.reg_write.next = self.apply_r.q.val() & self.command.q.val().get_bit(4);
        self.reg_read.next = self.apply_r.q.val() & self.command.q.val().get_bit(5);
        self.in_valid.next = self.apply_r.q.val() & self.command.q.val().get_bit(6);
        self.out_ready.next = self.apply_r.q.val() & self.command.q.val().get_bit(7);
        if self.apply_r.q.val() {
            self.response.d.next = bit_cast::<104, 32>(self.reg_rdata.val())
                | (bit_cast::<104, 1>(self.in_ready.val().into()) << 32)
                | (bit_cast::<104, 1>(self.out_valid.val().into()) << 33)
                | (bit_cast::<104, D>(self.out_data.val()) << 40);
        } else if self.shift_out_r.q.val() {
            self.response.d.next = self.response.q.val() >> 8;
        }
        self.dout.next = self.response.q.val().get_bits::<8>(0);
    }
}
