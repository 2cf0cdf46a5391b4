"""A local stand-in for the Sophos Central legacy SIEM API, as a real HTTP server.

Standard library only, so it runs standalone, under Django and inside benchmarks.
"""

from .simulator import Simulator

__all__ = ["Simulator"]
