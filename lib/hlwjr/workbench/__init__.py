"""The notebooks' workbench (工作台): ``open_workbench`` → ``Workbench`` and the display helpers
the notebooks and widgets share.
"""
