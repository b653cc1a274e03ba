//! The artifacts of a build: each declared once with its path and how it reaches AWS, and
//! the collection a build fills, which only takes declared files.

use std::collections::BTreeMap;

use crate::graph::{GraphFormat, Kind};

/// How an artifact reaches AWS: the one fact every consumer (build's writer, the manifest,
/// `apply`'s uploads, the offline and live plans) decides by. Each artifact carries it, so a
/// new one cannot be uploaded, skipped or diffed by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployedAs {
    /// The CloudFormation template: the stack itself, passed to a change set.
    StackTemplate,
    /// A definition the template embeds as a resource of its own; the plans diff it as a
    /// document against the deployed (or committed) one.
    Definition(Definition),
    /// A body the template embeds that has no definition to read back (the dashboard): the
    /// offline plan compares it as a file; nothing uploads it.
    InlinedBody,
    /// A file the template refers to by its content-hash key ([`support_key`](super::contract::support_key)): `apply`
    /// uploads it to the pipeline bucket; the offline plan compares it as a file.
    SupportObject,
    /// For people, not AWS (the diagrams): `build` writes it, `apply` never uploads it and
    /// the plans never compare it.
    Documentation,
    /// The hashes of every other file: what `build` owns and compares; never deployed.
    Manifest,
}

/// The definitions the plans show as documents, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Definition {
    Pipeline,
    MonitoringPipeline,
    StateMachine,
    DeployStateMachine,
}

/// An artifact with a fixed path, declared once with how it is deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared {
    pub path: &'static str,
    pub deployed_as: DeployedAs,
}

/// Declares each fixed-path artifact once, as a constant, and lists them all in [`FIXED`], so
/// that a new artifact is one line here (and one in [`emit`](super::emit)).
macro_rules! registry {
    ($($(#[doc = $doc:literal])* $name:ident: $path:literal => $deployed_as:expr;)+) => {
        $(
            $(#[doc = $doc])*
            pub const $name: Declared = Declared { path: $path, deployed_as: $deployed_as };
        )+
        /// Every fixed-path declaration, so that a file found on disk but absent from a new
        /// build (a deploy state machine whose `deployment:` was removed) is still known by
        /// what it was.
        pub const FIXED: &[Declared] = &[$($name),+];
    };
}

// The registry: every artifact with a fixed path. (Support objects are named by the
// monitoring configuration, so they are declared where they are made, by
// `Artifacts::insert_support`.) The file names are an interface: keep them.
registry! {
    PIPELINE: "pipeline.json" => DeployedAs::Definition(Definition::Pipeline);
    /// The monitoring pipeline's definition, for image monitoring.
    MONITORING_PIPELINE: "monitoring-pipeline.json" => DeployedAs::Definition(Definition::MonitoringPipeline);
    STATE_MACHINE: "retraining.asl.json" => DeployedAs::Definition(Definition::StateMachine);
    /// The deploy state machine; only a system with an endpoint has it.
    DEPLOY_STATE_MACHINE: "deploy.asl.json" => DeployedAs::Definition(Definition::DeployStateMachine);
    TEMPLATE: "template.yaml" => DeployedAs::StackTemplate;
    DASHBOARD: "dashboard.json" => DeployedAs::InlinedBody;
    MANIFEST: "manifest.json" => DeployedAs::Manifest;
    ARCHITECTURE_DIAGRAM: "diagrams/architecture.mmd" => DeployedAs::Documentation;
    PIPELINE_DIAGRAM: "diagrams/pipeline.mmd" => DeployedAs::Documentation;
    MONITORING_DIAGRAM: "diagrams/monitoring.mmd" => DeployedAs::Documentation;
    ARCHITECTURE_SVG: "diagrams/architecture.svg" => DeployedAs::Documentation;
    PIPELINE_SVG: "diagrams/pipeline.svg" => DeployedAs::Documentation;
    MONITORING_SVG: "diagrams/monitoring.svg" => DeployedAs::Documentation;
}

/// The files `build` writes the diagram of `kind` to, each in its format: Mermaid, which
/// GitHub renders in Markdown, and SVG, which anything else shows.
pub fn diagram_files(kind: Kind) -> [(Declared, GraphFormat); 2] {
    let (mermaid, svg) = match kind {
        Kind::Architecture => (ARCHITECTURE_DIAGRAM, ARCHITECTURE_SVG),
        Kind::Pipeline => (PIPELINE_DIAGRAM, PIPELINE_SVG),
        Kind::Monitoring => (MONITORING_DIAGRAM, MONITORING_SVG),
    };
    [(mermaid, GraphFormat::Mermaid), (svg, GraphFormat::Svg)]
}

/// The fixed-path declaration of `path`, if it has one.
pub fn declared(path: &str) -> Option<Declared> {
    FIXED.iter().copied().find(|d| d.path == path)
}

/// One file of a build: its bytes and how it is deployed.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    pub deployed_as: DeployedAs,
    pub bytes: Vec<u8>,
}

/// The files of one build, by relative path. A `BTreeMap` keeps their order stable. Files
/// only enter through a declaration, so every one says how it is deployed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Artifacts {
    files: BTreeMap<String, Artifact>,
}

impl Artifacts {
    /// Adds (or replaces) the artifact `declared` with its bytes.
    pub fn insert(&mut self, declared: Declared, bytes: Vec<u8>) {
        self.files.insert(
            declared.path.to_string(),
            Artifact {
                deployed_as: declared.deployed_as,
                bytes,
            },
        );
    }

    /// Adds a support object: a file the template refers to by its content-hash key.
    pub fn insert_support(&mut self, path: String, bytes: Vec<u8>) {
        self.files.insert(
            path,
            Artifact {
                deployed_as: DeployedAs::SupportObject,
                bytes,
            },
        );
    }

    /// The bytes of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|a| a.bytes.as_slice())
    }

    /// The file at `path`, with how it is deployed.
    pub fn artifact(&self, path: &str) -> Option<&Artifact> {
        self.files.get(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Every file, by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Artifact)> {
        self.files.iter().map(|(path, a)| (path.as_str(), a))
    }

    /// The files deployed as `deployed_as`, by path.
    pub fn deployed_as(&self, deployed_as: DeployedAs) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter()
            .filter(move |(_, a)| a.deployed_as == deployed_as)
            .map(|(path, a)| (path, a.bytes.as_slice()))
    }
}
