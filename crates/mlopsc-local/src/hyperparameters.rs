//! Hyperparameters as the SageMaker training toolkit hands them to a script.
//!
//! SageMaker stores every hyperparameter as a string. The toolkit JSON-decodes each one
//! (keeping the raw string when it is not JSON), drops the `sagemaker_*` ones, and turns
//! the rest into `--name value` arguments sorted by name, with Python's `str()` of the
//! decoded value: `"true"` reaches the script as `True`, `"1e-3"` as `0.001`. Scripts
//! must parse what the toolkit passes, so the runner reproduces it exactly.

use std::collections::BTreeMap;

use serde_json::Value;

/// The user hyperparameters, decoded as the toolkit decodes them (`sagemaker_*` removed).
pub fn decode(raw: &BTreeMap<String, String>) -> BTreeMap<String, Value> {
    raw.iter()
        .filter(|(name, _)| !name.starts_with("sagemaker_"))
        .map(|(name, text)| (name.clone(), json_loads(text)))
        .collect()
}

/// Python's `json.loads`, falling back to the string itself as the toolkit does.
pub fn json_loads(text: &str) -> Value {
    match text.trim() {
        // Python's json accepts these three; serde_json does not. Kept as strings, and
        // `python_str` renders them the way Python prints the floats.
        "NaN" => Value::String("nan".into()),
        "Infinity" => Value::String("inf".into()),
        "-Infinity" => Value::String("-inf".into()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

/// The command-line arguments: `--name value` pairs sorted by name (`-n` for a one-letter
/// name); a mapping value becomes `k=v,k=v`.
pub fn to_cmd_args(decoded: &BTreeMap<String, Value>) -> Vec<String> {
    let mut args = Vec::with_capacity(decoded.len() * 2);
    for (name, value) in decoded {
        args.push(if name.chars().count() > 1 {
            format!("--{name}")
        } else {
            format!("-{name}")
        });
        args.push(match value {
            Value::Object(map) => map
                .iter()
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .map(|(k, v)| format!("{k}={}", python_str(v)))
                .collect::<Vec<_>>()
                .join(","),
            // `_decode(None)` is the empty string.
            Value::Null => String::new(),
            other => python_str(other),
        });
    }
    args
}

/// `json.dumps(value, sort_keys=True, separators=(",", ":"))`, the toolkit's `SM_*` values.
pub fn compact_json(value: &Value) -> String {
    // serde_json's maps keep insertion order here (preserve_order), so sort explicitly.
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Python's `str()` of a decoded JSON value.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a decoded JSON value.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => python_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, positional for decimal
/// exponents from -4 to 15 (always with a fractional part), scientific otherwise.
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: `1.2345e2`, `-5e-5`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let (whole, fraction) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat((-point) as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let fraction = if fraction.is_empty() {
            "0".to_string()
        } else {
            fraction
        };
        format!("{sign}{whole}.{fraction}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values are what `sagemaker_training.mapping.to_cmd_args` prints for
    /// `read_hyperparameters()` of the same `hyperparameters.json` under CPython 3.11.
    #[test]
    fn arguments_match_the_training_toolkit() {
        let raw: BTreeMap<String, String> = [
            ("pretrained", "true"),
            ("freeze", "false"),
            ("epochs", "5"),
            ("lr", "1e-3"),
            ("tiny", "0.00001"),
            ("big", "1e16"),
            ("ratio", "2.50"),
            ("whole", "3.0"),
            ("architecture", "resnet18"),
            ("quoted", "\"text\""),
            ("sizes", "[1, 2.0, \"a\"]"),
            ("mapping", "{\"b\": 2, \"a\": true}"),
            ("nothing", "null"),
            ("x", "7"),
            ("sagemaker_program", "train.py"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let args = to_cmd_args(&decode(&raw));
        let expected = [
            "--architecture",
            "resnet18",
            "--big",
            "1e+16",
            "--epochs",
            "5",
            "--freeze",
            "False",
            "--lr",
            "0.001",
            "--mapping",
            "a=True,b=2",
            "--nothing",
            "",
            "--pretrained",
            "True",
            "--quoted",
            "text",
            "--ratio",
            "2.5",
            "--sizes",
            "[1, 2.0, 'a']",
            "--tiny",
            "1e-05",
            "--whole",
            "3.0",
            "-x",
            "7",
        ];
        assert_eq!(args, expected);
    }

    #[test]
    fn floats_print_as_python_repr() {
        for (f, text) in [
            (0.1, "0.1"),
            (100.0, "100.0"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1.5e-7, "1.5e-07"),
            (1e22, "1e+22"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
        ] {
            assert_eq!(python_float(f), text, "{f}");
        }
    }

    #[test]
    fn sm_hps_is_sorted_compact_json() {
        let value: Value =
            serde_json::from_str(r#"{"b": [1, {"z": 1, "a": 2}], "a": "x"}"#).unwrap();
        assert_eq!(compact_json(&value), r#"{"a":"x","b":[1,{"a":2,"z":1}]}"#);
    }
}
