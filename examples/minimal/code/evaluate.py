"""evaluate step of the minimal example; see the pipeline definition for its arguments."""

raise SystemExit("not implemented yet")
