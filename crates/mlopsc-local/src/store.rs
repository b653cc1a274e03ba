//! The local object store that stands in for S3: `s3://bucket/key` is the file
//! `<root>/bucket/key`, and `--data` mounts map a prefix to a local folder, read-only.

use std::path::{Path, PathBuf};

/// An `s3://` URI split into bucket and key.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    pub fn parse(uri: &str) -> Result<S3Uri, String> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{uri}` is not an s3:// URI"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || key.split('/').any(|part| part == "..") {
            return Err(format!("`{uri}` is not a valid S3 URI"));
        }
        Ok(S3Uri {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// A local folder serving an S3 prefix, read-only.
#[derive(Clone, Debug)]
struct Mount {
    prefix: S3Uri,
    dir: PathBuf,
}

#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    mounts: Vec<Mount>,
}

impl Store {
    /// `mounts` are `(s3 prefix, folder)` pairs from `--data`; a prefix names a folder,
    /// so a missing trailing `/` is added.
    pub fn new(root: PathBuf, mounts: &[(String, PathBuf)]) -> Result<Store, String> {
        let mut parsed = Vec::new();
        for (uri, dir) in mounts {
            let mut prefix = S3Uri::parse(uri)?;
            if !prefix.key.is_empty() && !prefix.key.ends_with('/') {
                prefix.key.push('/');
            }
            if !dir.is_dir() {
                return Err(format!("--data {uri}={}: not a directory", dir.display()));
            }
            parsed.push(Mount {
                prefix,
                dir: dir.clone(),
            });
        }
        // The longest prefix wins when mounts nest.
        parsed.sort_by_key(|m| std::cmp::Reverse(m.prefix.key.len()));
        Ok(Store {
            root,
            mounts: parsed,
        })
    }

    fn mount_of(&self, uri: &S3Uri) -> Option<&Mount> {
        self.mounts
            .iter()
            .find(|m| m.prefix.bucket == uri.bucket && uri.key.starts_with(&m.prefix.key))
    }

    /// The store as step code reads it (`MLOPSC_S3`): `{"root": dir, "mounts": [[prefix,
    /// dir], ...]}`, longest prefix first, so a script that lists and reads S3 itself (the
    /// monitor step) sees what an `S3Prefix` input would.
    pub fn describe(&self) -> serde_json::Value {
        let mounts: Vec<serde_json::Value> = self
            .mounts
            .iter()
            .map(|m| serde_json::json!([m.prefix.to_string(), m.dir]))
            .collect();
        serde_json::json!({"root": self.root, "mounts": mounts})
    }

    /// Where the object `uri` lives on disk (it may not exist yet).
    pub fn path(&self, uri: &S3Uri) -> PathBuf {
        match self.mount_of(uri) {
            Some(mount) => mount.dir.join(&uri.key[mount.prefix.key.len()..]),
            None => self.root.join(&uri.bucket).join(&uri.key),
        }
    }

    /// Where to write the object `uri`; refuses a key inside a `--data` mount.
    pub fn writable_path(&self, uri: &S3Uri) -> Result<PathBuf, String> {
        match self.mount_of(uri) {
            Some(mount) => Err(format!(
                "`{uri}` is inside `--data {}={}`, which is read-only",
                mount.prefix,
                mount.dir.display()
            )),
            None => Ok(self.root.join(&uri.bucket).join(&uri.key)),
        }
    }

    /// The objects whose key starts with `uri`'s key, each with its path relative to the
    /// prefix's folder (the part of the key after its last `/`), as SageMaker lays out an
    /// `S3Prefix` input.
    pub fn list(&self, uri: &S3Uri) -> Result<Vec<(String, PathBuf)>, String> {
        let folder_key = &uri.key[..uri.key.rfind('/').map_or(0, |i| i + 1)];
        let folder = self.path(&S3Uri {
            bucket: uri.bucket.clone(),
            key: folder_key.to_string(),
        });
        let mut found = Vec::new();
        if folder.is_dir() {
            walk_files(&folder, &folder, &mut found)
                .map_err(|e| format!("cannot list `{}`: {e}", folder.display()))?;
        }
        let name_prefix = &uri.key[folder_key.len()..];
        found.retain(|(relative, _)| relative.starts_with(name_prefix));
        found.sort();
        Ok(found)
    }

    /// Copies every object below `uri` into `dir`; an error when there is none, as in
    /// SageMaker.
    pub fn download(&self, uri: &S3Uri, dir: &Path) -> Result<usize, String> {
        let objects = self.list(uri)?;
        if objects.is_empty() {
            return Err(format!(
                "no objects under {uri} (local store: {})",
                self.path(uri).display()
            ));
        }
        for (relative, source) in &objects {
            let target = dir.join(relative);
            copy_file(source, &target)?;
        }
        Ok(objects.len())
    }

    /// Uploads every file below `dir` under the prefix `uri`.
    pub fn upload_dir(&self, dir: &Path, uri: &S3Uri) -> Result<usize, String> {
        let mut files = Vec::new();
        if dir.is_dir() {
            walk_files(dir, dir, &mut files)
                .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        }
        let base = if uri.key.is_empty() || uri.key.ends_with('/') {
            uri.key.clone()
        } else {
            format!("{}/", uri.key)
        };
        for (relative, source) in &files {
            let target = self.writable_path(&S3Uri {
                bucket: uri.bucket.clone(),
                key: format!("{base}{relative}"),
            })?;
            copy_file(source, &target)?;
        }
        Ok(files.len())
    }

    /// Writes one object.
    pub fn put(&self, uri: &S3Uri, bytes: &[u8]) -> Result<(), String> {
        let target = self.writable_path(uri)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        std::fs::write(&target, bytes)
            .map_err(|e| format!("cannot write `{}`: {e}", target.display()))
    }
}

/// Every regular file below `dir` (symlinks followed), with its `/`-separated path
/// relative to `base`.
pub fn walk_files(
    base: &Path,
    dir: &Path,
    into: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            walk_files(base, &path, into)?;
        } else if meta.is_file() {
            let relative = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            into.push((relative, path));
        }
    }
    Ok(())
}

