"""Helpers shared by tests of several layers: published ASR examples, SDK tables, a small HTTP client."""
