//! Line charts for the periodic report: SVG (inlined in HTML) and PNG, drawn with plotters
//! and an embedded DejaVu Sans so the output does not depend on the machine's fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and known to parse; a failure would only cost labels.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    /// Dashed lines mark comparisons (the year before).
    pub dashed: bool,
}

/// A chart: x positions labelled by `x_labels`, one or more lines.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = chart.x_labels.len().max(1);
    let y_max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(64)
        .build_cartesian_2d(0..n.saturating_sub(1).max(1), 0f64..y_max)?;
    let labels = &chart.x_labels;
    let fmt_y = |v: &f64| {
        if *v >= 1e6 {
            format!("{:.1}M", v / 1e6)
        } else if *v >= 1e4 {
            format!("{:.0}k", v / 1e3)
        } else {
            format!("{v:.0}")
        }
    };
    c.configure_mesh()
        .x_labels(8.min(n))
        .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .y_label_formatter(&fmt_y)
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let style = ShapeStyle::from(&color).stroke_width(2);
        let points: Vec<(usize, f64)> = s.values.iter().copied().enumerate().collect();
        if s.dashed {
            c.draw_series(DashedLineSeries::new(points, 6, 4, style))?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        } else {
            c.draw_series(LineSeries::new(points, style))?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
    }
    if chart.series.len() > 1 {
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

const SIZE: (u32, u32) = (860, 320);

impl Chart {
    /// The chart as an SVG document (for inlining in HTML).
    pub fn svg(&self) -> String {
        register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            if let Err(e) = draw(self, root) {
                return format!("<p>chart {} could not be drawn: {e}</p>", self.title);
            }
        }
        out
    }

    /// Writes the chart as a PNG file.
    pub fn png(&self, path: &Path) -> Result<(), String> {
        register_font();
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        draw(self, root).map_err(|e| format!("{}: {e}", path.display()))
    }
}
