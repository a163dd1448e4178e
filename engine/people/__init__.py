"""People and access: lanes as data, passwords, the audit trail and the admin's changes to people."""
