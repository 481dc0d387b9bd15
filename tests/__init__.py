"""Tests for the Daybreak Home Assistant integration."""
