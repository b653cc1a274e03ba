//! `mlopsc run --local` end to end: the minimal example's real step code on a few generated
//! images, through both branches of its quality gate, plus the checks that need no Python.
//!
//! The end-to-end test needs the example's Python environment (torch, torchvision). When it
//! is not in the venv cache yet, the test says so on one line and skips, unless `CI=true`:
//! then the runner creates it (a few minutes, once per machine) and any failure fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MINIMAL_DATA: &str = "s3://minimal-data-0001/images/";

#[path = "common/optional.rs"]
mod optional;

fn mlopsc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlopsc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("mlopsc runs")
}

/// `mlopsc run --local SPEC --workdir DIR --format json`, each local folder mounted with
/// `--data`, then `extra`.
fn run_json(spec: &Path, workdir: &Path, mounts: &[String], extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--local",
        spec.to_str().unwrap(),
        "--workdir",
        workdir.to_str().unwrap(),
        "--format",
        "json",
    ];
    for mount in mounts {
        args.extend(["--data", mount.as_str()]);
    }
    args.extend_from_slice(extra);
    mlopsc(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A copy of the minimal example made small enough to train in seconds on a CPU: 16x16
/// images, one epoch, and a cache on preprocessing so that a second run can reuse it.
fn tiny_minimal(dir: &Path) -> PathBuf {
    let spec = std::fs::read_to_string(examples().join("minimal/mlops.yaml")).unwrap();
    let spec = spec
        .replace(
            "split: {train: 0.8, validation: 0.1, test: 0.1}}",
            "split: {train: 0.6, validation: 0.2, test: 0.2}, image: {width: 16, height: 16}, cacheExpireAfter: P30D}",
        )
        .replace(
            "architecture: resnet18}",
            "architecture: resnet18, hyperparameters: {epochs: 1}}",
        );
    assert!(
        spec.contains("cacheExpireAfter") && spec.contains("epochs: 1"),
        "the example changed:\n{spec}"
    );
    std::fs::create_dir_all(dir.join("code")).unwrap();
    for entry in std::fs::read_dir(examples().join("minimal/code")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join("code").join(path.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.join("mlops.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

/// Three classes of 20 noise images each (binary PPM, which Pillow reads): nothing to
/// learn, so accuracy stays near chance and the 0.7 gate fails.
fn noise_images(dir: &Path) {
    let mut state: u32 = 12345;
    for class in ["alpha", "beta", "gamma"] {
        let folder = dir.join(class);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..20 {
            let mut bytes = b"P6 16 16 255\n".to_vec();
            for _ in 0..16 * 16 * 3 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                bytes.push((state >> 24) as u8);
            }
            std::fs::write(folder.join(format!("{i:02}.ppm")), bytes).unwrap();
        }
    }
}

/// Whether an example's venv can be used; the skip line when it cannot. Under CI=true the
/// runner creates it, so the test always runs there.
fn python_available(example: &str) -> bool {
    let requirements =
        std::fs::read(examples().join(example).join("code/requirements.txt")).unwrap();
    let venv = mlopsc::local::python::venv_root()
        .map(|root| root.join(mlopsc::build::sha256_hex(&requirements)));
    let ready = venv.as_ref().is_some_and(|v| v.join("bin/python").exists());
    if ready || std::env::var("CI").as_deref() == Ok("true") {
        return true;
    }
    optional::present_or_skip(
        false,
        &format!("local_run end-to-end of {example}"),
        &format!(
            "no Python environment at {}; run `mlopsc run --local examples/{example}/mlops.yaml` once to create it",
            venv.map_or("(no cache directory)".into(), |v| v.display().to_string())
        ),
    )
}

/// The summary without what changes from run to run: ids, times, float metrics, paths.
fn stable(summary: &Value) -> Value {
    let mut summary = summary.clone();
    summary["executionId"] = "[id]".into();
    for step in summary["steps"].as_array_mut().unwrap() {
        step["durationSeconds"] = "[seconds]".into();
        if let Some(metrics) = step["metrics"].as_object_mut() {
            metrics.values_mut().for_each(|v| *v = "[value]".into());
        }
        // "Quality gates failed: accuracy = 0.25 (needs >= 0.7)": the measured value varies.
        if let Some((head, rest)) = step["failureReason"]
            .as_str()
            .and_then(|r| r.split_once(" = "))
        {
            let tail = rest
                .split_once(" (")
                .map_or(String::new(), |(_, t)| format!(" ({t}"));
            step["failureReason"] = format!("{head} = [value]{tail}").into();
        }
    }
    if let Some(accuracy) =
        summary.pointer_mut("/properties/EvaluationReport/metrics/accuracy/value")
    {
        *accuracy = "[value]".into();
    }
    if let Some(model) = summary["registeredModel"].as_object_mut() {
        model.insert("modelDataUrl".into(), "[url]".into());
        model.insert("localModelData".into(), "[path]".into());
        if let Some(accuracy) = model
            .get_mut("metrics")
            .and_then(|m| m.pointer_mut("/accuracy/value"))
        {
            *accuracy = "[value]".into();
        }
    }
    summary
}

#[test]
fn minimal_example_runs_both_gate_branches_and_reuses_its_cache() {
    if !python_available("minimal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let spec = tiny_minimal(&tmp.path().join("project"));
    let images = tmp.path().join("images");
    noise_images(&images);
    let workdir = tmp.path().join("work");
    let data = format!("{MINIMAL_DATA}={}", images.display());
    let run = |extra: &[&str]| run_json(&spec, &workdir, std::slice::from_ref(&data), extra);

    // Gate failed: the Fail step runs with its message, nothing is registered, exit 1.
    let failed = run(&[]);
    let stderr = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "stderr:\n{stderr}");
    let summary: Value = serde_json::from_slice(&failed.stdout).expect("one JSON object on stdout");
    assert!(
        stderr.contains("error: step `gate-failed` failed: Quality gates failed: accuracy = "),
        "{stderr}"
    );
    let accuracy = summary
        .pointer("/properties/EvaluationReport/metrics/accuracy/value")
        .and_then(Value::as_f64)
        .unwrap();
    assert!(
        accuracy < 0.7,
        "noise images cannot pass the gate: {accuracy}"
    );
    insta::assert_json_snapshot!("gate_failed", stable(&summary));

    let execution = summary["executionId"].as_str().unwrap();
    let train = workdir.join("runs").join(execution).join("train");
    let log = std::fs::read_to_string(train.join("log.txt")).unwrap();
    assert!(
        log.contains("weights: "),
        "train.py says which weights it started from:\n{log}"
    );
    assert!(log.contains("epoch=0 train_loss="), "{log}");
    let hyperparameters: Value = serde_json::from_slice(
        &std::fs::read(train.join("opt/ml/input/config/hyperparameters.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        hyperparameters["pretrained"], "\"true\"",
        "SageMaker stores hyperparameters as strings, JSON-encoded so the script gets `true`"
    );
    for file in ["resourceconfig.json", "inputdataconfig.json"] {
        assert!(
            train.join("opt/ml/input/config").join(file).is_file(),
            "{file}"
        );
    }
    let model_key =
        format!("s3/minimal-models-0001/models/pipelines-{execution}-train/output/model.tar.gz");
    assert!(
        workdir.join(&model_key).is_file(),
        "the model lands at <S3OutputPath>/<job>/output/model.tar.gz"
    );

    // Gate passed: the same data, AccuracyThreshold=0.0; preprocessing comes from the cache.
    let passed = run(&["--param", "AccuracyThreshold=0.0"]);
    assert_eq!(
        passed.status.code(),
        Some(0),
        "stderr:\n{}",
        text(&passed.stderr)
    );
    let summary: Value = serde_json::from_slice(&passed.stdout).unwrap();
    insta::assert_json_snapshot!("gate_passed", stable(&summary));
    assert_eq!(
        summary["steps"][0]["cacheHit"], true,
        "preprocess is reused: its arguments are unchanged"
    );
    let local_model = PathBuf::from(
        summary["registeredModel"]["localModelData"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        local_model,
        workdir.join("registry/minimal-models/1/model.tar.gz")
    );
    let mut names = Vec::new();
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&local_model).unwrap(),
    ));
    for entry in entries.entries().unwrap() {
        names.push(entry.unwrap().path().unwrap().display().to_string());
    }
    names.sort();
    assert_eq!(names, ["classes.json", "model.pt"]);
    let package: Value = serde_json::from_slice(
        &std::fs::read(workdir.join("registry/minimal-models/1/model-package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["ModelApprovalStatus"], "PendingManualApproval");
    assert!(
        package["InferenceSpecification"]["Containers"][0]["Image"]
            .as_str()
            .unwrap()
            .contains("pytorch-inference")
    );

    // --no-cache runs preprocessing again.
    let again = run(&["--param", "AccuracyThreshold=0.0", "--no-cache"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "stderr:\n{}",
        text(&again.stderr)
    );
    let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["steps"][0]["cacheHit"], false);
    assert_eq!(summary["registeredModel"]["version"], 2);
}

/// A churn table whose label follows from the features (support calls, short tenure,
/// high charges), two rows per customer so that `groupBy: customer_id` has work to do.
fn churn_table(dir: &Path) {
    let mut state: u32 = 777;
    let mut next = |range: u32| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) % range
    };
    let mut rows =
        vec!["customer_id,tenure_months,monthly_charges,support_calls,churned".to_string()];
    for customer in 0..150 {
        let (tenure, charges, calls) = (1 + next(72), 20 + next(100), next(10));
        let risk = 90 * calls / 9 + 60 * (72 - tenure) / 72 + 30 * charges / 120;
        let churned = u32::from(risk > 80);
        for month in 0..2 {
            rows.push(format!(
                "c{customer:04},{},{charges},{calls},{churned}",
                tenure + month
            ));
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("subscriptions.csv"), rows.join("\n") + "\n").unwrap();
}

#[test]
fn churn_example_registers_a_model_and_fails_a_recall_gate_no_model_can_pass() {
    if !python_available("churn-tabular") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("subscriptions");
    churn_table(&data);
    let spec = examples().join("churn-tabular/mlops.yaml");
    let workdir = tmp.path().join("work");
    let mount = format!(
        "s3://churn-xgb-data-0042/extracts/subscriptions/={}",
        data.display()
    );
    let run = |extra: &[&str]| run_json(&spec, &workdir, std::slice::from_ref(&mount), extra);
    let passed = run(&[]);
    assert_eq!(
        passed.status.code(),
        Some(0),
        "stderr:\n{}",
        text(&passed.stderr)
    );
    let summary: Value = serde_json::from_slice(&passed.stdout).unwrap();
    let report = &summary["properties"]["EvaluationReport"]["metrics"];
    assert!(report["auc"]["value"].as_f64().unwrap() >= 0.78, "{report}");
    assert_eq!(summary["registeredModel"]["group"], "churn-xgb");
    assert_eq!(
        summary["registeredModel"]["approvalStatus"], "Approved",
        "registry.approval: automatic"
    );
    let train_metrics = summary["steps"][1]["metrics"].as_object().unwrap();
    let names: Vec<&str> = train_metrics.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["train:loss", "validation:loss", "validation:score"],
        "MetricDefinitions read the log"
    );

    // The recall gate is `>`: no recall exceeds 1.0.
    let failed = run(&["--param", "RecallThreshold=1.0"]);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "stderr:\n{}",
        text(&failed.stderr)
    );
    let summary: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(summary["status"], "Failed");
    assert_eq!(summary["registeredModel"], Value::Null);
    assert!(
        text(&failed.stderr).contains("error: step `gate-failed` failed: Quality gates failed:")
    );
}

/// `../shared/data/ham10000_200x150`, the real dermoscopy images (CC BY-NC, never
/// committed); `None` after the skip line when absent, a failure under `CI=true`.
fn shared_ham10000() -> Option<PathBuf> {
    optional::shared(
        "data/ham10000_200x150/labels.csv",
        "local_run flagship end-to-end on real images",
    )
    .and_then(|labels| labels.parent().map(Path::to_path_buf))
}

/// The flagship on a few real HAM10000 lesions laid out as its three sources: small images
/// and one epoch, so that it runs in a minute on a CPU; both branches of its gate.
#[test]
fn flagship_runs_on_real_dermoscopy_images_through_both_gate_branches() {
    if !python_available("skin-lesion") {
        return;
    }
    let Some(shared) = shared_ham10000() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let layouts = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ham10000-layouts.py"))
        .args([
            "--source",
            shared.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
            "--per-class",
            "4",
        ])
        .output()
        .expect("python3 runs");
    assert!(layouts.status.success(), "{}", text(&layouts.stderr));

    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("code")).unwrap();
    for entry in std::fs::read_dir(examples().join("skin-lesion/code")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, project.join("code").join(path.file_name().unwrap())).unwrap();
        }
    }
    let spec = std::fs::read_to_string(examples().join("skin-lesion/mlops.yaml")).unwrap();
    // HAM10000 has 7 of ISIC 2019's 8 classes (no SCC): num-classes must agree with the data.
    let spec = [
        ("    width: 224", "    width: 64"),
        ("    height: 224", "    height: 64"),
        ("    epochs: 30", "    epochs: 1"),
        ("  numClasses: 8", "  numClasses: 7"),
        ("    batch-size: 64", "    batch-size: 16"),
    ]
    .iter()
    .fold(spec, |spec, (from, to)| {
        assert!(spec.contains(from), "the flagship changed: no `{from}`");
        spec.replace(from, to)
    });
    std::fs::write(project.join("mlops.yaml"), spec).unwrap();
    let spec = project.join("mlops.yaml");
    let workdir = tmp.path().join("work");
    let bucket = "s3://skin-lesion-data-123456789012/raw";
    let mounts: Vec<String> = ["isic2019", "ham10000", "bcn20000"]
        .iter()
        .map(|source| format!("{bucket}/{source}/={}", data.join(source).display()))
        .collect();
    let run = |extra: &[&str]| run_json(&spec, &workdir, &mounts, extra);

    let passed = run(&["--param", "AccuracyThreshold=0.0"]);
    assert_eq!(
        passed.status.code(),
        Some(0),
        "stderr:\n{}",
        text(&passed.stderr)
    );
    let summary: Value = serde_json::from_slice(&passed.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("preprocess", "Succeeded"),
            ("train", "Succeeded"),
            ("evaluate", "Succeeded"),
            ("quality-gate", "Succeeded"),
            ("register", "Succeeded"),
            ("gate-failed", "Skipped"),
            ("baseline", "Succeeded"),
            ("gradcam-report", "Succeeded")
        ]
    );
    assert_eq!(
        summary["registeredModel"]["group"],
        "skin-lesion-classifier"
    );
    let metrics = &summary["properties"]["EvaluationReport"]["metrics"];
    for name in ["accuracy", "precision", "recall", "f1", "auc"] {
        assert!(metrics[name]["value"].is_number(), "{name} in {metrics}");
    }
    let execution = summary["executionId"].as_str().unwrap();
    let log = std::fs::read_to_string(workdir.join("runs").join(execution).join("train/log.txt"))
        .unwrap();
    assert!(
        log.contains("weights: "),
        "train.py says which weights it started from:\n{log}"
    );

    let model = PathBuf::from(
        summary["registeredModel"]["localModelData"]
            .as_str()
            .unwrap(),
    );
    classify_with_the_inference_handler(
        &model,
        &shared.join("images/ISIC_0024306.jpg"),
        tmp.path(),
    );

    let failed = run(&[]);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "stderr:\n{}",
        text(&failed.stderr)
    );
    let summary: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(
        summary["steps"][0]["cacheHit"], true,
        "preprocess is cached (P30D)"
    );
    assert_eq!(summary["registeredModel"], Value::Null);
    assert!(
        text(&failed.stderr)
            .contains("error: step `gate-failed` failed: Quality gates failed: accuracy = ")
    );
}

