"""Importing the platform's interface documents (接口文档导入): Word (.docx) and Excel
(.xlsx) tables → a spec directory plus an import report.
"""
