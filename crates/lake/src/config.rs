//! `noisefloor.toml`: where the lake is, which databases attribute sources, and the sensors.
//!
//! ```toml
//! [lake]
//! path = "/var/lib/noisefloor/lake"
//!
//! [enrich]
//! mmdb = ["/usr/share/GeoIP/GeoLite2-City.mmdb", "/usr/share/GeoIP/GeoLite2-ASN.mmdb"]
//! prefix_to_as = ["/var/lib/noisefloor/routeviews-rv2-20261101-1200.pfx2as.gz"]
//!
//! [[sensor]]
//! name = "tokyo-1"
//! group = "domestic"
//! own = ["198.51.100.7/32"]
//! timezone = "Asia/Tokyo"
//! ```
//!
//! Relative paths are relative to the configuration file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::LakeError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub lake: LakeSection,
    #[serde(default)]
    pub enrich: EnrichSection,
    #[serde(default, rename = "sensor")]
    pub sensors: Vec<SensorConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeSection {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichSection {
    #[serde(default)]
    pub mmdb: Vec<PathBuf>,
    #[serde(default)]
    pub prefix_to_as: Vec<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    pub name: String,
    /// e.g. `domestic` / `overseas`: reports compare groups.
    pub group: Option<String>,
    /// The sensor's own addresses or prefixes, to tell its traffic from the world's.
    #[serde(default)]
    pub own: Vec<String>,
    /// Zone for log times written without an offset (IANA name, `UTC`, `+09:00`).
    pub timezone: Option<String>,
}

impl SensorConfig {
    /// The `own` prefixes, parsed.
    pub fn own_prefixes(&self) -> Result<Vec<(IpAddr, u8)>, LakeError> {
        self.own
            .iter()
            .map(|p| {
                noisefloor_classify::parse_prefix(p).map_err(|e| {
                    LakeError::Config(format!("sensor {}: own prefix {p:?}: {e}", self.name))
                })
            })
            .collect()
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, LakeError> {
        let text = std::fs::read_to_string(path).map_err(|source| LakeError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut c: Config = toml::from_str(&text)
            .map_err(|e| LakeError::Config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = &mut c.lake.path {
            rebase(p);
        }
        c.enrich.mmdb.iter_mut().for_each(rebase);
        c.enrich.prefix_to_as.iter_mut().for_each(rebase);
        for (i, s) in c.sensors.iter().enumerate() {
            crate::store::check_sensor_name(&s.name)
                .map_err(|e| LakeError::Config(format!("{}: {e}", path.display())))?;
            if c.sensors[..i].iter().any(|o| o.name == s.name) {
                return Err(LakeError::Config(format!(
                    "{}: sensor {} is listed twice",
                    path.display(),
                    s.name
                )));
            }
            s.own_prefixes()?;
        }
        Ok(c)
    }

    pub fn sensor(&self, name: &str) -> Option<&SensorConfig> {
        self.sensors.iter().find(|s| s.name == name)
    }

    /// Sensors in a group.
    pub fn group_members(&self, group: &str) -> Vec<&str> {
        self.sensors
            .iter()
            .filter(|s| s.group.as_deref() == Some(group))
            .map(|s| s.name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sensors_and_rejects_mistakes() {
        let dir = std::env::temp_dir().join(format!("nf-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("noisefloor.toml");
        std::fs::write(
            &p,
            "[lake]\npath = \"lake\"\n[enrich]\nmmdb = [\"a.mmdb\"]\n[[sensor]]\nname = \"tokyo-1\"\ngroup = \"domestic\"\nown = [\"198.51.100.7/32\"]\ntimezone = \"Asia/Tokyo\"\n[[sensor]]\nname = \"nyc\"\ngroup = \"overseas\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.lake.path.as_deref(), Some(dir.join("lake").as_path()));
        assert_eq!(c.enrich.mmdb, vec![dir.join("a.mmdb")]);
        assert_eq!(c.group_members("domestic"), vec!["tokyo-1"]);
        assert_eq!(
            c.sensor("tokyo-1").unwrap().own_prefixes().unwrap().len(),
            1
        );
        for bad in [
            "[[sensor]]\nname = \"../x\"\n",
            "[[sensor]]\nname = \"a\"\n[[sensor]]\nname = \"a\"\n",
            "[[sensor]]\nname = \"a\"\nown = [\"1.2.3.4/40\"]\n",
            "[[sensor]]\nname = \"a\"\ncolour = \"red\"\n",
        ] {
            std::fs::write(&p, bad).unwrap();
            assert!(Config::load(&p).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