/// Unpacks a registered model as the PyTorch serving container does and sends a real JPEG
/// through `code/inference.py`, as raw bytes and as JSON.
fn classify_with_the_inference_handler(model: &Path, jpeg: &Path, tmp: &Path) {
    let dir = tmp.join("served");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(model).unwrap(),
    ));
    archive.unpack(&dir).unwrap();
    for file in [
        "model.pt",
        "config.json",
        "code/inference.py",
        "code/common.py",
    ] {
        assert!(dir.join(file).is_file(), "model.tar.gz lacks {file}");
    }
    let requirements = std::fs::read(examples().join("skin-lesion/code/requirements.txt")).unwrap();
    let python = mlopsc::local::python::venv_root()
        .unwrap()
        .join(mlopsc::build::sha256_hex(&requirements))
        .join("bin/python");
    let script = r#"
import base64, json, sys
import inference
loaded = inference.model_fn(sys.argv[1])
data = open(sys.argv[2], "rb").read()
results = []
for body, content_type in [(data, "image/jpeg"), (json.dumps({"image": base64.b64encode(data).decode()}), "application/json")]:
    text, accept = inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), loaded), "application/json")
    results.append(json.loads(text))
print(json.dumps(results))
"#;
    let output = Command::new(python)
        .args(["-c", script, dir.to_str().unwrap(), jpeg.to_str().unwrap()])
        .current_dir(dir.join("code"))
        .env("PYTHONPATH", dir.join("code"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        results[0], results[1],
        "the same image as bytes and as JSON"
    );
    let answer = &results[0];
    let label = answer["predicted_label"].as_str().unwrap();
    assert!(
        config["classes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == label),
        "{answer}"
    );
    let probabilities = answer["probabilities"].as_object().unwrap();
    assert_eq!(
        probabilities.len(),
        config["classes"].as_array().unwrap().len()
    );
    let total: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-4, "{answer}");
    assert_eq!(answer["prediction_confidence"], probabilities[label]);
    assert_eq!(
        config["transform"]["width"], 64,
        "the handler resizes as preprocess did"
    );
}

