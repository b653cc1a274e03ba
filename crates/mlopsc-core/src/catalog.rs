//! Facts about AWS that mlopsc checks against: SageMaker instance types and regions.
//!
//! The instance types come from botocore's SageMaker service model
//! (`scripts/gen-catalog.py` writes `catalog/instance_types.rs`); what the model does not say
//! about them (accelerators, NVMe instance storage) is in one table below, per family.

mod instance_types;

use instance_types::INSTANCE_TYPES;

/// Where an instance runs. SageMaker checks the type against a different list for each
/// (`ProcessingInstanceType`, `TrainingInstanceType`, `TransformInstanceType`,
/// `ProductionVariantInstanceType`), so a type valid for one use can be refused by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Processing jobs: preprocessing, evaluation, Model Monitor, processing custom steps.
    Processing,
    Training,
    /// Batch transform jobs.
    Transform,
    /// Real-time endpoints.
    Endpoint,
}

impl Use {
    /// The jobs or resources of this use, as in "training jobs do not accept it".
    pub fn describe(self) -> &'static str {
        match self {
            Use::Processing => "processing jobs",
            Use::Training => "training jobs",
            Use::Transform => "batch transform jobs",
            Use::Endpoint => "real-time endpoints",
        }
    }

    /// The use as an adjective, as in "a real-time endpoint instance type".
    pub fn adjective(self) -> &'static str {
        match self {
            Use::Processing => "processing",
            Use::Training => "training",
            Use::Transform => "batch transform",
            Use::Endpoint => "real-time endpoint",
        }
    }
}

/// The uses SageMaker lists `instance_type` for, or `None` when it lists it for none.
pub fn uses(instance_type: &str) -> Option<&'static [Use]> {
    INSTANCE_TYPES
        .binary_search_by(|(name, _)| (*name).cmp(instance_type))
        .ok()
        .map(|i| INSTANCE_TYPES[i].1)
}

/// Every instance type that a use accepts, in name order, for suggestions.
pub fn instance_types(usage: Use) -> impl Iterator<Item = &'static str> {
    INSTANCE_TYPES
        .iter()
        .filter(move |(_, uses)| uses.contains(&usage))
        .map(|(name, _)| *name)
}

/// The family of an instance type: `g5` of `ml.g5.2xlarge`, `p6-b200` of `ml.p6-b200.48xlarge`.
pub fn family(instance_type: &str) -> Option<&str> {
    let (family, _size) = instance_type.strip_prefix("ml.")?.rsplit_once('.')?;
    Some(family)
}

/// The accelerator chips of an instance family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accelerator {
    None,
    /// NVIDIA GPUs, which the `gpu` Deep Learning Containers and CUDA training need.
    NvidiaGpu,
    /// AWS Trainium, programmed through the Neuron SDK.
    Trainium,
    /// AWS Inferentia, programmed through the Neuron SDK.
    Inferentia,
    /// Habana Gaudi.
    Gaudi,
}

/// What an instance family has that the SageMaker API does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyFacts {
    pub family: &'static str,
    pub accelerator: Accelerator,
    /// Local NVMe instance storage. SageMaker encrypts it with a hardware key and refuses a
    /// KMS key for it: `VolumeKmsKeyId` on jobs, `KmsKeyId` on endpoint configs.
    pub nvme: bool,
}

const fn facts(family: &'static str, accelerator: Accelerator, nvme: bool) -> FamilyFacts {
    FamilyFacts {
        family,
        accelerator,
        nvme,
    }
}

