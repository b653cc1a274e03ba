//! The local model registry that `run --local`'s RegisterModel steps write
//! (`<workdir>/registry/<group>/<version>/model-package.json` beside `model.tar.gz`), and
//! what approving a package does on this machine. On AWS, approval starts the deploy state
//! machine, which makes the package's drift baseline and model archive the live ones that
//! the monitoring pipeline reads; [`Registry::approve`] does the same in the local store, so
//! that `serve --local` and `run --local --pipeline monitoring` see what AWS would.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::{Value, json};

use crate::store::{S3Uri, Store, copy_file};

/// The status a package must have for `latest-approved` to serve it.
pub const APPROVED: &str = "Approved";

/// Which package: `GROUP/VERSION` or `latest-approved`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Version { group: String, version: u64 },
    LatestApproved,
}

impl FromStr for Selector {
    type Err = String;

    fn from_str(text: &str) -> Result<Selector, String> {
        if text == "latest-approved" {
            return Ok(Selector::LatestApproved);
        }
        let bad = || {
            format!(
                "`{text}` is not GROUP/VERSION (such as skin-lesion-classifier/3) or latest-approved"
            )
        };
        let (group, version) = text.rsplit_once('/').ok_or_else(bad)?;
        let version = version.parse().map_err(|_| bad())?;
        if group.is_empty() || group.contains('/') {
            return Err(bad());
        }
        Ok(Selector::Version {
            group: group.to_string(),
            version,
        })
    }
}

/// One registered package.
#[derive(Clone, Debug)]
pub struct Package {
    pub group: String,
    pub version: u64,
    pub dir: PathBuf,
    /// `model-package.json`: the RegisterModel step's arguments and SageMaker's properties.
    pub document: Value,
}

