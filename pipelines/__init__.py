"""Sunset Radar: which teams still call deprecated LLM models, and what it costs."""
