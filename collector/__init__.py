"""collector: gather show/debug output from network devices and deliver it to a support case.

Transport → session → runner → store → bundle → upload; see README.md.
"""

__version__ = "0.1.0"
