//! How the cost of compiling grows with the spec: the flagship, then synthetic specs of 10,
//! 100 and 1,000 elements. Each is a spec AWS would accept, so every element counts: 40% data
//! sources, 40% quality gates, 10% alarms and 10% chained custom steps (1,000 elements: 400,
//! 400, 100 and 100). Sources and gates only lengthen the pipeline definition; each alarm is a
//! resource of the stack (500 at most) and each custom step about 2 KB of the template
//! (1,000,000 bytes at most), so a tenfold spread of all four would overflow the template.
//!
//! `cargo bench --bench compile` (or `scripts/bench.sh`, which also times whole processes).

use std::fmt::Write as _;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlopsc::build::{CompileError, Compiled, compile};
use mlopsc::diagnostics::SourceFile;
use mlopsc::validate::validate;

/// Compiles and insists on success: a benchmark that times a failing compile measures
/// nothing (it hid that the synthetic specs did not compile at all).
fn compiled(source: &SourceFile, dir: &Path) -> Compiled {
    match compile(source, dir) {
        Ok(compiled) => compiled,
        Err(CompileError::Spec(diagnostics)) => {
            panic!("{} does not compile: {diagnostics:?}", source.name)
        }
        Err(CompileError::Internal(error)) => {
            panic!("{} does not compile: {error}", source.name)
        }
    }
}

fn flagship(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/skin-lesion/mlops.yaml");
    let text = std::fs::read_to_string(&path).expect("the flagship example exists");
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    let dir = path.parent().expect("the example has a folder");
    c.bench_function("flagship/validate", |b| b.iter(|| validate(&source)));
    c.bench_function("flagship/compile", |b| b.iter(|| compiled(&source, dir)));
}

/// A valid spec of `n` elements: `2n/5` data sources and gates, `n/10` alarms and chained
/// custom steps.
fn synthetic_spec(n: usize) -> String {
    let (sources, gates, alarms, steps) = (n * 2 / 5, n * 2 / 5, n / 10, n / 10);
    let mut text = String::from(
        "apiVersion: mlopsc/v1\n\
         project: {name: synthetic, region: us-east-1}\n\
         storage:\n  buckets: {data: syn-data-0001, models: syn-models-0001, logs: syn-logs-0001, pipeline: syn-pipeline-0001}\n\
         dataSources:\n",
    );
    for i in 0..sources {
        let _ = writeln!(
            text,
            "  - {{name: source{i}, format: imageFolder, uri: \"s3://syn-data-0001/s{i}/\"}}"
        );
    }
    text.push_str(
        "preprocessing: {instanceType: ml.m5.large, split: {train: 0.8, validation: 0.1, test: 0.1}}\n\
         model: {framework: pytorch, frameworkVersion: 2.3.0, architecture: resnet18}\n\
         training: {instanceType: ml.g4dn.xlarge}\n\
         evaluation: {instanceType: ml.m5.large, metrics: [accuracy, f1]}\n\
         qualityGates:\n",
    );
    for i in 0..gates {
        let metric = if i % 2 == 0 { "accuracy" } else { "f1" };
        let _ = writeln!(
            text,
            "  - {{metric: {metric}, comparator: \">=\", threshold: 0.{}}}",
            5 + i % 4
        );
    }
    text.push_str("registry: {modelPackageGroup: synthetic}\nalarms:\n");
    for i in 0..alarms {
        let _ = writeln!(
            text,
            "  - {{name: alarm{i}, metric: pipelineExecutionFailed, threshold: 1}}"
        );
    }
    text.push_str("customSteps:\n");
    for i in 0..steps {
        let after = if i == 0 {
            "evaluate".to_string()
        } else {
            format!("step{}", i - 1)
        };
        let _ = writeln!(
            text,
            "  - {{name: step{i}, type: processing, dependsOn: [{after}], instanceType: ml.m5.large, entryPoint: step.py}}"
        );
    }
    text
}

fn scaling(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("the code folder");
    for script in ["preprocess.py", "train.py", "evaluate.py", "step.py"] {
        std::fs::write(code.join(script), "print('step')\n").expect("a script");
    }
    let mut group = c.benchmark_group("synthetic");
    group.sample_size(10);
    for n in [10usize, 100, 1000] {
        let source = SourceFile {
            name: format!("synthetic-{n}.yaml"),
            text: synthetic_spec(n),
        };
        assert!(
            !validate(&source).has_errors(),
            "the synthetic spec is valid: {:?}",
            validate(&source).diagnostics.first()
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("compile", n), &source, |b, s| {
            b.iter(|| compiled(s, dir.path()))
        });
    }
    group.finish();
}

criterion_group!(benches, flagship, scaling);
criterion_main!(benches);
