"""Tests of the activity functions, each through its blueprint against the stand-in it talks to."""
