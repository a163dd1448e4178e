"""Khanton's engine: procedure definitions, instances, persistence. Imports nothing from Flask or web."""
