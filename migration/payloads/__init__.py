"""The typed inputs and outputs that cross a Durable function boundary, each defined once for both sides.

Durable Functions keeps every input and output in the instance's history as plain JSON, and a replay must read back
exactly what an earlier episode wrote. So each payload here is a frozen dataclass that the caller builds and sends
as ``to_dict()`` (camelCase, the keys the history has always held) and the callee reads with ``from_dict``, which
names the payload and the key when a required one is missing. Defaults (``timeScale`` 1.0, attempt 0) are applied
in ``from_dict`` alone. The modules are pure (no I/O, no clocks), so orchestrators may use them.
"""
