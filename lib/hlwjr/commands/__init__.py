"""The command line's areas (``hlwjr <area> …``): one module per area, each with
``register(subparsers)``; ``hlwjr.cli`` lists them. Thin shells over the library.
"""
