//! Facts about AWS that mlopsc checks against: SageMaker instance types and regions.
//!
//! Kept as data, not logic, so that a new instance family is a one-line change.

/// What a SageMaker instance family offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    pub sizes: &'static [&'static str],
    /// NVIDIA GPUs.
    pub gpu: bool,
    /// Allowed for training jobs.
    pub training: bool,
    /// Allowed for processing jobs (and so for Model Monitor).
    pub processing: bool,
    /// Allowed for real-time endpoints.
    pub hosting: bool,
}

const fn family(
    name: &'static str,
    sizes: &'static [&'static str],
    gpu: bool,
    training: bool,
    processing: bool,
    hosting: bool,
) -> Family {
    Family {
        name,
        sizes,
        gpu,
        training,
        processing,
        hosting,
    }
}

const M5: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge",
];
const M6I: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
    "32xlarge",
];
const C5: &[&str] = &["xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"];
const G4DN: &[&str] = &[
    "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
];
const G5: &[&str] = &[
    "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge",
];

/// SageMaker instance families, for training, processing and hosting.
pub const FAMILIES: &[Family] = &[
    family(
        "ml.t3",
        &["medium", "large", "xlarge", "2xlarge"],
        false,
        false,
        true,
        true,
    ),
    family(
        "ml.m4",
        &["xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"],
        false,
        true,
        true,
        true,
    ),
    family("ml.m5", M5, false, true, true, true),
    family("ml.m5d", M5, false, false, true, true),
    family("ml.m6i", M6I, false, true, true, true),
    family(
        "ml.m7i",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
            "48xlarge",
        ],
        false,
        true,
        true,
        true,
    ),
    family(
        "ml.c4",
        &["xlarge", "2xlarge", "4xlarge", "8xlarge"],
        false,
        true,
        true,
        true,
    ),
    family("ml.c5", C5, false, true, true, true),
    family(
        "ml.c5n",
        &["xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"],
        false,
        true,
        false,
        false,
    ),
    family("ml.c6i", M6I, false, true, true, true),
    family("ml.r5", M5, false, true, true, true),
    family("ml.r6i", M6I, false, true, true, true),
    family(
        "ml.p3",
        &["2xlarge", "8xlarge", "16xlarge"],
        true,
        true,
        true,
        true,
    ),
    family("ml.p3dn", &["24xlarge"], true, true, false, false),
    family("ml.p4d", &["24xlarge"], true, true, false, true),
    family("ml.p4de", &["24xlarge"], true, true, false, false),
    family("ml.p5", &["48xlarge"], true, true, false, true),
    family("ml.g4dn", G4DN, true, true, true, true),
    family("ml.g5", G5, true, true, true, true),
    family("ml.g6", G5, true, true, true, true),
    family("ml.g6e", G5, true, true, true, true),
    family(
        "ml.trn1",
        &["2xlarge", "32xlarge"],
        false,
        true,
        false,
        false,
    ),
    family(
        "ml.inf2",
        &["xlarge", "8xlarge", "24xlarge", "48xlarge"],
        false,
        false,
        false,
        true,
    ),
];

/// Instance types that run the SageMaker distributed data parallel library.
pub const SMDDP_INSTANCES: &[&str] = &["ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge"];

/// Where an instance is used; each use allows a different set of types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Training,
    Processing,
    Hosting,
}

impl Use {
    pub fn describe(self) -> &'static str {
        match self {
            Use::Training => "training jobs",
            Use::Processing => "processing jobs",
            Use::Hosting => "real-time endpoints",
        }
    }

    fn allows(self, family: &Family) -> bool {
        match self {
            Use::Training => family.training,
            Use::Processing => family.processing,
            Use::Hosting => family.hosting,
        }
    }
}

/// The family of a known instance type, such as `ml.g5.2xlarge`.
pub fn lookup(instance_type: &str) -> Option<&'static Family> {
    let (family, size) = instance_type.rsplit_once('.')?;
    FAMILIES
        .iter()
        .find(|f| f.name == family && f.sizes.contains(&size))
}

/// Every instance type that a use allows, for suggestions.
pub fn instance_types(usage: Use) -> Vec<String> {
    FAMILIES
        .iter()
        .filter(|f| usage.allows(f))
        .flat_map(|f| f.sizes.iter().map(move |s| format!("{}.{s}", f.name)))
        .collect()
}

pub fn allows(usage: Use, family: &Family) -> bool {
    usage.allows(family)
}

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
