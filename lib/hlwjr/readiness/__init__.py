"""Readiness (验证日志 / 达标): the verdict from the ledger and the evidence pack."""
