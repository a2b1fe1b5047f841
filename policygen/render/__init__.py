"""Renderers: policies and scan results -> text in the formats users ask for."""
