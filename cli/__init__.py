"""The command line: run a plan on the local emulators, or drive a deployed Function App."""