#[test]
fn an_unknown_or_mistyped_param_is_a_usage_error() {
    let spec = examples().join("minimal/mlops.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let workdir = tmp.path().to_str().unwrap();
    // `run --local` of the minimal example with these arguments; its exit must be 2.
    let usage_error = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--local",
            spec.to_str().unwrap(),
            "--workdir",
            workdir,
        ];
        args.extend_from_slice(extra);
        let output = mlopsc(&args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        text(&output.stderr)
    };
    insta::assert_snapshot!(
        "unknown_param",
        usage_error(&["--param", "AccuracyTreshold=0.5"])
    );
    insta::assert_snapshot!(
        "mistyped_param",
        usage_error(&["--param", "AccuracyThreshold=high"])
    );
    for (extra, says) in [
        (&["--param", "AccuracyThreshold"][..], "is not NAME=VALUE"),
        (
            &[
                "--data",
                "s3://minimal-data-0001/images/=/nonexistent/images",
            ][..],
            "/nonexistent/images: not a directory",
        ),
        (
            &["--python", "/nonexistent/python3"][..],
            "--python /nonexistent/python3:",
        ),
    ] {
        let stderr = usage_error(extra);
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    }
    let without_local = mlopsc(&["run", spec.to_str().unwrap()]);
    assert_eq!(without_local.status.code(), Some(2), "--local is required");
}