/// One entry per family of the generated catalog (a test keeps them equal), and the one
/// place every check and emitter reads accelerators and instance storage from.
/// Source of truth: the Amazon EC2 instance type specifications
/// (https://docs.aws.amazon.com/ec2/latest/instancetypes/), "Accelerators" and "Instance
/// store" of each family; the same facts as EC2 `DescribeInstanceTypes` (`GpuInfo`,
/// `NeuronInfo`, `InstanceStorageSupported`).
const FAMILY_FACTS: &[FamilyFacts] = {
    use Accelerator::{Gaudi, Inferentia, NvidiaGpu, Trainium};
    const CPU: Accelerator = Accelerator::None;
    &[
        facts("c4", CPU, false),
        facts("c5", CPU, false),
        facts("c5d", CPU, true),
        facts("c5n", CPU, false),
        facts("c6g", CPU, false),
        facts("c6gd", CPU, true),
        facts("c6gn", CPU, false),
        facts("c6i", CPU, false),
        facts("c6in", CPU, false),
        facts("c7g", CPU, false),
        facts("c7i", CPU, false),
        facts("c7i-flex", CPU, false),
        facts("c8g", CPU, false),
        facts("c8i", CPU, false),
        facts("c8i-flex", CPU, false),
        facts("dl1", Gaudi, true),
        facts("g4dn", NvidiaGpu, true),
        facts("g5", NvidiaGpu, true),
        facts("g6", NvidiaGpu, true),
        facts("g6e", NvidiaGpu, true),
        facts("g7", NvidiaGpu, true),
        facts("g7e", NvidiaGpu, true),
        facts("inf1", Inferentia, false),
        facts("inf2", Inferentia, false),
        facts("m4", CPU, false),
        facts("m5", CPU, false),
        facts("m5d", CPU, true),
        facts("m6g", CPU, false),
        facts("m6gd", CPU, true),
        facts("m6i", CPU, false),
        facts("m7i", CPU, false),
        facts("m7i-flex", CPU, false),
        facts("m8g", CPU, false),
        facts("m8i", CPU, false),
        facts("m8i-flex", CPU, false),
        facts("p2", NvidiaGpu, false),
        facts("p3", NvidiaGpu, false),
        facts("p3dn", NvidiaGpu, true),
        facts("p4d", NvidiaGpu, true),
        facts("p4de", NvidiaGpu, true),
        facts("p5", NvidiaGpu, true),
        facts("p5e", NvidiaGpu, true),
        facts("p5en", NvidiaGpu, true),
        facts("p6-b200", NvidiaGpu, true),
        facts("p6-b300", NvidiaGpu, true),
        facts("p6e-gb200", NvidiaGpu, true),
        facts("r5", CPU, false),
        facts("r5d", CPU, true),
        facts("r6g", CPU, false),
        facts("r6gd", CPU, true),
        facts("r6i", CPU, false),
        facts("r7gd", CPU, true),
        facts("r7i", CPU, false),
        facts("r8g", CPU, false),
        facts("r8i", CPU, false),
        facts("r8i-flex", CPU, false),
        facts("t2", CPU, false),
        facts("t3", CPU, false),
        facts("trn1", Trainium, true),
        facts("trn1n", Trainium, true),
        facts("trn2", Trainium, true),
    ]
};

/// The facts of an instance type's family; `None` for a type outside the catalog.
pub fn family_facts(instance_type: &str) -> Option<&'static FamilyFacts> {
    let family = family(instance_type)?;
    FAMILY_FACTS.iter().find(|f| f.family == family)
}

/// Whether the instance has NVIDIA GPUs.
pub fn has_gpu(instance_type: &str) -> bool {
    family_facts(instance_type).is_some_and(|f| f.accelerator == Accelerator::NvidiaGpu)
}

/// Whether the instance has NVMe instance storage, which takes no KMS key.
pub fn has_nvme(instance_type: &str) -> bool {
    family_facts(instance_type).is_some_and(|f| f.nvme)
}

/// Instance types that run the SageMaker distributed data parallel library.
pub const SMDDP_INSTANCES: &[&str] = &["ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge"];

/// Commercial AWS regions where SageMaker Pipelines runs.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-south-1",
    "sa-east-1",
];

/// PyTorch versions with SageMaker training Deep Learning Containers, and their Python tags.
pub const PYTORCH_VERSIONS: &[(&str, &str)] = &[
    ("1.13.1", "py39"),
    ("2.0.1", "py310"),
    ("2.1.0", "py310"),
    ("2.2.0", "py310"),
    ("2.3.0", "py311"),
    ("2.4.0", "py311"),
    ("2.5.1", "py311"),
    ("2.6.0", "py312"),
];

/// TensorFlow versions with SageMaker training Deep Learning Containers.
pub const TENSORFLOW_VERSIONS: &[(&str, &str)] = &[
    ("2.13.0", "py310"),
    ("2.14.1", "py310"),
    ("2.16.2", "py310"),
    ("2.18.0", "py310"),
];

/// SageMaker built-in XGBoost container versions.
pub const XGBOOST_VERSIONS: &[&str] = &["1.5-1", "1.7-1", "3.0-5"];

/// SageMaker scikit-learn container versions.
pub const SKLEARN_VERSIONS: &[&str] = &["1.0-1", "1.2-1"];

/// The account that publishes AWS Deep Learning Containers in every region above.
pub const DLC_ACCOUNT: &str = "763104351884";

