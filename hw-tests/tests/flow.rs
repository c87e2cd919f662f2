//! The open flow end to end on the smallest core: synthesis, place and route at 100 MHz on the
//! ECP5-85, a bitstream, and a report that says what was used and whether timing was met.
//! Larger cores take minutes per run (`offload hw build --core ...`), so CI builds only this.

use offload_hdl::{catalog, flow};

#[test]
fn the_smallest_core_becomes_a_bitstream() {
    let core = catalog::core("babybear-addsub").expect("in the catalogue");
    let dir = tempfile::tempdir().unwrap();
    let target = flow::target("ecp5-85k").unwrap();
    let rep = flow::build(
        core.name,
        &core.verilog(),
        target,
        &flow::Options::default(),
        dir.path(),
    )
    .unwrap_or_else(|e| panic!("{e} (scripts/test.sh installs the YoWASP tools)"));
    assert!(rep.timing_met, "{}", rep.markdown());
    assert_eq!(rep.outcome, "met");
    assert!(rep.achieved_mhz >= 100.0);
    let bit = rep.bitstream.as_ref().expect("a bitstream");
    assert!(std::fs::metadata(bit).unwrap().len() > 100_000);
    // Two 31-bit operands, the sum and a flag or two: carries and LUTs, no multipliers.
    assert!(
        rep.luts.0 > 31 && rep.flip_flops.0 >= 31 + 31,
        "{}",
        rep.markdown()
    );
    assert_eq!(rep.dsp_mult18.0, 0);
    let text = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(text.contains("100 MHz requested: met"), "{text}");

    // A clock the core cannot reach: nextpnr stops and the report says so.
    let opts = flow::Options {
        freq_mhz: 1000.0,
        ..flow::Options::default()
    };
    let rep = flow::build(core.name, &core.verilog(), target, &opts, dir.path()).unwrap();
    assert!(
        !rep.timing_met && rep.bitstream.is_none(),
        "{}",
        rep.markdown()
    );
    assert!(rep.outcome.starts_with("missed"), "{}", rep.outcome);
}
