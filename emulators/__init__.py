"""Local stand-ins for the Azure services the app talks to; each runs on its own and is independent of the app."""