pub fn copy_file(source: &Path, target: &Path) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    std::fs::copy(source, target).map(|_| ()).map_err(|e| {
        format!(
            "cannot copy `{}` to `{}`: {e}",
            source.display(),
            target.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_list_like_s3_and_mounts_are_read_only() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(data.join("cats")).unwrap();
        std::fs::write(data.join("cats/a.png"), b"a").unwrap();
        let store = Store::new(
            tmp.path().join("s3"),
            &[("s3://in/images".to_string(), data.clone())],
        )
        .unwrap();
        let images = S3Uri::parse("s3://in/images/").unwrap();
        let listed: Vec<_> = store
            .list(&images)
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(listed, ["cats/a.png"]);
        assert!(
            store
                .put(&S3Uri::parse("s3://in/images/new").unwrap(), b"x")
                .unwrap_err()
                .contains("read-only")
        );
        let model = S3Uri::parse("s3://out/models/job/output/model.tar.gz").unwrap();
        store.put(&model, b"m").unwrap();
        store
            .put(
                &S3Uri::parse("s3://out/models/job/output/model.tar.gz.bak").unwrap(),
                b"b",
            )
            .unwrap();
        store
            .put(&S3Uri::parse("s3://out/models/job/other").unwrap(), b"o")
            .unwrap();
        let single: Vec<_> = store
            .list(&model)
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(single, ["model.tar.gz", "model.tar.gz.bak"]);
        let into = tmp.path().join("sandbox");
        assert_eq!(store.download(&images, &into).unwrap(), 1);
        assert_eq!(std::fs::read(into.join("cats/a.png")).unwrap(), b"a");
        let empty = S3Uri::parse("s3://out/nothing/").unwrap();
        assert!(
            store
                .download(&empty, &into)
                .unwrap_err()
                .contains("no objects under")
        );
        assert!(S3Uri::parse("s3://b/../etc").is_err());
        assert!(S3Uri::parse("/tmp/x").is_err());
    }
}
