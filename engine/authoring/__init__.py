"""The analyst's workbench: drafts of procedures kept on the server, checking them, publishing them."""
