//! Helpers for the hardware conformance tests: replaying the vectors a core saw in rust-hdl's
//! simulator through its exported Verilog in Icarus Verilog, cycle for cycle, and linting that
//! Verilog with Verilator.
//!
//! Port values travel as little-endian 64-bit limbs, so one helper serves 1-bit flags and
//! 256-bit BN254 operands alike.

pub mod stream;

use regex::Regex;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Port values cycle by cycle: `[cycle][port]`, each value in 64-bit limbs.
pub type Vectors = Vec<Vec<Vec<u64>>>;
/// The inputs and outputs of a run, for a replay.
pub type Trace = (Vectors, Vectors);

/// A port of the top module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub width: usize,
    pub input: bool,
}

/// The top module's ports, in declaration order, read from the exported Verilog.
pub fn ports(verilog: &str) -> Vec<Port> {
    let top = verilog
        .split("endmodule")
        .find(|m| m.contains("module top("))
        .unwrap_or("");
    let re = Regex::new(r"(?m)^\s*(input|output)\s+(?:wire|reg)\s+(?:\[(\d+):0\]\s+)?(\w+);")
        .expect("a valid pattern");
    re.captures_iter(top)
        .map(|c| Port {
            name: c[3].to_string(),
            width: c
                .get(2)
                .map_or(1, |w| w.as_str().parse::<usize>().unwrap_or(0) + 1),
            input: &c[1] == "input",
        })
        .collect()
}

/// Why a replay could not run or its output could not be read.
#[derive(Debug)]
pub struct ReplayError(pub String);

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_hex(s: &str, width: usize) -> Result<Vec<u64>, ReplayError> {
    let mut out = vec![0u64; width.div_ceil(64)];
    for (i, c) in s.chars().rev().enumerate() {
        let v = c.to_digit(16).ok_or_else(|| {
            ReplayError(format!("output digit {c:?} in {s:?} (x or z: undriven)"))
        })?;
        if i / 16 < out.len() {
            out[i / 16] |= (v as u64) << (4 * (i % 16));
        }
    }
    Ok(out)
}

/// Whether `tool` runs here.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "iverilog" {
            "-V"
        } else {
            "--version"
        })
        .output()
        .is_ok()
}

/// Drive the exported design in Icarus Verilog with `inputs[cycle][port]` (the non-clock
/// inputs in declaration order) and return `outputs[cycle][port]`, sampled just after each
/// rising edge, as `Sim::step` does.
pub fn icarus_replay(verilog: &str, inputs: &[Vec<Vec<u64>>]) -> Result<Vectors, ReplayError> {
    let ports = ports(verilog);
    let ins: Vec<&Port> = ports
        .iter()
        .filter(|p| p.input && p.name != "clock")
        .collect();
    let outs: Vec<&Port> = ports.iter().filter(|p| !p.input).collect();
    if outs.is_empty() {
        return Err(ReplayError("no output ports found in the Verilog".into()));
    }
    let dir = tempfile::tempdir().map_err(|e| ReplayError(e.to_string()))?;
    let total: usize = ins.iter().map(|p| p.width).sum::<usize>().max(1);
    let mut vectors = String::new();
    for (c, row) in inputs.iter().enumerate() {
        if row.len() != ins.len() {
            return Err(ReplayError(format!(
                "cycle {c}: {} values for {} inputs",
                row.len(),
                ins.len()
            )));
        }
        // One line per cycle: the inputs concatenated, first port in the high bits.
        let mut bits: Vec<bool> = Vec::with_capacity(total + 3);
        for (p, v) in ins.iter().zip(row) {
            for i in (0..p.width).rev() {
                bits.push(v.get(i / 64).is_some_and(|l| (l >> (i % 64)) & 1 == 1));
            }
        }
        let pad = (4 - bits.len() % 4) % 4;
        let bits: Vec<bool> = std::iter::repeat_n(false, pad).chain(bits).collect();
        let mut line = String::new();
        for nibble in bits.chunks(4) {
            let d = nibble.iter().fold(0u32, |a, &b| (a << 1) | b as u32);
            write!(line, "{d:x}").expect("writing to a String");
        }
        vectors.push_str(&line);
        vectors.push('\n');
    }
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("vectors.hex"), vectors).map_err(|e| ReplayError(e.to_string()))?;

    let mut tb = String::from("`timescale 1ns/1ps\nmodule tb;\n  reg clock = 0;\n");
    for p in &ins {
        writeln!(tb, "  reg [{}:0] {};", p.width - 1, p.name).expect("String");
    }
    for p in &outs {
        writeln!(tb, "  wire [{}:0] {};", p.width - 1, p.name).expect("String");
    }
    let conns: Vec<String> = ports.iter().map(|p| format!(".{0}({0})", p.name)).collect();
    writeln!(tb, "  top dut({});", conns.join(", ")).expect("String");
    writeln!(
        tb,
        "  reg [{}:0] mem [0:{}];\n  integer i, f;",
        total - 1,
        inputs.len().max(1) - 1
    )
    .expect("String");
    let names: Vec<&str> = ins.iter().map(|p| p.name.as_str()).collect();
    let fmt: Vec<&str> = outs.iter().map(|_| "%h").collect();
    let onames: Vec<&str> = outs.iter().map(|p| p.name.as_str()).collect();
    writeln!(
        tb,
        "  initial begin\n    $readmemh(\"{}\", mem);\n    f = $fopen(\"{}\", \"w\");\n    for (i = 0; i < {}; i = i + 1) begin\n      {}\n      #5 clock = 1;\n      #1 $fdisplay(f, \"{}\", {});\n      #4 clock = 0;\n    end\n    $fclose(f);\n    $finish;\n  end\nendmodule",
        path("vectors.hex").display(),
        path("out.txt").display(),
        inputs.len(),
        if names.is_empty() {
            String::new()
        } else {
            format!("{{{}}} = mem[i];", names.join(", "))
        },
        fmt.join(" "),
        onames.join(", ")
    )
    .expect("String");
    std::fs::write(path("top.v"), verilog).map_err(|e| ReplayError(e.to_string()))?;
    std::fs::write(path("tb.v"), tb).map_err(|e| ReplayError(e.to_string()))?;
    run(Command::new("iverilog")
        .arg("-o")
        .arg(path("sim"))
        .arg(path("tb.v"))
        .arg(path("top.v")))?;
    run(Command::new("vvp").arg("-n").arg(path("sim")))?;
    let text = std::fs::read_to_string(path("out.txt")).map_err(|e| ReplayError(e.to_string()))?;
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .zip(&outs)
                .map(|(s, p)| parse_hex(s, p.width))
                .collect()
        })
        .collect()
}

