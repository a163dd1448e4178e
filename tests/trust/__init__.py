"""The trust battery (#13): hostile, faulty and concurrent tests over every page and endpoint."""
