//! `mlopsc run --local SPEC --pipeline monitoring` end to end, and the whole local loop
//! (train, `registry approve`, `serve --local`, monitor what it captured). The flagship's training
//! pipeline computes a drift baseline from real HAM10000 images, the baseline and model are
//! made live as approving the package does, and the monitoring pipeline compares
//! SageMaker-format captures with it: held-back images keep every drift alarm `OK`, the same
//! images brightened, blurred or colour-cast set the matching alarm to `ALARM`.
//!
//! It needs the flagship's Python environment (without it, it says so on one line and skips,
//! unless `CI=true`). It uses the shared HAM10000 images when `../shared` has them, and
//! synthetic lesions in the same layout otherwise (scripts/synthetic-lesions.py).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "common/endpoint.rs"]
mod endpoint;
#[path = "common/in_process.rs"]
mod in_process;
#[path = "common/optional.rs"]
mod optional;
#[path = "common/run_local.rs"]
mod run_local;
use endpoint::Endpoint;
use run_local::{mlopsc, run_json, summary_of};

const DATA_BUCKET: &str = "s3://skin-lesion-data-123456789012";
const PIPELINE_BUCKET: &str = "s3://skin-lesion-pipeline-123456789012";
/// The hour the captures are written under, and the end of the window that holds it.
const CAPTURE_HOUR: &str = "2026-01-15T10";
const WINDOW_END: &str = "WindowEnd=2026-01-15T11:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The flagship's venv python, if it exists (or CI=true, where the runner creates it).
fn flagship_python() -> Option<PathBuf> {
    let requirements =
        std::fs::read(root().join("examples/skin-lesion/code/requirements.txt")).unwrap();
    let venv = mlopsc::local::python::venv_root(
        std::env::var_os("XDG_CACHE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
    .map(|root| root.join(mlopsc::build::sha256_hex(&requirements)));
    let python = venv.as_ref().map(|v| v.join("bin/python"));
    let ready = python.as_ref().is_some_and(|p| p.exists());
    if ready || std::env::var("CI").as_deref() == Ok("true") {
        return python;
    }
    optional::present_or_skip(
        false,
        "monitoring_run end-to-end of skin-lesion",
        &format!(
            "no Python environment at {}; run `mlopsc run --local examples/skin-lesion/mlops.yaml` once to create it",
            venv.map_or("(no cache directory)".into(), |v| v.display().to_string())
        ),
    );
    None
}

/// The shared HAM10000 images, or synthetic lesions in the same layout when `../shared` is
/// absent (said on one line; under CI=true the real ones are required).
fn image_source(python: &Path, tmp: &Path) -> PathBuf {
    let real = optional::shared_dir().join("data/ham10000_200x150");
    if optional::present_or_skip(
        real.join("labels.csv").is_file(),
        "monitoring_run on real HAM10000 images (synthetic lesions instead)",
        "no ../shared/data/ham10000_200x150",
    ) {
        return real;
    }
    let synthetic = tmp.join("synthetic");
    let output = Command::new(python)
        .arg(root().join("scripts/synthetic-lesions.py"))
        .args(["--out", synthetic.to_str().unwrap(), "--per-class", "40"])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    synthetic
}

/// A test's own copy of the tiny flagship, with its training data: 4 images per class in
/// each data source's layout, drawn from [`image_source`].
struct Project {
    tmp: tempfile::TempDir,
    python: PathBuf,
    /// Where the images come from (labels.csv and images/).
    shared: PathBuf,
    /// The three data sources' folders.
    data: PathBuf,
    spec: PathBuf,
}

impl Project {
    /// `None` (after the skip line) without the flagship's Python environment.
    fn new() -> Option<Project> {
        let python = flagship_python()?;
        let tmp = tempfile::tempdir().unwrap();
        let shared = image_source(&python, tmp.path());
        let data = tmp.path().join("data");
        let layouts = Command::new("python3")
            .arg(root().join("scripts/ham10000-layouts.py"))
            .args(["--source", shared.to_str().unwrap()])
            .args(["--out", data.to_str().unwrap(), "--per-class", "4"])
            .output()
            .expect("python3 runs");
        assert!(layouts.status.success(), "{}", text(&layouts.stderr));
        let spec = tiny_flagship(&tmp.path().join("project"));
        Some(Project {
            tmp,
            python,
            shared,
            data,
            spec,
        })
    }
}

/// The flagship's three data sources, each mounted from `data/<source>`.
fn data_mounts(data: &Path) -> Vec<String> {
    ["isic2019", "ham10000", "bcn20000"]
        .iter()
        .flat_map(|source| {
            [
                "--data".to_string(),
                format!(
                    "{DATA_BUCKET}/raw/{source}/={}",
                    data.join(source).display()
                ),
            ]
        })
        .collect()
}

/// The flagship, small enough to train in a minute on a CPU, with resnet18 in place of its
/// efficientnet_lite0: this test is about monitoring, and its drift figures (docs/monitoring.md)
/// were measured with resnet18.
fn tiny_flagship(project: &Path) -> PathBuf {
    std::fs::create_dir_all(project.join("code")).unwrap();
    for entry in std::fs::read_dir(root().join("examples/skin-lesion/code")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, project.join("code").join(path.file_name().unwrap())).unwrap();
        }
    }
    let spec = std::fs::read_to_string(root().join("examples/skin-lesion/mlops.yaml")).unwrap();
    let spec = [
        ("    width: 224", "    width: 64"),
        ("    height: 224", "    height: 64"),
        ("    epochs: 30", "    epochs: 1"),
        ("    batch-size: 64", "    batch-size: 16"),
        ("architecture: efficientnet_lite0", "architecture: resnet18"),
    ]
    .iter()
    .fold(spec, |spec, (from, to)| {
        assert!(spec.contains(from), "the flagship changed: no `{from}`");
        spec.replace(from, to)
    });
    let path = project.join("mlops.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

/// `run --local` of `spec` in `workdir`, as JSON; panics unless it succeeds.
fn run(spec: &Path, workdir: &Path, extra: &[&str]) -> Value {
    summary_of(&run_json(spec, workdir, &[], extra), 0)
}

/// What approving the registered package does to monitoring: its
/// `DriftCheckBaselines.ModelDataQuality.Statistics` object and its model archive become the
/// live baseline, here a folder served at `monitoring/baseline/`.
fn approve(workdir: &Path, summary: &Value, live: &Path) {
    let registered = &summary["registeredModel"];
    let package: Value = serde_json::from_slice(
        &std::fs::read(
            workdir
                .join("registry/skin-lesion-classifier")
                .join(registered["version"].to_string())
                .join("model-package.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let statistics = package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"]
        .as_str()
        .expect("the package carries its drift baseline");
    let stored = workdir
        .join("s3")
        .join(statistics.strip_prefix("s3://").unwrap());
    std::fs::create_dir_all(live).unwrap();
    std::fs::copy(stored, live.join("statistics.json")).unwrap();
    std::fs::copy(
        registered["localModelData"].as_str().unwrap(),
        live.join("model.tar.gz"),
    )
    .unwrap();
}

/// `count` held-back images as the endpoint's captures, shifted by `shift` when given, and
/// their labels as ground truth arriving in `label_hour` (scripts/write-captures.py).
fn captures(
    python: &Path,
    shared: &Path,
    exclude: &Path,
    out: &Path,
    shift: Option<&str>,
    count: usize,
    label_hour: &str,
) {
    let mut command = Command::new(python);
    command
        .arg(root().join("scripts/write-captures.py"))
        .args(["--source", shared.to_str().unwrap()])
        .args(["--exclude", exclude.to_str().unwrap()])
        .arg("--captures")
        .arg(out.join("capture/skin-lesion-classifier/AllTraffic"))
        .arg("--ground-truth")
        .arg(out.join("truth"))
        .args(["--hour", CAPTURE_HOUR, "--label-hour", label_hour])
        .args(["--count", &count.to_string()]);
    if let Some(shift) = shift {
        command.args(["--shift", shift]);
    }
    let output = command.output().expect("python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// The alarm states of a monitoring summary, by alarm name.
fn states(summary: &Value) -> Vec<(String, String)> {
    summary["alarms"]
        .as_array()
        .expect("alarms")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn state<'a>(states: &'a [(String, String)], name: &str) -> &'a str {
    states
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
        .unwrap_or_else(|| panic!("no alarm {name} in {states:?}"))
}

const DRIFT_ALARMS: [&str; 6] = [
    "skin-lesion-embedding-drift",
    "skin-lesion-brightness-shift",
    "skin-lesion-contrast-shift",
    "skin-lesion-colour-shift",
    "skin-lesion-sharpness-shift",
    "skin-lesion-confidence-shift",
];

#[test]
fn drift_alarms_stay_ok_on_held_back_images_and_fire_on_shifted_ones() {
    let Some(Project {
        tmp,
        python,
        shared,
        data,
        spec,
    }) = Project::new()
    else {
        return;
    };
    let workdir = tmp.path().join("work");

    let mut training: Vec<String> = [
        "--param",
        "AccuracyThreshold=0.0",
        "--param",
        "MELRecallThreshold=0.0",
    ]
    .map(String::from)
    .to_vec();
    training.extend(data_mounts(&data));
    let training: Vec<&str> = training.iter().map(String::as_str).collect();
    let trained = run(&spec, &workdir, &training);
    let baseline_step = trained["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "baseline")
        .expect("the training pipeline computes the baseline");
    assert_eq!(baseline_step["status"], "Succeeded");
    let live = tmp.path().join("live");
    approve(&workdir, &trained, &live);
    let baseline: Value =
        serde_json::from_slice(&std::fs::read(live.join("statistics.json")).unwrap()).unwrap();
    for member in ["embeddings", "images", "predictions"] {
        assert!(baseline[member].is_object(), "statistics.json has {member}");
    }

    // One monitoring run over `count` held-back captures (and their labels, arriving in
    // `label_hour`), with the live model unless `deployed` is false.
    let monitor_in = |spec: &Path,
                      name: &str,
                      shift: Option<&str>,
                      count: usize,
                      deployed: bool,
                      label_hour: &str,
                      params: &[&str]| {
        let out = tmp.path().join(name);
        captures(&python, &shared, &data, &out, shift, count, label_hour);
        let mut mounts = vec![
            format!(
                "{PIPELINE_BUCKET}/data-capture/={}",
                out.join("capture").display()
            ),
            format!(
                "{DATA_BUCKET}/ground-truth/={}",
                out.join("truth").display()
            ),
        ];
        if deployed {
            mounts.push(format!(
                "{PIPELINE_BUCKET}/monitoring/baseline/={}",
                live.display()
            ));
        }
        let mut args = vec!["--pipeline", "monitoring"];
        for param in params {
            args.extend(["--param", param]);
        }
        for mount in &mounts {
            args.extend(["--data", mount.as_str()]);
        }
        run(spec, &workdir, &args)
    };
    let monitor_with = |name: &str,
                        shift: Option<&str>,
                        count: usize,
                        deployed: bool,
                        label_hour: &str,
                        params: &[&str]| {
        monitor_in(&spec, name, shift, count, deployed, label_hour, params)
    };
    let monitor = |name: &str, shift: Option<&str>, count: usize| {
        monitor_with(name, shift, count, true, CAPTURE_HOUR, &[WINDOW_END])
    };

    let held_back = monitor("held-back", None, 200);
    let report = &held_back["properties"]["MonitoringReport"];
    assert_eq!(report["captures"], 200, "{report}");
    assert_eq!(report["compared"], 200, "{report}");
    assert_eq!(report["quality"]["labelled"], 200, "{report}");
    eprintln!(
        "200 held-back captures: statistics {} p-values {}",
        report["statistics"], report["pValues"]
    );
    let metrics = held_back["metrics"].as_object().expect("metrics");
    for metric in [
        "embedding_drift",
        "brightness_shift",
        "contrast_shift",
        "colour_shift",
        "sharpness_shift",
        "confidence_shift",
        "accuracy",
    ] {
        assert!(metrics[metric].is_number(), "{metric} in {metrics:?}");
    }
    // Every statistic has a p-value, a probability, published beside it.
    let p_values = report["pValues"].as_object().expect("pValues");
    for statistic in [
        "embeddingDrift",
        "brightnessShift",
        "contrastShift",
        "colourShift",
        "sharpnessShift",
        "confidenceShift",
        "predictedClassShift",
    ] {
        let p = p_values[statistic].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&p), "{statistic}: p-value {p}");
    }
    assert!(
        metrics["embedding_drift_p_value"].is_number(),
        "{metrics:?}"
    );
    let held_back_states = states(&held_back);
    for alarm in DRIFT_ALARMS {
        assert_eq!(state(&held_back_states, alarm), "OK", "{held_back:#}");
    }
    // The tiny model's accuracy is what it is; its alarm is evaluated, not missing.
    assert_ne!(
        state(&held_back_states, "skin-lesion-model-quality"),
        "INSUFFICIENT_DATA"
    );
    let thresholds: Vec<(String, f64)> = held_back["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["metric"].as_str().unwrap().to_string(),
                a["threshold"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(thresholds.contains(&("embedding_drift".into(), 0.3)));
    assert!(thresholds.contains(&("accuracy".into(), 0.8)));

    // Thresholds far below what chance gives: every statistic of the same held-back images
    // is above its threshold, but its p-value says chance explains it, and no alarm fires.
    let flagship = std::fs::read_to_string(&spec).unwrap();
    let low = ["        threshold: 0.3\n", "        threshold: 0.5\n"]
        .iter()
        .fold(flagship, |spec, from| {
            assert!(spec.contains(from), "the flagship changed: no `{from}`");
            spec.replace(from, "        threshold: 0.01\n")
        });
    let low_spec = spec.with_file_name("mlops-low-thresholds.yaml");
    std::fs::write(&low_spec, low).unwrap();
    let chance = monitor_in(
        &low_spec,
        "held-back-low-thresholds",
        None,
        200,
        true,
        CAPTURE_HOUR,
        &[WINDOW_END],
    );
    let report = &chance["properties"]["MonitoringReport"];
    eprintln!(
        "200 held-back captures, thresholds 0.01: statistics {} p-values {}",
        report["statistics"], report["pValues"]
    );
    let chance_states = states(&chance);
    for (statistic, alarm) in [
        ("embeddingDrift", DRIFT_ALARMS[0]),
        ("brightnessShift", DRIFT_ALARMS[1]),
        ("contrastShift", DRIFT_ALARMS[2]),
        ("colourShift", DRIFT_ALARMS[3]),
        ("sharpnessShift", DRIFT_ALARMS[4]),
        ("confidenceShift", DRIFT_ALARMS[5]),
    ] {
        let value = report["statistics"][statistic].as_f64().unwrap_or(0.0);
        assert!(
            value > 0.01,
            "{statistic} {value}: the check could not fail"
        );
        assert_eq!(state(&chance_states, alarm), "OK", "{report}");
    }

    // No drift in a small window raises no alarm: below `minCaptures` (default 50) nothing
    // is published, and every alarm reads INSUFFICIENT_DATA.
    for count in [1, 5, 20] {
        let small = monitor(&format!("held-back-{count}"), None, count);
        let report = &small["properties"]["MonitoringReport"];
        assert_eq!(report["captures"], count, "{report}");
        assert_eq!(small["metrics"], serde_json::json!({}), "{count} captures");
        assert!(
            states(&small).iter().all(|(_, s)| s == "INSUFFICIENT_DATA"),
            "{count} captures: {small:#}"
        );
    }

    // Each real shift of 200 captures alarms, and its test calls it no chance.
    for (shift, statistic, alarm) in [
        (
            "brightness",
            "brightnessShift",
            "skin-lesion-brightness-shift",
        ),
        ("blur", "sharpnessShift", "skin-lesion-sharpness-shift"),
        ("colour", "colourShift", "skin-lesion-colour-shift"),
    ] {
        let shifted = monitor(shift, Some(shift), 200);
        assert_eq!(
            state(&states(&shifted), alarm),
            "ALARM",
            "{shift}: {:#}",
            shifted["metrics"]
        );
        let report = &shifted["properties"]["MonitoringReport"];
        let p = report["pValues"][statistic].as_f64().unwrap_or(1.0);
        assert!(p < 1e-6, "{shift}: p-value of {statistic} {p}");
    }

    // Labels arrive weeks after their captures. A quality-only run (WindowHours 0, as the
    // quality schedule starts it) 21 days later joins the captures of the last
    // `labelLatencyDays` (30) with the labels that arrived 20 days after them; one that
    // joins only the last 10 days of captures finds none labelled and publishes nothing.
    let late = ["WindowEnd=2026-02-05T11:00:00Z", "WindowHours=0"];
    let joined = monitor_with("late-labels", None, 60, true, "2026-02-04T10", &late);
    let report = &joined["properties"]["MonitoringReport"];
    assert_eq!(report["quality"]["labelled"], 60, "{report}");
    assert_eq!(
        report["compared"], 0,
        "a quality-only run measures no drift: {report}"
    );
    let published: Vec<&String> = joined["metrics"].as_object().unwrap().keys().collect();
    assert_eq!(published, ["accuracy"], "{report}");
    let recent = [late[0], late[1], "LabelDays=10"];
    let unjoined = monitor_with("late-labels-10", None, 60, true, "2026-02-04T10", &recent);
    let report = &unjoined["properties"]["MonitoringReport"];
    assert_eq!(report["quality"]["labelled"], 0, "{report}");
    assert_eq!(unjoined["metrics"], serde_json::json!({}), "{report}");
    assert_eq!(
        state(&states(&unjoined), "skin-lesion-model-quality"),
        "INSUFFICIENT_DATA"
    );

    // Before the first deployment there is no live baseline or model: the run succeeds and
    // publishes nothing, where a download of the missing inputs would fail the job.
    let undeployed = monitor_with("undeployed", None, 60, false, CAPTURE_HOUR, &[WINDOW_END]);
    let report = &undeployed["properties"]["MonitoringReport"];
    assert_eq!(report["captures"], 60, "{report}");
    assert!(
        report["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("no deployed model")),
        "{report}"
    );
    assert_eq!(undeployed["metrics"], serde_json::json!({}));
    // Fewer captures than `minCaptures` (default 50): no statistic, INSUFFICIENT_DATA.
    let few = monitor("few", Some("brightness"), 10);
    let report = &few["properties"]["MonitoringReport"];
    assert_eq!(
        (report["captures"].as_u64(), report["compared"].as_u64()),
        (Some(10), Some(0)),
        "{report}"
    );
    assert_eq!(few["metrics"], serde_json::json!({}));
    assert!(
        states(&few).iter().all(|(_, s)| s == "INSUFFICIENT_DATA"),
        "{few:#}"
    );

    // A window without captures publishes nothing: every alarm lacks data.
    let empty = monitor_with(
        "empty",
        None,
        60,
        true,
        CAPTURE_HOUR,
        &["WindowEnd=2026-01-14T11:00:00Z"],
    );
    assert_eq!(empty["metrics"], serde_json::json!({}));
    assert!(
        states(&empty).iter().all(|(_, s)| s == "INSUFFICIENT_DATA"),
        "{empty:#}"
    );
}

#[test]
fn a_spec_without_image_monitoring_has_no_monitoring_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let output = mlopsc(&[
        "run",
        "--local",
        root().join("examples/minimal/mlops.yaml").to_str().unwrap(),
        "--workdir",
        tmp.path().to_str().unwrap(),
        "--pipeline",
        "monitoring",
    ]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    let stderr = &output.stderr;
    assert!(stderr.contains("has no monitoring pipeline"), "{stderr}");
    assert!(stderr.contains("help: "), "{stderr}");
}

/// Every `.jpg` under `dir`, by name.
fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files
}

/// `WindowEnd` one hour after the newest capture hour under `captures` (`yyyy/mm/dd/hh/`),
/// and `WindowHours=2`, so that a burst that crossed an hour is one window.
fn window_after(captures: &Path) -> [String; 2] {
    let mut files = Vec::new();
    mlopsc::local::store::walk_files(captures, captures, &mut files).unwrap();
    let newest = files
        .iter()
        .filter_map(|(relative, _)| {
            let parts: Vec<u32> = relative
                .split('/')
                .take(4)
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            (parts.len() == 4).then(|| (parts[0], parts[1], parts[2], parts[3]))
        })
        .max()
        .expect("the endpoint captured requests");
    let (year, month, day, hour) = newest;
    // The hour after: the date rolls over at 23:00, handled by asking the shell's date.
    let end = Command::new("date")
        .args(["-u", "-d"])
        .arg(format!(
            "{year:04}-{month:02}-{day:02} {hour:02}:00 UTC + 1 hour"
        ))
        .arg("+WindowEnd=%Y-%m-%dT%H:00:00Z")
        .output()
        .expect("date runs");
    [text(&end.stdout).trim().to_string(), "WindowHours=2".into()]
}

/// The loop a user runs on a laptop: train and register, approve, serve, send held-back
/// images over HTTP, monitor what the endpoint captured (every drift alarm OK), then send
/// the same images brightened and monitor again (the brightness alarm fires). On the way,
/// the endpoint answers bad requests with a 4xx and its reason and keeps serving.
#[test]
fn the_loop_trains_approves_serves_captures_and_monitors() {
    let Some(Project {
        tmp,
        python,
        shared,
        data,
        spec,
    }) = Project::new()
    else {
        return;
    };
    // Every request captured, so that the test knows the window holds all it sent.
    let flagship = std::fs::read_to_string(&spec).unwrap();
    assert!(flagship.contains("    samplingPercent: 20\n"));
    std::fs::write(
        &spec,
        flagship.replace("    samplingPercent: 20\n", "    samplingPercent: 100\n"),
    )
    .unwrap();
    let workdir = tmp.path().join("work");
    let spec_arg = spec.to_str().unwrap();
    let workdir_arg = workdir.to_str().unwrap();

    let mut training = vec![
        "--param",
        "AccuracyThreshold=0.0",
        "--param",
        "MELRecallThreshold=0.0",
    ];
    let mounts = data_mounts(&data);
    training.extend(mounts.iter().map(String::as_str));
    let trained = run(&spec, &workdir, &training);
    let version = trained["registeredModel"]["version"].to_string();
    let model = format!("skin-lesion-classifier/{version}");

    // Nothing is approved yet: serving the latest approved package is refused, with help.
    let before = mlopsc(&["serve", "--local", spec_arg, "--workdir", workdir_arg]);
    assert_eq!(before.code, 2, "{}", before.stderr);
    assert!(
        before
            .stderr
            .contains("no approved package in skin-lesion-classifier"),
        "{}",
        before.stderr
    );
    assert!(
        before.stderr.contains("mlopsc registry approve --local"),
        "{}",
        before.stderr
    );

    let approved = mlopsc(&[
        "registry",
        "approve",
        "--local",
        &model,
        spec_arg,
        "--workdir",
        workdir_arg,
    ]);
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    let live = workdir.join("s3/skin-lesion-pipeline-123456789012/monitoring/baseline");
    assert!(live.join("statistics.json").is_file() && live.join("model.tar.gz").is_file());
    let listed = mlopsc(&[
        "registry",
        "list",
        "--local",
        spec_arg,
        "--workdir",
        workdir_arg,
        "--format",
        "json",
    ]);
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed["packages"][0]["status"], "Approved", "{listed}");

    let endpoint = Endpoint::start(&spec, &workdir, &["--model", "latest-approved"]);
    assert_eq!(endpoint.request("GET", "/ping", &[], Some(b"")).0, 200);
    let requests = tmp.path().join("requests");
    let write = |dir: &Path, shift: Option<&str>| {
        let mut command = Command::new(&python);
        command
            .arg(root().join("scripts/write-captures.py"))
            .args(["--source", shared.to_str().unwrap()])
            .args(["--exclude", data.to_str().unwrap()])
            .args(["--images", dir.to_str().unwrap(), "--count", "200"]);
        if let Some(shift) = shift {
            command.args(["--shift", shift]);
        }
        let output = command.output().expect("python runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        jpegs(dir)
    };
    let held_back = write(&requests.join("held-back"), None);

    // Bad requests: a 4xx with a reason, and the endpoint still serves.
    let corrupt = endpoint.invoke("image/jpeg", b"\xff\xd8\xff not a jpeg", "bad-1");
    assert_eq!(corrupt.0, 400, "{corrupt:?}");
    assert!(
        corrupt
            .1
            .contains("input_fn refused the request: the body is not an image this handler reads"),
        "{corrupt:?}"
    );
    let truncated = endpoint.invoke(
        "image/jpeg",
        &std::fs::read(&held_back[1]).unwrap()[..600],
        "bad-5",
    );
    assert_eq!(truncated.0, 400, "{truncated:?}");
    let empty = endpoint.invoke("image/jpeg", b"", "bad-2");
    assert_eq!(
        empty,
        (
            400,
            r#"{"error": "the request has no body; send an image or JSON"}"#.into()
        )
    );
    let image = std::fs::read(&held_back[0]).unwrap();
    let wrong_type = endpoint.invoke("text/plain", &image, "bad-3");
    assert_eq!(wrong_type.0, 415, "{wrong_type:?}");
    assert!(
        wrong_type
            .1
            .contains("unsupported content type 'text/plain'"),
        "{wrong_type:?}"
    );
    let huge = endpoint.request(
        "POST",
        "/invocations",
        &[("Content-Type", "image/jpeg")],
        None,
    );
    assert_eq!(huge.0, 413, "{huge:?}");
    assert!(huge.1.contains("at most 6291456"), "{huge:?}");
    let lost = endpoint.request("GET", "/nowhere", &[], Some(b""));
    assert_eq!(lost.0, 404, "{lost:?}");

    // JSON requests are answered as image ones are.
    let json_body = serde_json::json!({"image": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &image)}).to_string();
    let (status, answer) = endpoint.invoke("application/json", json_body.as_bytes(), "json-1");
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert!(answer["probabilities"]["MEL"].is_number(), "{answer}");
    let captures = workdir.join(
        "s3/skin-lesion-pipeline-123456789012/data-capture/skin-lesion-classifier/AllTraffic",
    );
    let cleared = std::cell::Cell::new(0);
    let clear = || {
        // The captures so far are of earlier requests: moved out of the window.
        if captures.exists() {
            cleared.set(cleared.get() + 1);
            std::fs::rename(
                &captures,
                tmp.path().join(format!("captured-{}", cleared.get())),
            )
            .unwrap();
        }
    };
    clear();

    let send = |images: &[PathBuf]| {
        for path in images {
            let id = path.file_stem().unwrap().to_str().unwrap();
            let (status, answer) = endpoint.invoke("image/jpeg", &std::fs::read(path).unwrap(), id);
            assert_eq!(status, 200, "{id}: {answer}");
        }
    };
    let monitor = || {
        let window = window_after(&captures);
        let mut args = vec!["--pipeline", "monitoring", "--param", "LabelDays=0"];
        for param in &window {
            args.extend(["--param", param.as_str()]);
        }
        run(&spec, &workdir, &args)
    };
    send(&held_back);
    let calm = monitor();
    let report = &calm["properties"]["MonitoringReport"];
    assert_eq!(report["captures"], 200, "{report}");
    assert_eq!(report["compared"], 200, "{report}");
    let calm_states = states(&calm);
    for alarm in DRIFT_ALARMS {
        assert_eq!(state(&calm_states, alarm), "OK", "{alarm}: {report}");
    }

    clear();
    send(&write(&requests.join("brightened"), Some("brightness")));
    let bright = monitor();
    let report = &bright["properties"]["MonitoringReport"];
    assert_eq!(report["captures"], 200, "{report}");
    assert_eq!(
        state(&states(&bright), "skin-lesion-brightness-shift"),
        "ALARM",
        "{report}"
    );
    eprintln!(
        "the loop: 200 held-back requests {} ; 200 brightened requests {}",
        serde_json::json!(calm_states),
        serde_json::json!(states(&bright))
    );
}