/// Every line of example step code that names `/opt/ml` lets the runner move it.
#[test]
fn no_example_script_hard_codes_opt_ml() {
    let mut offenders = Vec::new();
    for example in std::fs::read_dir(examples()).unwrap() {
        let code = example.unwrap().path().join("code");
        for file in std::fs::read_dir(&code).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "py") {
                continue;
            }
            for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
                let code_part = line.split('#').next().unwrap_or("");
                if code_part.contains("/opt/ml") && !code_part.contains("os.environ.get(") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "hard-coded /opt/ml:\n{}",
        offenders.join("\n")
    );
}

/// Every example pins its Python packages, the framework at the container's version.
#[test]
fn every_example_pins_its_requirements() {
    for (example, pin) in [
        ("minimal", "torch==2.3.0"),
        ("skin-lesion", "torch==2.3.0"),
        ("churn-tabular", "xgboost==1.7.6"),
    ] {
        let path = examples().join(example).join("code/requirements.txt");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let packages: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(
            packages.contains(&pin),
            "{example}: {packages:?} lacks {pin}"
        );
        for package in packages {
            assert!(
                package.contains("=="),
                "{example}: `{package}` is not pinned"
            );
        }
    }
    let minimal = std::fs::read(examples().join("minimal/code/requirements.txt")).unwrap();
    let flagship = std::fs::read(examples().join("skin-lesion/code/requirements.txt")).unwrap();
    assert_eq!(
        minimal, flagship,
        "one container, one file: the two share a venv"
    );
}
