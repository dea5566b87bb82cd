"""crisis-ct: counter-trafficking risk and mitigation coordination for humanitarian crises."""
__version__ = "0.1.0"
