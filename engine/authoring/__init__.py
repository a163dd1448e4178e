"""The analyst's workbench in the engine: drafts and the editor, validation rules, SpiffWorkflow's
messages in Thai, import of diagrams drawn elsewhere, comparing versions and moving running work."""
