//! `--lake` and `--config`, which every lake command shares, and the enrichment databases
//! they name.

use std::path::PathBuf;

use anyhow::Result;
use noisefloor_enrich::Enricher;
use noisefloor_lake::Config;

/// Options every lake command shares.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LakeArgs {
    /// The lake directory (default: the config's lake.path, else ./noisefloor-lake)
    #[arg(long, value_name = "DIR")]
    lake: Option<PathBuf>,
    /// Configuration file: lake path, enrichment databases, sensors and groups (TOML;
    /// docs/lake.md). Default: ./noisefloor.toml when it exists
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl LakeArgs {
    pub(crate) fn load(&self) -> Result<(Config, PathBuf)> {
        let path = self.config.clone().or_else(|| {
            let p = PathBuf::from("noisefloor.toml");
            p.exists().then_some(p)
        });
        let config = match &path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let lake = self
            .lake
            .clone()
            .or_else(|| config.lake.path.clone())
            .unwrap_or_else(|| PathBuf::from(noisefloor_lake::DEFAULT_LAKE));
        Ok((config, lake))
    }
}

/// The enrichment databases of the config and the command line, in that order.
pub fn enricher(config: &Config, mmdb: &[PathBuf], pfx: &[PathBuf]) -> Result<Enricher> {
    let mut e = Enricher::new();
    for p in config.enrich.mmdb.iter().chain(mmdb) {
        e.add_mmdb(p)?;
    }
    for p in config.enrich.prefix_to_as.iter().chain(pfx) {
        let stats = e.add_prefix_table(p)?;
        if stats.rejected > 0
            && let Some((line, why)) = &stats.first_reject
        {
            eprintln!(
                "noisefloor: {}: {} line(s) skipped, first at line {line}: {why}",
                p.display(),
                stats.rejected
            );
        }
    }
    Ok(e)
}
