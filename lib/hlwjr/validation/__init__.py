"""Validation (强制校验): the spec's field and record rules run over records, problems and
reports.
"""
