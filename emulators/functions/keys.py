"""Function, master and system keys, kept in the real host's file-based secrets format.

The host stores its keys in ``host.json`` under its secrets folder (``masterKey``, ``functionKeys``,
``systemKeys``). We keep the same shape in ``<data>/secrets/host.json`` so keys survive restarts, generate
them when the file is absent, and let settings pin them (``FUNCTIONS_MASTER_KEY``, ``FUNCTIONS_FUNCTION_KEY``)
so tests and scripts can use known values.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYSTEM_KEY_NAME = "durabletask_extension"


def _new_key() -> str:
    # The host generates 40 random bytes rendered as URL-safe base64 ending in "==".
    return base64.urlsafe_b64encode(secrets.token_bytes(40)).decode("ascii").rstrip("=") + "=="


@dataclass(frozen=True)
class HostKeys:
    master: str
    function_keys: dict[str, str]
    system_keys: dict[str, str]

    @property
    def default_function_key(self) -> str:
        return self.function_keys["default"]

    @property
    def durable_system_key(self) -> str:
        return self.system_keys[SYSTEM_KEY_NAME]

    def allows(self, level: str, presented: str | None) -> bool:
        """Whether ``presented`` satisfies ``level`` ("anonymous", "function", "admin"), compared in constant time."""
        if level == "anonymous":
            return True
        if not presented:
            return False
        candidates = [self.master]
        if level == "function":
            candidates += list(self.function_keys.values())
        elif level == "system":
            candidates += list(self.system_keys.values())
        return any(hmac.compare_digest(presented.encode(), c.encode()) for c in candidates)


def _entry(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "encrypted": False}


def load_or_create_keys(secrets_dir: Path, settings: dict[str, str]) -> HostKeys:
    """Read keys from ``secrets_dir/host.json``, creating the file with fresh keys when absent.

    Settings override the stored master and default function key without rewriting the file.
    """
    path = secrets_dir / "host.json"
    doc: dict[str, Any] | None = None
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("masterKey"), dict):
                doc = loaded
        except json.JSONDecodeError:
            doc = None
    if doc is None:
        doc = {
            "masterKey": _entry("master", _new_key()),
            "functionKeys": [_entry("default", _new_key())],
            "systemKeys": [_entry(SYSTEM_KEY_NAME, _new_key())],
            "hostName": "localhost",
            "instanceId": secrets.token_hex(16),
            "source": "runtime",
            "decryptionKeyId": "",
        }
        secrets_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    master = str(doc["masterKey"]["value"])
    fkeys = {str(e["name"]): str(e["value"]) for e in doc.get("functionKeys", [])}
    skeys = {str(e["name"]): str(e["value"]) for e in doc.get("systemKeys", [])}
    fkeys.setdefault("default", _new_key())
    skeys.setdefault(SYSTEM_KEY_NAME, _new_key())
    if settings.get("FUNCTIONS_MASTER_KEY"):
        master = settings["FUNCTIONS_MASTER_KEY"]
    if settings.get("FUNCTIONS_FUNCTION_KEY"):
        fkeys["default"] = settings["FUNCTIONS_FUNCTION_KEY"]
    return HostKeys(master=master, function_keys=fkeys, system_keys=skeys)
