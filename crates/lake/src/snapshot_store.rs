//! What DataFusion reads a table through: an object store whose listing is exactly the
//! files of one Delta snapshot (never the directory, so a stray, half-written or removed
//! file is not read), and whose reads go to the local file system. Hive partition pruning
//! works as on a directory, because the listing answers by path prefix.

use std::fmt;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use noisefloor_delta::Snapshot;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

use crate::LakeError;

/// A read-only view of one table version.
#[derive(Debug)]
pub struct SnapshotStore {
    files: Arc<Vec<ObjectMeta>>,
    disk: LocalFileSystem,
    name: String,
}

impl SnapshotStore {
    /// The files of `snapshot`, read from under `root`.
    pub fn new(root: &FsPath, snapshot: &Snapshot, name: &str) -> Result<Self, LakeError> {
        let mut files = Vec::with_capacity(snapshot.files.len());
        for add in snapshot.files.values() {
            let Some(rel) = noisefloor_delta::decode_path(&add.path) else {
                return Err(LakeError::Corrupt(format!(
                    "{}: the {name} table's log names a file outside the table: {:?}; run `noisefloor check`",
                    root.display(),
                    add.path
                )));
            };
            files.push(ObjectMeta {
                location: Path::from_iter(rel.split('/')),
                last_modified: DateTime::<Utc>::from_timestamp_millis(add.modification_time)
                    .unwrap_or_default(),
                size: add.size.max(0) as u64,
                e_tag: None,
                version: None,
            });
        }
        files.sort_by(|a, b| a.location.cmp(&b.location));
        let disk = LocalFileSystem::new_with_prefix(root).map_err(|e| LakeError::Io {
            path: root.to_owned(),
            source: std::io::Error::other(e),
        })?;
        Ok(SnapshotStore {
            files: Arc::new(files),
            disk,
            name: name.to_owned(),
        })
    }

    fn under<'a>(&'a self, prefix: Option<&'a Path>) -> impl Iterator<Item = &'a ObjectMeta> {
        self.files
            .iter()
            .filter(move |m| prefix.is_none_or(|p| m.location.prefix_matches(p)))
    }
}

impl fmt::Display for SnapshotStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SnapshotStore({}, {} files)",
            self.name,
            self.files.len()
        )
    }
}

fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_owned(),
        implementer: "noisefloor SnapshotStore (read-only)".to_owned(),
    }
}

#[async_trait]
impl ObjectStore for SnapshotStore {
    async fn put_opts(&self, _: &Path, _: PutPayload, _: PutOptions) -> Result<PutResult> {
        Err(read_only("put"))
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        Err(read_only("put_multipart"))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.disk.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.disk.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        locations.map(|_| Err(read_only("delete"))).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let found: Vec<Result<ObjectMeta>> = self.under(prefix).cloned().map(Ok).collect();
        futures::stream::iter(found).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let depth = prefix.map_or(0, |p| p.parts().count());
        let mut common_prefixes: Vec<Path> = Vec::new();
        let mut objects = Vec::new();
        for m in self.under(prefix) {
            let parts: Vec<_> = m.location.parts().collect();
            if parts.len() == depth + 1 {
                objects.push(m.clone());
            } else if parts.len() > depth + 1 {
                let dir = Path::from_iter(parts[..=depth].iter().cloned());
                if common_prefixes.last() != Some(&dir) {
                    common_prefixes.push(dir);
                }
            }
        }
        Ok(ListResult {
            common_prefixes,
            objects,
        })
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> Result<()> {
        Err(read_only("copy"))
    }
}
