# Sourced by the checks: what a build in a generated/ directory holds.

# built DIR NAME: whether DIR's manifest.json lists the file NAME, as every file the build
# wrote is listed. A consuming environment (`modelsFrom`) has no retraining machine or
# training pipeline; a listed file that is missing is the check's finding, not a skip.
built() {
  grep -q "\"$2\":" "$1/manifest.json"
}