fn run(cmd: &mut Command) -> Result<String, ReplayError> {
    let out = cmd
        .output()
        .map_err(|e| ReplayError(format!("{cmd:?}: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(ReplayError(format!("{cmd:?} failed:\n{text}")))
    }
}

/// Verilator's lint warnings for the design, one per line of its report.
pub fn verilator_lint(verilog: &str) -> Result<Vec<String>, ReplayError> {
    let dir = tempfile::tempdir().map_err(|e| ReplayError(e.to_string()))?;
    let top = dir.path().join("top.v");
    std::fs::write(&top, verilog).map_err(|e| ReplayError(e.to_string()))?;
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wno-fatal", "--top-module", "top"])
        .arg(&top)
        .output()
        .map_err(|e| ReplayError(format!("verilator: {e}")))?;
    let text = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !text.contains("%Warning") {
        return Err(ReplayError(format!("verilator failed:\n{text}")));
    }
    Ok(text
        .lines()
        .filter(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
        .map(str::to_string)
        .collect())
}

/// The warnings in `lint` that come from how rust-hdl writes Verilog, which the cores cannot
/// change, as opposed to from the cores:
/// - WIDTH on a line with a `bit_cast`, which rust-hdl writes as `(x & N'hMASK)`: an AND of
///   the operand's width with the target's, i.e. exactly the zero-extension or truncation the
///   Rust types asked for;
/// - WIDTH on a line with an integer literal (`k + 1`, `drain == 13`, a register's initial
///   value): rust-hdl writes literals 32 bits wide (64 for an enum's reset value), so Verilog
///   sees 32 bits where the Rust type had the operand's width.
///
/// Both leave the arithmetic as the Rust model computes it (the Icarus replay checks exactly
/// that, cycle for cycle). Every other warning fails the test.
pub fn unwaived(lint: &[String], verilog: &str) -> Vec<String> {
    let lines: Vec<&str> = verilog.lines().collect();
    let loc = Regex::new(r":(\d+):\d+:").expect("a valid pattern");
    let mask = Regex::new(r"& \d+'h[0-9a-f]+\)|\b(?:32|64)'h[0-9a-f]+\b").expect("a valid pattern");
    lint.iter()
        .filter(|w| {
            let line = loc
                .captures(w)
                .and_then(|c| c[1].parse::<usize>().ok())
                .and_then(|n| lines.get(n - 1));
            let cast = line.is_some_and(|l| mask.is_match(l));
            !(w.starts_with("%Warning-WIDTH") && cast)
        })
        .cloned()
        .collect()
}

/// Write the exported Verilog where a reviewer can read it.
pub fn snapshot(name: &str, verilog: &str) -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/hw/verilog");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.v")), verilog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_export_s_own_warnings_are_waived() {
        // A core's own width bug (a 31-bit value into 16 bits, no cast, no literal) is kept;
        // a rust-hdl cast mask on another line is waived.
        let v = "module top(a, y, z);\n  input wire [30:0] a;\n  output reg [15:0] y;\n  output reg [31:0] z;\n  always @(*) begin\n    y = a;\n    z = ((a) & 32'hffffffff);\n  end\nendmodule\n";
        let lint = verilator_lint(v).expect("verilator runs (scripts/test.sh installs it)");
        assert!(lint.len() >= 2, "{lint:#?}");
        let bad = unwaived(&lint, v);
        assert_eq!(bad.len(), 1, "{bad:#?}");
        assert!(bad[0].contains(":6:"), "{bad:#?}");
        assert_eq!(
            ports(v),
            vec![
                Port {
                    name: "a".into(),
                    width: 31,
                    input: true
                },
                Port {
                    name: "y".into(),
                    width: 16,
                    input: false
                },
                Port {
                    name: "z".into(),
                    width: 32,
                    input: false
                },
            ]
        );
    }
}
