"""Tests of the local stand-ins for Azure: the Functions host, Service Bus and Site Recovery."""