/// Per-region accounts of the SageMaker first-party containers: (region, XGBoost and
/// scikit-learn account, Model Monitor analyzer account).
pub const FIRST_PARTY_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("us-east-1", "683313688378", "156813124566"),
    ("us-east-2", "257758044811", "777275614652"),
    ("us-west-1", "746614075791", "890145073186"),
    ("us-west-2", "246618743249", "159807026194"),
    ("ca-central-1", "341280168497", "536280801234"),
    ("eu-west-1", "141502667606", "468650794304"),
    ("eu-west-2", "764974769150", "749857270468"),
    ("eu-west-3", "659782779980", "680080141114"),
    ("eu-central-1", "492215442770", "048819808253"),
    ("eu-north-1", "662702820516", "895015795356"),
    ("ap-northeast-1", "354813040037", "574779866223"),
    ("ap-northeast-2", "366743142698", "709848358524"),
    ("ap-southeast-1", "121021644041", "245545462676"),
    ("ap-southeast-2", "783357654285", "563025443158"),
    ("ap-south-1", "720646828776", "126357580389"),
    ("sa-east-1", "737474898029", "539772159869"),
];

/// The account of SageMaker's XGBoost and scikit-learn images in a region.
pub fn first_party_account(region: &str) -> &'static str {
    FIRST_PARTY_ACCOUNTS
        .iter()
        .find(|(r, _, _)| *r == region)
        .map_or(FIRST_PARTY_ACCOUNTS[0].1, |(_, account, _)| account)
}

/// The account of the Model Monitor analyzer image in a region.
pub fn model_monitor_account(region: &str) -> &'static str {
    FIRST_PARTY_ACCOUNTS
        .iter()
        .find(|(r, _, _)| *r == region)
        .map_or(FIRST_PARTY_ACCOUNTS[0].2, |(_, _, account)| account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types_are_sorted_and_unique_for_binary_search() {
        for pair in INSTANCE_TYPES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
    }

    #[test]
    fn every_catalog_family_has_facts_and_every_fact_a_catalog_family() {
        let mut families: Vec<&str> = INSTANCE_TYPES
            .iter()
            .map(|(name, _)| family(name).unwrap_or(name))
            .collect();
        families.dedup();
        let missing: Vec<&&str> = families
            .iter()
            .filter(|f| !FAMILY_FACTS.iter().any(|facts| facts.family == **f))
            .collect();
        assert!(
            missing.is_empty(),
            "the SageMaker model has instance families without an entry in FAMILY_FACTS \
             (src/catalog.rs): {missing:?}. Add each with its accelerator and whether it has NVMe \
             instance storage, from https://docs.aws.amazon.com/ec2/latest/instancetypes/"
        );
        let unused: Vec<&str> = FAMILY_FACTS
            .iter()
            .map(|f| f.family)
            .filter(|f| !families.contains(f))
            .collect();
        assert!(
            unused.is_empty(),
            "FAMILY_FACTS (src/catalog.rs) has families that SageMaker no longer lists: {unused:?}; remove them"
        );
        for (i, facts) in FAMILY_FACTS.iter().enumerate() {
            assert!(
                !FAMILY_FACTS[..i].iter().any(|f| f.family == facts.family),
                "{} is in FAMILY_FACTS twice",
                facts.family
            );
        }
    }

    #[test]
    fn families_with_dashes_and_suffixes_are_found() {
        assert_eq!(family("ml.p6-b200.48xlarge"), Some("p6-b200"));
        assert_eq!(family("ml.c7i-flex.large"), Some("c7i-flex"));
        assert_eq!(family("g5.2xlarge"), None);
        assert!(has_gpu("ml.p6e-gb200.36xlarge"));
        assert!(!has_gpu("ml.trn1.2xlarge"));
        assert!(has_nvme("ml.trn1.32xlarge"));
        assert!(has_nvme("ml.g5.2xlarge"));
        assert!(has_nvme("ml.g4dn.xlarge"));
        assert!(has_nvme("ml.m5d.large"));
        assert!(!has_nvme("ml.m5.xlarge"));
        assert!(!has_nvme("ml.c5.xlarge"));
        assert!(!has_nvme("ml.inf2.xlarge"));
        // Not a SageMaker instance type at all, so not a fact mlopsc keeps.
        assert_eq!(uses("ml.m6id.large"), None);
    }

    #[test]
    fn uses_come_from_the_right_enums() {
        assert_eq!(uses("ml.c5.large"), Some(&[Use::Endpoint][..]));
        assert_eq!(uses("ml.t2.medium"), Some(&[Use::Endpoint][..]));
        assert_eq!(
            uses("ml.m5.xlarge"),
            Some(
                &[
                    Use::Processing,
                    Use::Training,
                    Use::Transform,
                    Use::Endpoint
                ][..]
            )
        );
        assert_eq!(uses("ml.m5.larg"), None);
    }
}
