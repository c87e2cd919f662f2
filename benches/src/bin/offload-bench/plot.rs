//! `--plot FILE.svg`: median time against size, one series per case kind and contender.

use crate::bench::Row;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

pub fn draw(path: &Path, rows: &[Row]) -> Result<()> {
    let mut series: BTreeMap<String, Vec<(u32, f64)>> = BTreeMap::new();
    for r in rows {
        let kind = r.case.to_string();
        let kind = kind
            .rsplit_once(" 2^")
            .map(|(k, _)| k.to_string())
            .unwrap_or(kind);
        let key = format!("{kind} [{}]", r.backend);
        series
            .entry(key)
            .or_default()
            .push((r.case.log_n(), r.stats.median_ms));
    }
    if series.is_empty() {
        return Err(anyhow!("nothing was measured"));
    }
    let (mut x0, mut x1, mut y0, mut y1) = (u32::MAX, 0, f64::MAX, 0f64);
    for pts in series.values() {
        for &(x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    let root = SVGBackend::new(path, (1000, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "offload bench: median time against size",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0 as f64 - 0.5)..(x1 as f64 + 0.5),
            (y0.max(1e-3) / 1.5..y1 * 1.5).log_scale(),
        )
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("log2 n")
        .y_desc("median ms (log scale)")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, (name, mut pts)) in series.into_iter().enumerate() {
        pts.sort_by_key(|p| p.0);
        let color = Palette99::pick(i).to_rgba();
        let data: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x as f64, y)).collect();
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(data.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
