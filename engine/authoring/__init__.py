"""The analyst's workbench: drafts and the editor's checks, comparing versions, moving running work."""
