"""The analyst's workbench in the engine: validation rules, SpiffWorkflow's messages in Thai, import."""
