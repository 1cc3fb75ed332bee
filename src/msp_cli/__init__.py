"""msp: administration for cloud resellers and managed service providers."""

__version__ = "0.1.0"
