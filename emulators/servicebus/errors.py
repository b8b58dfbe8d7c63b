"""Broker errors, each carrying the AMQP condition the client maps to its own exception.

The conditions are the ones Service Bus sends, so ``azure-servicebus`` raises the same exception
type against this emulator as against Azure (``amqp:not-found`` becomes
``MessagingEntityNotFoundError``, ``com.microsoft:message-lock-lost`` becomes
``MessageLockLostError``, ``amqp:link:message-size-exceeded`` becomes ``MessageSizeExceededError``).
"""

from __future__ import annotations


class BrokerError(Exception):
    """Base: an operation refused with an AMQP error condition and a management status code."""

    condition = "amqp:internal-error"
    status_code = 500

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class EntityNotFound(BrokerError):
    condition = "amqp:not-found"
    status_code = 404


class MessageLockLost(BrokerError):
    condition = "com.microsoft:message-lock-lost"
    status_code = 410


class MessageNotFound(BrokerError):
    condition = "com.microsoft:message-not-found"
    status_code = 404


class MessageSizeExceeded(BrokerError):
    condition = "amqp:link:message-size-exceeded"
    status_code = 413


class InvalidRequest(BrokerError):
    condition = "com.microsoft:argument-error"
    status_code = 400


class NotAllowed(BrokerError):
    condition = "amqp:not-allowed"
    status_code = 403
