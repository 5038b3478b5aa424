"""Fakes of outside services, run for real on 127.0.0.1."""