impl Package {
    /// `GROUP/VERSION`.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    pub fn status(&self) -> &str {
        self.document
            .get("ModelApprovalStatus")
            .and_then(Value::as_str)
            .unwrap_or("PendingManualApproval")
    }

    /// The first container's model archive, as `register` copied it.
    pub fn model_archive(&self) -> PathBuf {
        self.dir.join("model.tar.gz")
    }

    /// The first container's environment (`SAGEMAKER_PROGRAM` and the like), as every model
    /// made from the package gets it.
    pub fn serving_environment(&self) -> Vec<(String, String)> {
        self.document
            .pointer("/InferenceSpecification/Containers/0/Environment")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// The evaluation's metrics the package was registered with (`ModelMetrics.ModelQuality`),
    /// `null` when it has none.
    pub fn quality_metrics(&self) -> Value {
        std::fs::read(self.dir.join("metrics/ModelQuality-Statistics.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .map(|document| document.get("metrics").cloned().unwrap_or(document))
            .unwrap_or(Value::Null)
    }

    /// `DriftCheckBaselines.ModelDataQuality.Statistics`, where the pipeline stored it.
    fn drift_statistics_uri(&self) -> Option<&str> {
        self.document
            .pointer("/DriftCheckBaselines/ModelDataQuality/Statistics/S3Uri")
            .and_then(Value::as_str)
    }
}

/// Where approval makes a package live for monitoring: the compiled system's
/// `drift_baseline_uri` and the monitored model's URI (image monitoring only).
#[derive(Clone, Debug, Default)]
pub struct LiveMonitoring {
    pub drift_baseline_uri: Option<String>,
    pub model_uri: Option<String>,
}

/// What approving copied, as `(from, to)` URIs or paths, for the command to report.
#[derive(Clone, Debug, Default)]
pub struct Approval {
    pub copies: Vec<(String, String)>,
}

pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// The registry of a `run --local` work directory.
    pub fn in_workdir(workdir: &Path) -> Registry {
        Registry {
            root: workdir.join("registry"),
        }
    }

    /// The group's packages, oldest first; none when nothing was registered.
    pub fn packages(&self, group: &str) -> Result<Vec<Package>, String> {
        let dir = self.root.join(group);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read `{}`: {e}", dir.display())),
        };
        let mut versions: Vec<u64> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        versions.sort_unstable();
        versions
            .into_iter()
            .filter(|version| {
                dir.join(version.to_string())
                    .join("model-package.json")
                    .is_file()
            })
            .map(|version| self.read(group, version))
            .collect()
    }

    fn read(&self, group: &str, version: u64) -> Result<Package, String> {
        let dir = self.root.join(group).join(version.to_string());
        let file = dir.join("model-package.json");
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let document = serde_json::from_slice(&bytes)
            .map_err(|e| format!("`{}` is not JSON: {e}", file.display()))?;
        Ok(Package {
            group: group.to_string(),
            version,
            dir,
            document,
        })
    }

    /// The package `selector` names in `group` (the spec's), or why there is none.
    pub fn select(&self, group: &str, selector: &Selector) -> Result<Package, String> {
        let packages = self.packages(group)?;
        let registered = || {
            if packages.is_empty() {
                format!(
                    "nothing is registered in {group} under `{}`\nhelp: `mlopsc run --local` registers a package when the quality gates pass (with --workdir, the same directory)",
                    self.root.display()
                )
            } else {
                let list: Vec<String> = packages
                    .iter()
                    .map(|p| format!("{} ({})", p.version, p.status()))
                    .collect();
                format!("registered in {group}: {}", list.join(", "))
            }
        };
        match selector {
            Selector::Version {
                group: named,
                version,
            } => {
                if named != group {
                    return Err(format!(
                        "the spec registers its models in `{group}`, not `{named}`"
                    ));
                }
                packages
                    .iter()
                    .find(|p| p.version == *version)
                    .cloned()
                    .ok_or_else(|| format!("no package {group}/{version}; {}", registered()))
            }
            Selector::LatestApproved => packages
                .iter()
                .rev()
                .find(|p| p.status() == APPROVED)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "no approved package in {group}; {}\nhelp: approve one with `mlopsc registry approve --local {group}/VERSION`, or name one with --model {group}/VERSION",
                        registered()
                    )
                }),
        }
    }

    /// Marks `package` Approved and makes its drift baseline and model archive the live
    /// ones in `store`. The copies come first: a failed copy leaves the package as it was.
    pub fn approve(
        &self,
        package: &Package,
        live: &LiveMonitoring,
        store: &Store,
    ) -> Result<Approval, String> {
        let mut approval = Approval::default();
        if let Some(target) = &live.drift_baseline_uri {
            let source = package.drift_statistics_uri().ok_or_else(|| {
                format!(
                    "{} carries no DriftCheckBaselines statistics, which the monitoring pipeline reads from {target}",
                    package.reference()
                )
            })?;
            let from = store.path(&S3Uri::parse(source)?);
            copy_file(&from, &store.writable_path(&S3Uri::parse(target)?)?)?;
            approval.copies.push((source.to_string(), target.clone()));
        }
        if let Some(target) = &live.model_uri {
            let from = package.model_archive();
            copy_file(&from, &store.writable_path(&S3Uri::parse(target)?)?)?;
            approval
                .copies
                .push((from.display().to_string(), target.clone()));
        }
        let mut document = package.document.clone();
        document["ModelApprovalStatus"] = json!(APPROVED);
        let file = package.dir.join("model-package.json");
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        // Written beside it and renamed, so a reader never sees half a file.
        let partial = package.dir.join("model-package.json.partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &file))
            .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
        Ok(approval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(root: &Path, version: u64, status: &str) {
        let dir = root.join("registry/group-a").join(version.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let document = json!({
            "ModelApprovalStatus": status,
            "DriftCheckBaselines": {"ModelDataQuality": {"Statistics": {"S3Uri": format!("s3://b/baselines/{version}/statistics.json")}}},
        });
        std::fs::write(dir.join("model-package.json"), document.to_string()).unwrap();
        std::fs::write(dir.join("model.tar.gz"), format!("model {version}")).unwrap();
    }

    #[test]
    fn a_selector_is_group_slash_version_or_latest_approved() {
        assert_eq!(
            "g-1/12".parse::<Selector>(),
            Ok(Selector::Version {
                group: "g-1".into(),
                version: 12
            })
        );
        assert_eq!(
            "latest-approved".parse::<Selector>(),
            Ok(Selector::LatestApproved)
        );
        for bad in ["g", "g/", "/3", "g/x", "a/b/3", "latest"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn approval_makes_the_package_live_and_latest_approved_serves_it() {
        let tmp = tempfile::tempdir().unwrap();
        for (version, status) in [
            (1, "Approved"),
            (2, "PendingManualApproval"),
            (10, "Rejected"),
        ] {
            register(tmp.path(), version, status);
        }
        let registry = Registry::in_workdir(tmp.path());
        let latest = registry
            .select("group-a", &Selector::LatestApproved)
            .unwrap();
        assert_eq!(latest.version, 1);
        let store = Store::new(tmp.path().join("s3"), &[]).unwrap();
        store
            .put(
                &S3Uri::parse("s3://b/baselines/2/statistics.json").unwrap(),
                b"{\"v\": 2}",
            )
            .unwrap();
        let second = registry
            .select(
                "group-a",
                &Selector::Version {
                    group: "group-a".into(),
                    version: 2,
                },
            )
            .unwrap();
        let live = LiveMonitoring {
            drift_baseline_uri: Some("s3://p/monitoring/baseline/statistics.json".into()),
            model_uri: Some("s3://p/monitoring/baseline/model.tar.gz".into()),
        };
        let approval = registry.approve(&second, &live, &store).unwrap();
        assert_eq!(approval.copies.len(), 2);
        let live_dir = tmp.path().join("s3/p/monitoring/baseline");
        assert_eq!(
            std::fs::read_to_string(live_dir.join("statistics.json")).unwrap(),
            "{\"v\": 2}"
        );
        assert_eq!(
            std::fs::read_to_string(live_dir.join("model.tar.gz")).unwrap(),
            "model 2"
        );
        let latest = registry
            .select("group-a", &Selector::LatestApproved)
            .unwrap();
        assert_eq!((latest.version, latest.status()), (2, "Approved"));
    }

    #[test]
    fn a_failed_copy_leaves_the_package_unapproved() {
        let tmp = tempfile::tempdir().unwrap();
        register(tmp.path(), 1, "PendingManualApproval");
        let registry = Registry::in_workdir(tmp.path());
        let package = registry
            .select(
                "group-a",
                &Selector::Version {
                    group: "group-a".into(),
                    version: 1,
                },
            )
            .unwrap();
        let store = Store::new(tmp.path().join("s3"), &[]).unwrap();
        // The baseline object was never stored.
        let live = LiveMonitoring {
            drift_baseline_uri: Some("s3://p/monitoring/baseline/statistics.json".into()),
            model_uri: None,
        };
        assert!(registry.approve(&package, &live, &store).is_err());
        let again = registry.select("group-a", &Selector::LatestApproved);
        assert!(again.unwrap_err().contains("1 (PendingManualApproval)"));
    }

    #[test]
    fn a_missing_package_names_the_registered_ones() {
        let tmp = tempfile::tempdir().unwrap();
        register(tmp.path(), 1, "Approved");
        let registry = Registry::in_workdir(tmp.path());
        let wanted = Selector::Version {
            group: "group-a".into(),
            version: 7,
        };
        let error = registry.select("group-a", &wanted).unwrap_err();
        assert_eq!(
            error,
            "no package group-a/7; registered in group-a: 1 (Approved)"
        );
        let other = Selector::Version {
            group: "group-b".into(),
            version: 1,
        };
        assert!(
            registry
                .select("group-a", &other)
                .unwrap_err()
                .contains("not `group-b`")
        );
        let empty = Registry::in_workdir(&tmp.path().join("none"));
        assert!(
            empty
                .select("group-a", &Selector::LatestApproved)
                .unwrap_err()
                .contains("nothing is registered")
        );
    }
}
