"""Service Bus emulator benchmark: send and receive throughput with the real client, and peak memory.

Runs the emulator as its own process (as users run it), sends N messages in batches over
loopback, then reads them back in peek-lock (receive + complete) and receive-and-delete modes,
and reports the emulator's peak resident memory with all N messages queued.

    python -m bench.servicebus_throughput [--messages 100000] [--body-bytes 100] [--persistent]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiveMode

REPOSITORY = Path(__file__).resolve().parents[1]
QUEUE = "bench"
CONFIG = {
    "UserConfig": {
        "Namespaces": [
            {
                "Name": "sbemulatorns",
                "Queues": [{"Name": QUEUE, "Properties": {"LockDuration": "PT5M", "MaxDeliveryCount": 10}}],
                "Topics": [],
            }
        ],
        "Logging": {"Type": "Console"},
    }
}


def _start(config_path: Path, data: Path | None) -> tuple[subprocess.Popen[str], str]:
    persistence = ["--data", str(data)] if data is not None else []
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.servicebus", "--config", str(config_path), "--port", "0", *persistence],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    if not ready:
        process.kill()
        raise SystemExit("the emulator did not start")
    return process, process.stdout.readline().strip()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _send(client: ServiceBusClient, count: int, body: bytes) -> float:
    started = time.perf_counter()
    sent = 0
    with client.get_queue_sender(QUEUE) as sender:
        while sent < count:
            batch = sender.create_message_batch()
            while sent < count:
                try:
                    batch.add_message(ServiceBusMessage(body, message_id=f"m-{sent}"))
                except ValueError:  # MessageSizeExceededError: the batch is full
                    break
                sent += 1
            sender.send_messages(batch)
    return count / (time.perf_counter() - started)


def _receive(client: ServiceBusClient, count: int, mode: ServiceBusReceiveMode, batch: int) -> float:
    started = time.perf_counter()
    received = 0
    with client.get_queue_receiver(QUEUE, receive_mode=mode, prefetch_count=batch) as receiver:
        while received < count:
            messages = receiver.receive_messages(max_message_count=batch, max_wait_time=5)
            if not messages:
                raise SystemExit(f"only {received} of {count} messages came back")
            if mode == ServiceBusReceiveMode.PEEK_LOCK:
                for message in messages:
                    receiver.complete_message(message)
            received += len(messages)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--body-bytes", type=int, default=100)
    parser.add_argument("--receive-batch", type=int, default=500)
    parser.add_argument("--persistent", action="store_true", help="run the emulator with --data (SQLite)")
    arguments = parser.parse_args()
    body = b"x" * arguments.body_bytes
    half = arguments.messages // 2
    with tempfile.TemporaryDirectory() as directory:
        config_path = Path(directory) / "config.json"
        config_path.write_text(json.dumps(CONFIG), encoding="utf-8")
        data = Path(directory) / "data" if arguments.persistent else None
        process, connection_string = _start(config_path, data)
        try:
            with ServiceBusClient.from_connection_string(connection_string) as client:
                send_rate = _send(client, arguments.messages, body)
                peak_mb = _peak_rss_mb(process.pid)
                peek_lock_rate = _receive(client, half, ServiceBusReceiveMode.PEEK_LOCK, arguments.receive_batch)
                delete_rate = _receive(
                    client, arguments.messages - half, ServiceBusReceiveMode.RECEIVE_AND_DELETE, arguments.receive_batch
                )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()
    storage = "SQLite under --data" if arguments.persistent else "in memory"
    print(f"messages:                          {arguments.messages} x {arguments.body_bytes} bytes, {storage}")
    print(f"send (batches):                    {send_rate:,.0f} messages/s")
    print(f"receive peek-lock + complete:      {peek_lock_rate:,.0f} messages/s")
    print(f"receive-and-delete:                {delete_rate:,.0f} messages/s")
    print(f"emulator peak memory, all queued:  {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
