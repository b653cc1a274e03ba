//! "Did you mean" suggestions for misspelled keys, values and names, and the wording of counts.

/// The closest candidate to `input`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input_lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&input_lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `1 file`, `3 files`: a count with its noun, for messages and labels.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_matches_only() {
        let keys = ["instanceType", "instanceCount", "volumeSizeGb"];
        assert_eq!(did_you_mean("instanceTyp", keys), Some("instanceType"));
        assert_eq!(did_you_mean("instancecount", keys), Some("instanceCount"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
