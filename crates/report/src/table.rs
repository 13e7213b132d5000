//! A query's rows as a terminal table, CSV or JSON (`sql --format`, `report --csv`): arrow's
//! own writers, so every column type prints the way DataFusion typed it.

use std::io::Write;

use arrow::error::ArrowError;

/// How a query's rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// A terminal table with borders.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects, one per row.
    Json,
}

/// Writes `batches` in `format`; CSV and the table print the columns even without rows.
pub fn write_batches(
    batches: &[arrow::array::RecordBatch],
    format: TableFormat,
    out: &mut dyn Write,
) -> Result<(), ArrowError> {
    match format {
        TableFormat::Table => {
            let t = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{t}")?;
        }
        TableFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for b in batches {
                w.write(b)?;
            }
        }
        TableFormat::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            drop(w);
            writeln!(out)?;
        }
    }
    Ok(())
}
