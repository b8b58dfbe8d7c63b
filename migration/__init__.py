"""The migration domain: plan schema, stages, per-provider scenarios, events, errors and the ASR adapter.

Importable without ``azure.functions``: orchestrators, activities, triggers and the command line all use it.
"""
