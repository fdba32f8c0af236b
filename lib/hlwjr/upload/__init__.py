"""Upload (测试数据上传): the platform client and its profiles, the ledger, the uploader,
and the project (``hlwjr.toml``).
"""
