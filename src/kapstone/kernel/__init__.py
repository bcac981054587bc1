"""The shell's shared kernel: small building blocks every app may use, one module per concept.

The kernel imports Django and nothing of the apps, so any app can build on it without a cycle.
"""
