"""evaluate step of the skin-lesion example; see the pipeline definition for its arguments."""

raise SystemExit("not implemented yet")
